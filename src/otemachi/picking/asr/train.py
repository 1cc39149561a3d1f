"""Training the recurrent recogniser with CTC on speech espeak-ng and Festival made from the
domain's texts, with the core epoch loop: length-sorted batches, SpecAugment masks, and the
weights of the epoch with the lowest loss on held-back utterances of training voices (test voices
are never seen)."""

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from otemachi.core.errors import InvalidInput, ModelNotTrained
from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.core.training import Plan, fit
from otemachi.picking import audio
from otemachi.picking.asr import Recogniser, beam, ctc, data, lexicon, models, timing, wer
from otemachi.picking.asr.data import Utterance
from otemachi.picking.asr.ngram import NGram
from otemachi.picking.asr.sphinx import PocketSphinx

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # feats, lens, targets, tlens


@dataclass(frozen=True)
class ASRConfig:
    sentences: int = 3000  # generator scenes the corpus is drawn from
    utterances: int = 9000  # training utterances synthesised
    checks: int = 200  # held-back sentences: validation (training voices) and test (new voices)
    festival: float = 0.3  # share of training utterances Festival speaks (the rest: espeak-ng)
    epochs: int = 15
    lr: float = 2e-3
    batch: int = 24
    seed: int = 0
    model: ctc.CTCConfig = field(default_factory=ctc.CTCConfig)


def featurise(utts: list[Utterance], mels: int) -> list[tuple[torch.Tensor, list[int]]]:
    return [(ctc.features(u.samples, mels).half(), ctc.encode(u.text)) for u in utts]


def _pad(items: list[tuple[torch.Tensor, list[int]]]) -> Batch:
    feats = nn.utils.rnn.pad_sequence([f.float() for f, _ in items], batch_first=True)
    lens = torch.tensor([len(f) for f, _ in items])
    targets = torch.tensor([c for _, t in items for c in t])
    tlens = torch.tensor([len(t) for _, t in items])
    return feats, lens, targets, tlens


def _mask(feats: torch.Tensor, g: np.random.Generator) -> torch.Tensor:
    """SpecAugment: two frequency bands and two time spans per utterance set to zero."""
    out = feats.clone()
    b, t, m = out.shape
    for i in range(b):
        for _ in range(2):
            f0, fw = int(g.integers(m)), int(g.integers(0, 9))
            out[i, :, f0 : f0 + fw] = 0
            t0, tw = int(g.integers(t)), int(g.integers(0, 16))
            out[i, t0 : t0 + tw] = 0
    return out


def batches(
    data: list[tuple[torch.Tensor, list[int]]], size: int, g: np.random.Generator
) -> Iterator[Batch]:
    """Batches of similar length in random order, masked."""
    order = np.argsort([len(f) + g.uniform(0, 40) for f, _ in data])
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    for j in g.permutation(len(chunks)):
        feats, lens, targets, tlens = _pad([data[i] for i in chunks[j]])
        yield _mask(feats, g), lens, targets, tlens


_ctc_loss = nn.CTCLoss(blank=ctc.BLANK, zero_infinity=True)


def loss(model: ctc.CTCModel, batch: Batch) -> torch.Tensor:
    feats, lens, targets, tlens = batch
    logp = model(feats, lens)
    return _ctc_loss(logp.transpose(0, 1), targets, model.steps(lens).clamp(min=1), tlens)


