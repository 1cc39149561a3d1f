"""Destination accuracy on held-out phrasing: train the text classifier on episodes that use none of
the held-out verbs, destination forms, containers or sentence frames; test on episodes that do.

Run: .venv/bin/python benchmarks/picking_destination.py
"""

from datetime import date

import numpy as np

from otemachi.picking import episodes
from otemachi.picking.destination import DestinationClassifier

HELD = frozenset({"transfer", "over to the {b} {c}", "corner", "could you {verb} {ref} {dest}?"})


def main() -> None:
    made = episodes.make(3000, seed=2026, holdout=HELD)
    train = [e for e in made[:2000] if e.split == "seen"]
    seen_test = [e for e in made[2000:] if e.split == "seen"]
    unseen = [e for e in made[2000:] if e.split == "unseen"]
    clf = DestinationClassifier().fit(
        [e.instruction for e in train], [e.destination for e in train]
    )
    print(f"{date.today()}: trained on {len(train)} episodes; held out {sorted(HELD)}")
    for name, test in (("seen phrasing", seen_test), ("held-out phrasing", unseen)):
        pred = clf.predict([e.instruction for e in test])
        acc = np.mean(np.array(pred) == [e.destination for e in test])
        print(f"destination accuracy, {name}: {acc:.3f} on {len(test)} episodes")


if __name__ == "__main__":
    main()
