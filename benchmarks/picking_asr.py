"""picking speech recognition: both backends side by side on voices they never trained on.

- espeak-ng's held-out test voices (accent and variant both unseen in training), clean and with
  white noise at 20 dB and 10 dB SNR;
- CMU Flite, a synthesiser no recogniser here trains on, with two speakers neither training
  synthesiser (espeak-ng, Festival) has, clean and at 20 dB;
- word error rate, recognition time (p50, p95), real-time factor and size per backend;
- target accuracy after clarification, typed vs spoken, on the same episodes (the stored
  grounding model and detector; spoken by the test voices at 20 dB), with the episodes' own
  answers only and with a simulated person answering every question left.

Needs the stored models: `otemachi picking train` and `otemachi picking train-asr`.
Run: .venv/bin/python benchmarks/picking_asr.py [--sentences 150] [--episodes 60]
"""

import argparse
import platform
from datetime import date
from pathlib import Path

import numpy as np
import torch
from pocketsphinx import get_model_path

from otemachi.core.seeding import rng
from otemachi.picking import audio, detect, episodes, evaluate, model, speech
from otemachi.picking.asr import lexicon, models, train
from otemachi.picking.asr.data import by_flite, noisy, spoken
from otemachi.picking.hearing import Ears

SEED = 20261127  # its own sentence and episode streams, never a training one


def _mb(*paths: Path) -> float:
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return sum(f.stat().st_size for f in files) / 2**20


def _rate(x: float | None) -> str:
    """A word error rate, or a dash where nothing was heard."""
    return "-" if x is None else f"{x:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=150)
    ap.add_argument("--episodes", type=int, default=60)
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"machine: {platform.machine()}, 2 cores, torch {torch.__version__}; {date.today()}")
    rnn, sphinx = models.load("rnn"), models.load("pocketsphinx")
    lm = models.LMConfig()
    arpa, dictionary = models.load_lm(lm)
    weights = models.ARTIFACT.path(lm).with_suffix(".safetensors")
    sizes = {
        "rnn": _mb(weights, arpa),
        "pocketsphinx": _mb(Path(get_model_path("en-us/en-us")), arpa, dictionary),
    }
    texts = lexicon.sentences(args.sentences, SEED, holdout=frozenset())[: args.sentences]
    trained_on = set(train.texts(train.ASRConfig()))
    seen = np.mean([t in trained_on for t in texts])
    espeak = spoken(texts, "test", SEED, augmented=False, fillers=0.0)
    flite = by_flite(texts)
    seconds = np.mean([len(u.samples) / audio.RATE for u in espeak])
    print(
        f"{len(texts)} sentences, mean {seconds:.1f} s of speech; {seen:.0%} of them also occur "
        "word for word among the training texts (the generator's phrasings repeat); voices: "
        f"espeak-ng test voices {', '.join(speech.TEST_VOICES)}; Flite {speech.FLITE_VOICES}"
    )
    conditions = [
        ("espeak-ng clean", espeak, None),
        ("espeak-ng 20 dB", espeak, 20.0),
        ("espeak-ng 10 dB", espeak, 10.0),
        ("Flite clean", flite, None),
        ("Flite 20 dB", flite, 20.0),
    ]
    head = ("condition", "backend", "WER", "p50 ms", "p95 ms", "RTF")
    print("\n{:18s} {:13s} {:>7s} {:>8s} {:>8s} {:>7s}".format(*head))
    for name, utts, snr in conditions:
        heard = utts if snr is None else noisy(utts, snr, rng(SEED, "bench-noise", str(snr)))
        scores = train.evaluate([rnn, sphinx], heard)
        for backend, s in scores.items():
            print(
                f"{name:18s} {backend:13s} {s['wer']:7.3f} {s['ms_p50']:8.1f} {s['ms_p95']:8.1f} "
                f"{s['rtf']:7.3f}"
            )
    print("\nsize on disk (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()))
    print(f"  (pocketsphinx's acoustic model {_mb(Path(get_model_path('en-us/en-us'))):.1f} MB)")

    grounder, detector = model.load(), detect.load()[0]
    eps = episodes.make(args.episodes, SEED, frozenset(grounder.config.holdout))
    rows = []
    for person in (False, True):
        who = ", person" if person else ""
        rows.append((f"typed{who}", evaluate.run(eps, grounder, detector, person=person)[0]))
        for recogniser in (rnn, sphinx):
            ears = Ears(recogniser, speech.HELD_OUT_VOICES, 20.0)
            got = evaluate.run(eps, grounder, detector, ears=ears, person=person)[0]
            rows.append((f"spoken, {recogniser.name}{who}", got))
    print(
        f"\n{len(eps)} episodes, the same for every row; spoken at 20 dB SNR by the ten espeak-ng "
        "test voices and the two Flite voices in turn; ', person': a simulated person who knows "
        "the target answers the questions the episodes carry no answer to (aloud when spoken)"
    )
    print("{:30s} {:>12s} {:>16s} {:>11s} {:>6s} {:>12s} {:>28s}".format(
        "input", "target acc.", "after questions", "dest. acc.", "WER", "answers WER",
        "lost: unanswered / decided"))  # fmt: skip
    for name, r in rows:
        print(
            f"{name:30s} {r['target_accuracy']:12.3f} {r['target_accuracy_clarified']:16.3f} "
            f"{r['destination_accuracy']:11.3f} {_rate(r.get('wer')):>6s} "
            f"{_rate(r.get('wer_clarification')):>12s} "
            f"{r['lost_unanswered']:>20d} / {r['lost_decided']:<5d}"
        )


if __name__ == "__main__":
    main()