def train(
    cfg: ASRConfig,
    data: list[tuple[torch.Tensor, list[int]]],
    val: list[tuple[torch.Tensor, list[int]]],
) -> ctc.CTCModel:
    g = rng(cfg.seed, "picking", "asr-train")
    val_batches = [_pad(val[i : i + 64]) for i in range(0, len(val), 64)]

    def validate(model: ctc.CTCModel) -> float:
        model.eval()
        with torch.no_grad():
            v = float(np.mean([loss(model, b) for b in val_batches]))
        return v

    steps = -(-len(data) // cfg.batch)
    plan = Plan(cfg.epochs, cfg.lr, "adamw", weight_decay=1e-4, one_cycle=True, clip=5.0)
    return fit(
        lambda: ctc.build(cfg.model), plan, lambda: batches(data, cfg.batch, g), loss,
        seed=cfg.seed, description="train speech recogniser", steps_per_epoch=steps,
        validate=validate,
    )  # fmt: skip


def texts(cfg: ASRConfig) -> list[str]:
    """What the recogniser hears in training: every generated instruction and answer (held-out
    phrasings too: the voices are what the recogniser is tested on) and the domain's phrases."""
    return lexicon.sentences(cfg.sentences, cfg.seed, holdout=frozenset()) + lexicon.phrases()


def evaluate(recognisers: list[Recogniser], utts: list[Utterance]) -> dict[str, dict[str, float]]:
    """WER, median and 95th-percentile time and real-time factor of each recogniser."""
    out = {}
    for r in recognisers:
        got = [r.transcribe(u.samples) for u in track(utts, f"transcribing with {r.name}")]
        seconds = sum(len(u.samples) for u in utts) / audio.RATE
        out[r.name] = {
            "wer": round(wer([(u.text, t.text) for u, t in zip(utts, got, strict=True)]), 4),
            **timing([t.ms for t in got], seconds),
        }
    return out


GRID = ((0.3, 0.5), (0.4, 1.0), (0.5, 0.5), (0.6, 1.0), (0.8, 1.5), (1.0, 2.0))


def tune(
    model: ctc.CTCModel,
    lm: NGram,
    val: list[tuple[torch.Tensor, list[int]]],
    texts: list[str],
) -> models.Decoding:
    """The language-model weight and word bonus with the lowest WER on the validation
    utterances (training voices; the test voices play no part); ``texts`` are what they say."""
    with torch.no_grad():
        logps = [model(f.float()[None], torch.tensor([len(f)]))[0].numpy() for f, _ in val]
    best, best_wer = models.Decoding(), float("inf")
    for alpha, beta in track(GRID, "tuning the language-model weight"):
        d = models.Decoding(alpha=alpha, beta=beta)
        said = [" ".join(beam.decode(lp, lm, d.width, alpha, beta).words) for lp in logps]
        w = wer(list(zip(texts, said, strict=True)))
        if w < best_wer:
            best, best_wer = d, w
    return best


def train_asr(cfg: ASRConfig = ASRConfig(), retrain: bool = False) -> dict[str, Any]:
    """Build the domain language model and train the recogniser (or load the stored ones unless
    ``retrain``); measure both backends on held-out voices at 20 dB SNR (half the check
    sentences spoken by espeak-ng's test voices, half by Flite); store the recogniser with its
    metrics and the default backend (the one with the lower WER)."""
    lm_cfg = models.LMConfig(cfg.sentences, cfg.seed)
    if not retrain:
        try:
            models.load_lm(lm_cfg)
            stored = dict(models.ARTIFACT.load(lm_cfg).metrics)
        except ModelNotTrained:
            pass
        else:
            if stored.get("config") != json.loads(json.dumps(asdict(cfg))):
                raise InvalidInput(
                    "a recogniser trained with other settings is stored; add --retrain to "
                    f"replace it (stored: {stored.get('config')})"
                )
            return stored
    models.build_lm(lm_cfg)
    arpa, dictionary = models.load_lm(lm_cfg)
    said = texts(cfg)
    heard = set(said)  # for the share of check sentences that training also spoke
    g = rng(cfg.seed, "picking", "asr-texts")
    pick = [said[int(i)] for i in g.integers(len(said), size=cfg.utterances)]
    train_set = featurise(
        data.spoken(pick, "train", cfg.seed, festival=cfg.festival), cfg.model.mels
    )
    held = lexicon.sentences(cfg.checks, cfg.seed + 1, holdout=frozenset())[: cfg.checks]
    val_utts = data.spoken(held, "train", cfg.seed + 1, fillers=0.0, festival=cfg.festival)
    val = featurise(val_utts, cfg.model.mels)
    model = train(cfg, train_set, val)
    lm = NGram(arpa)
    decoding = tune(model, lm, val, held)
    test = data.spoken(held[::2], "test", cfg.seed + 2, augmented=False, fillers=0.0)
    test += data.by_flite(held[1::2])
    rnn = models.RNN(model, lm, decoding)
    scores = evaluate([rnn, PocketSphinx(arpa, dictionary)], data.noisy(test, 20.0, g))
    metrics = {
        "config": asdict(cfg),
        "heldout_20db": scores,
        "default": min(scores, key=lambda k: scores[k]["wer"]),
        "decoding": asdict(decoding),
        "train_utterances": len(train_set),
        "test_sentences_in_training": round(float(np.mean([s in heard for s in held])), 3),
    }
    models.ARTIFACT.save(lm_cfg, dict(model.state_dict()), metrics, rebuild=cfg.model)
    return metrics
