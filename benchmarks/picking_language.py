"""Unconstrained language: the stored grounding model on the seven hand-written sets (the first,
benchmarks/data/picking, and those in fresh/, third/ and fourth/, read while the reader was
built, fifth/ and sixth/, measured but never read, and the test set in seventh/; by phenomenon,
with and without spelling correction) beside generated episodes with held-out phrasing (the five
basic templates, as in the README's picking table, and all ten), with the detector's boxes,
questions answered as the episodes say.

Run: .venv/bin/python benchmarks/picking_language.py [--json results.json]
"""

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

from otemachi.picking import detect, episodes, evaluate, model
from otemachi.picking.demo import HAND_SETS

KEYS = ("episodes", "target_accuracy", "target_accuracy_clarified", "questions_asked")


def _row(name: str, r: dict[str, Any]) -> str:
    return f"| {name} | " + " | ".join(str(r[k]) for k in KEYS) + " |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="Also write every result here.")
    args = parser.parse_args()
    grounder, det = model.load(), detect.load()[0]
    held = frozenset(grounder.config.holdout)
    results: dict[str, Any] = {"date": str(date.today())}
    for key, (_, path) in HAND_SETS.items():
        hand = list(episodes.read(path))
        results[key], _ = evaluate.run(hand, grounder, det)
        with mock.patch.object(model, "respell", lambda text: text):
            results[f"{key}_no_spelling"], _ = evaluate.run(hand, grounder, det)
    for name, templates in (("basic", episodes.BASIC_TEMPLATES), ("all", episodes.TEMPLATES)):
        made = episodes.make(400, 1, held, templates)
        results[f"generated_{name}"], _ = evaluate.run(made, grounder, det)

    for key, (name, _) in HAND_SETS.items():
        print(f"{date.today()}: hand-written instructions, {name}, by phenomenon (detector boxes)")
        print("| phenomenon | " + " | ".join(KEYS) + " |\n|---|---|---|---|---|")
        hw = results[key]
        for phenomenon, part in hw["by_template"].items():
            print(_row(phenomenon, part))
        print(_row("**all**", hw))
        print(_row("all, no spelling correction", results[f"{key}_no_spelling"]))
        typo = results[f"{key}_no_spelling"]["by_template"]["typo"]
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
