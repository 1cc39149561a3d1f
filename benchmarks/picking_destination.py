"""Destination accuracy on seen and held-out phrasing, two readers side by side: word 1-4-gram
TF-IDF + logistic regression (trained here on episodes without held-out phrasing), and the
grounding model's reader (MiniLM word pieces + GRU, trained without the same phrasings).

Run: .venv/bin/python benchmarks/picking_destination.py
"""

from datetime import date

import numpy as np

from otemachi.picking import episodes, grounder
from otemachi.picking.destination import DestinationClassifier
from otemachi.picking.world import BOXES


def main() -> None:
    model = grounder.load_or_train()
    held = frozenset(model.config.holdout)
    train = [e for e in episodes.make(2000, seed=2026, holdout=held) if e.split == "seen"]
    test = episodes.make(1000, seed=2027, holdout=held)
    tfidf = DestinationClassifier().fit(
        [e.instruction for e in train], [e.destination for e in train]
    )
    print(f"{date.today()}: TF-IDF trained on {len(train)} seen episodes; held out {sorted(held)}")
    print("| phrasing | episodes | TF-IDF + LR | reader (MiniLM + GRU) |")
    print("|---|---|---|---|")
    for split in ("seen", "unseen"):
        part = [e for e in test if e.split == split]
        texts, truth = [e.instruction for e in part], np.array([e.destination for e in part])
        a = np.mean(np.array(tfidf.predict(texts)) == truth)
        probs = model.reader.read(texts)["dest"].argmax(-1).numpy()
        b = np.mean(np.array([BOXES[i] for i in probs]) == truth)
        print(f"| {split} | {len(part)} | {a:.3f} | {b:.3f} |")


if __name__ == "__main__":
    main()
