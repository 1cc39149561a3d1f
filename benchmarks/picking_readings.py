"""picking: how much grounding over the recogniser's readings (its N-best) is worth, and how
flat their weights are.

On a tuning episode stream (seed 9, never the other benchmarks' episodes), spoken by the twelve
held-out voices at 20 dB with the simulated person answering: accuracy after questions with the
top transcript alone, and with the likeliest readings (`asr.beam.READINGS`) each weighed by its
share of the recogniser's belief to the power `dialog.FLATTEN` (1: as the recogniser believes;
0.5: flatter), beside the typed accuracy. The rule, fixed before the first run: adopt readings
if some power beats the top transcript by at least 3 episodes; the better power.

Needs the stored models: `otemachi picking train` and `otemachi picking train-asr`.
Run: .venv/bin/python benchmarks/picking_readings.py [--episodes 300]
"""

import argparse
import platform
from datetime import date

import torch

from otemachi.picking import detect, dialog, episodes, evaluate, model, speech
from otemachi.picking.asr import beam, models
from otemachi.picking.hearing import Ears

SEED = 9  # the tuning stream
POWERS = (1.0, 0.5)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"machine: {platform.machine()}, 2 cores, torch {torch.__version__}; {date.today()}")
    grounder, detector = model.load(), detect.load()[0]
    eps = episodes.make(args.episodes, SEED, frozenset(grounder.config.holdout), episodes.TEMPLATES)
    ears = Ears(models.load("rnn"), speech.HELD_OUT_VOICES, 20.0)
    print(f"{len(eps)} episodes (seed {SEED}), rnn at 20 dB, a person answering")
    print(
        f"{'input':>28s} {'first':>6s} {'after questions':>16s} {'questions':>10s} {'ms p50':>7s}"
    )

    def row(name: str, got: dict[str, object]) -> None:
        print(f"{name:>28s} {got['target_accuracy']:6.3f} {got['target_accuracy_clarified']:16.3f} "
              f"{got['questions_asked']:10d} {got['latency_ms_p50']:7.1f}")  # fmt: skip

    row("typed", evaluate.run(eps, grounder, detector, person=True)[0])
    stored = beam.READINGS, dialog.FLATTEN
    try:
        beam.READINGS = 1
        row(
            "spoken, top transcript",
            evaluate.run(eps, grounder, detector, ears=ears, person=True)[0],
        )
        beam.READINGS = stored[0]
        for power in POWERS:
            dialog.FLATTEN = power
            got = evaluate.run(eps, grounder, detector, ears=ears, person=True)[0]
            row(f"spoken, {stored[0]} readings ^ {power}", got)
    finally:
        beam.READINGS, dialog.FLATTEN = stored


if __name__ == "__main__":
    main()
