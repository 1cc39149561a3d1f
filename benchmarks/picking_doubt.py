"""picking: how the confidence bar for a doubtful transcript was chosen.

On a tuning episode stream (seed 7, never the other benchmarks' episodes), spoken by the twelve
held-out voices at 20 dB with the simulated person answering: the accuracy after questions for
each candidate bar (`asr.DOUBT_BELOW`), beside the typed accuracy. The rule, fixed before the
first run: the bar with the best accuracy after questions, the lower one on a tie.

Needs the stored models: `otemachi picking train` and `otemachi picking train-asr`.
Run: .venv/bin/python benchmarks/picking_doubt.py [--asr rnn] [--episodes 120] [--bars 0,0.3,...]
"""

import argparse
import platform
from datetime import date

import torch

from otemachi.picking import asr, detect, episodes, evaluate, model, speech
from otemachi.picking.asr import models
from otemachi.picking.hearing import Ears

SEED = 7  # the tuning stream: `otemachi picking generate --episodes 120 --seed 7`
BARS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--asr", default="rnn", choices=asr.BACKENDS)
    ap.add_argument("--episodes", type=int, default=120)
    ap.add_argument("--bars", default=",".join(map(str, BARS)), help="comma list of bars")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"machine: {platform.machine()}, 2 cores, torch {torch.__version__}; {date.today()}")
    grounder, detector = model.load(), detect.load()[0]
    eps = episodes.make(args.episodes, SEED, frozenset(grounder.config.holdout))
    typed = evaluate.run(eps, grounder, detector, person=True)[0]
    ears = Ears(models.load(args.asr), speech.HELD_OUT_VOICES, 20.0)
    print(f"{len(eps)} episodes (seed {SEED}), a person answering; typed: "
          f"{typed['target_accuracy_clarified']:.3f} after questions")  # fmt: skip
    print(f"{'bar':>5s} {'after questions':>16s} {'questions':>10s} {'answers WER':>12s}")
    stored = asr.DOUBT_BELOW[args.asr]
    try:
        for bar in (float(b) for b in args.bars.split(",")):
            asr.DOUBT_BELOW[args.asr] = bar
            got = evaluate.run(eps, grounder, detector, ears=ears, person=True)[0]
            after, asked = got["target_accuracy_clarified"], got["questions_asked"]
            print(f"{bar:5.1f} {after:16.3f} {asked:10d} {got['wer_clarification'] or 0:12.3f}")
    finally:
        asr.DOUBT_BELOW[args.asr] = stored


if __name__ == "__main__":
    main()
