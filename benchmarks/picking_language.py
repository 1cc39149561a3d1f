"""Unconstrained language: the stored grounding model on the hand-written instructions
(benchmarks/data/picking, by phenomenon, with and without spelling correction) beside generated
episodes with held-out phrasing (the five basic templates, as in the README's picking table, and
all nine), with the detector's boxes, questions answered as the episodes say.

Run: .venv/bin/python benchmarks/picking_language.py [--json results.json]
"""

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

from otemachi.picking import detect, episodes, evaluate, model
from otemachi.picking.demo import HANDWRITTEN

KEYS = ("episodes", "target_accuracy", "target_accuracy_clarified", "questions_asked")


def _row(name: str, r: dict[str, Any]) -> str:
    return f"| {name} | " + " | ".join(str(r[k]) for k in KEYS) + " |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="Also write every result here.")
    args = parser.parse_args()
    grounder, det = model.load(), detect.load()[0]
    held = frozenset(grounder.config.holdout)
    hand = list(episodes.read(HANDWRITTEN))
    results: dict[str, Any] = {"date": str(date.today())}
    results["handwritten"], _ = evaluate.run(hand, grounder, det)
    with mock.patch.object(model, "respell", lambda text: text):
        results["handwritten_no_spelling"], _ = evaluate.run(hand, grounder, det)
    for name, templates in (("basic", episodes.BASIC_TEMPLATES), ("all", episodes.TEMPLATES)):
        made = episodes.make(400, 1, held, templates)
        results[f"generated_{name}"], _ = evaluate.run(made, grounder, det)

    print(f"{date.today()}: hand-written instructions by phenomenon (detector boxes)")
    print("| phenomenon | " + " | ".join(KEYS) + " |\n|---|---|---|---|---|")
    hw = results["handwritten"]
    for name, part in hw["by_template"].items():
        print(_row(name, part))
    print(_row("**all**", hw))
    print(_row("all, no spelling correction", results["handwritten_no_spelling"]))
    typo = results["handwritten_no_spelling"]["by_template"]["typo"]
    print(_row("typo, no spelling correction", typo))
    print(f"\nlatency p50 {hw['latency_ms_p50']} ms, p95 {hw['latency_ms_p95']} ms\n")
    print("| generated, 400 episodes (seed 1) | split | episodes | first | first, unambiguous "
          "| after clarification |\n|---|---|---|---|---|---|")  # fmt: skip
    for name in ("basic", "all"):
        for split, r in results[f"generated_{name}"]["by_split"].items():
            print(
                f"| {name} templates | {split} | {r['episodes']} | {r['target_accuracy']} | "
                f"{r['target_accuracy_unambiguous']} | {r['target_accuracy_clarified']} |"
            )
    by = results["generated_all"]["by_template"]
    print("\nall templates, by template (first / after clarification): " + ", ".join(
        f"{k} {v['target_accuracy']} / {v['target_accuracy_clarified']} ({v['episodes']})"
        for k, v in by.items()
    ))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
