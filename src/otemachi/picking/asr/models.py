"""The stored speech models: the domain language model (an ARPA file and a pronunciation
dictionary in the model store, checked by SHA-256 on load) and the recurrent recogniser (a
checkpoint). Both are made by `otemachi picking train-asr`; loading never builds or trains."""

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from otemachi.core.errors import CheckpointError, InvalidInput, ModelNotTrained
from otemachi.core.paths import artifact_dir
from otemachi.core.store import Artifact, module_from
from otemachi.picking.asr import BACKENDS, Recogniser, Transcript, Word, beam, ctc, lexicon
from otemachi.picking.asr.ngram import NGram
from otemachi.picking.asr.sphinx import PocketSphinx
from otemachi.picking.audio import RATE

COMMAND = "otemachi picking train-asr"
LM_REVISION = "asr-lm/2"  # 2: the generator's negations, comparisons, positions, descriptions
ARTIFACT = Artifact(
    "picking", "asr", "picking.asr", revision="asr/2", command=COMMAND, title="speech recogniser"
)


@dataclass(frozen=True)
class LMConfig:
    sentences: int = 3000  # generator scenes the corpus is drawn from
    seed: int = 0


def lm_folder(cfg: LMConfig) -> Path:
    text = json.dumps({"config": asdict(cfg), "revision": LM_REVISION}, sort_keys=True)
    key = hashlib.sha256(text.encode()).hexdigest()[:12]
    return artifact_dir("picking", "models") / f"asr-lm-{key}"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_lm(cfg: LMConfig, text: list[str] | None = None) -> Path:
    """Write the domain language model and dictionary for ``cfg`` (from ``text`` when given,
    else from the corpus ``cfg`` names); returns its folder."""
    folder = lm_folder(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").unlink(missing_ok=True)  # written last: a half-built model is missing
    text = text if text is not None else lexicon.corpus(cfg.sentences, cfg.seed)
    lexicon.write_arpa(text, folder / "domain.arpa")
    lexicon.write_dict(lexicon.vocabulary(text), folder / "domain.dict")
    (folder / "corpus.txt").write_text("\n".join(text) + "\n")
    files = {n: _digest(folder / n) for n in ("domain.arpa", "domain.dict")}
    meta = {"config": asdict(cfg), "revision": LM_REVISION, "lines": len(text), "sha256": files}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return folder


def load_lm(cfg: LMConfig) -> tuple[Path, Path]:
    """(ARPA, dictionary) of the stored domain language model; never builds it."""
    folder = lm_folder(cfg)
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        raise ModelNotTrained(
            f"no domain language model in {folder.parent}; run `{COMMAND}` to build it"
        )
    try:
        meta = json.loads(meta_path.read_text())
        for name, digest in meta["sha256"].items():
            if _digest(folder / name) != digest:
                raise CheckpointError(f"{folder / name} does not match its recorded SHA-256")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        why = f"{folder} is damaged ({exc}); `{COMMAND} --retrain` replaces it"
        raise CheckpointError(why) from None
    return folder / "domain.arpa", folder / "domain.dict"


@dataclass(frozen=True)
class Decoding:
    width: int = 16
    alpha: float = 0.4  # language-model weight (train-asr tunes it on training voices)
    beta: float = 1.0  # word bonus
    bias: float = 2.0  # bonus for the words of what the robot sees (chosen on training voices)


class RNN:
    """The recurrent CTC recogniser with prefix beam search over the domain language model."""

    name = "rnn"

    def __init__(self, model: ctc.CTCModel, lm: NGram | None, decoding: Decoding = Decoding()):
        self.model, self.lm, self.decoding = model, lm, decoding

    def transcribe(self, samples: np.ndarray, hints: frozenset[str] = frozenset()) -> Transcript:
        """The transcript of 16 kHz mono ``samples``; ``hints`` are words the scene makes
        likely."""
        t0 = time.perf_counter()
        feats = ctc.features(samples, self.model.cfg.mels)
        with torch.no_grad():
            logp = self.model(feats[None], torch.tensor([len(feats)]))[0].numpy()
        d = self.decoding
        hyp = beam.decode(logp, self.lm, d.width, d.alpha, d.beta, bias=beam.Bias(hints, d.bias))
        step = ctc.HOP / RATE * self.model.cfg.stack
        words, at = [], 0
        best = logp.max(1)
        for w in hyp.words:
            steps = hyp.steps[at : at + len(w)]
            at += len(w)
            conf = float(np.exp(best[steps[0] : steps[-1] + 1].mean()))
            words.append(Word(w, steps[0] * step, (steps[-1] + 1) * step, conf))
        conf = hyp.confidence * (float(np.mean([w.confidence for w in words])) if words else 0.0)
        text = " ".join(hyp.words)
        return Transcript(text, tuple(words), conf, self.name, _ms(t0), hyp.readings)


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def load(backend: str | None = None, lm: LMConfig = LMConfig()) -> Recogniser:
    """The stored recogniser of ``backend`` ('rnn' or 'pocketsphinx'); None: the one with the
    lower word error rate on held-out voices when train-asr measured them."""
    if backend is not None and backend not in BACKENDS:
        raise InvalidInput(f"--asr must be one of {list(BACKENDS)}, got {backend!r}")
    arpa, dictionary = load_lm(lm)
    if backend == "pocketsphinx":
        return PocketSphinx(arpa, dictionary)
    ckpt = ARTIFACT.load(lm)  # one recogniser per domain language model
    if backend is None and ckpt.metrics.get("default") == "pocketsphinx":
        return PocketSphinx(arpa, dictionary)
    model = module_from(ckpt, ctc.CTCConfig, ctc.build)
    return RNN(model, NGram(arpa), Decoding(**ckpt.metrics.get("decoding", {})))
