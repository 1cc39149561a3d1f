"""Destination accuracy on seen and held-out phrasing, two readers side by side, both trained on
the same generated instructions (none with held-out phrasing): word 1-4-gram TF-IDF + logistic
regression (fitted here), and the grounding model's reader (MiniLM word pieces + GRU).

Run: .venv/bin/python benchmarks/picking_destination.py
"""

from datetime import date

import numpy as np

from otemachi.picking import episodes, model
from otemachi.picking.destination import DestinationClassifier
from otemachi.picking.reading import examples
from otemachi.picking.world import BOXES


def main() -> None:
    grounder = model.load()
    held = frozenset(grounder.config.holdout)
    cfg = grounder.config
    train = [
        (t, s["dest"]) for t, s, answer in examples(cfg.text_examples, cfg.seed, held) if not answer
    ]
    test = episodes.make(1000, seed=2027, holdout=held)
    tfidf = DestinationClassifier().fit([t for t, _ in train], [d for _, d in train])
    print(f"{date.today()}: both trained on {len(train)} instructions; held out {sorted(held)}")
    print("| phrasing | episodes | TF-IDF + LR | reader (MiniLM + GRU) |")
    print("|---|---|---|---|")
    for split in ("seen", "unseen"):
        part = [e for e in test if e.split == split]
        texts, truth = [e.instruction for e in part], np.array([e.destination for e in part])
        a = np.mean(np.array(tfidf.predict(texts)) == truth)
        probs = grounder.reader.read(texts)["dest"].argmax(-1).numpy()
        b = np.mean(np.array([BOXES[i] for i in probs]) == truth)
        print(f"| {split} | {len(part)} | {a:.3f} | {b:.3f} |")


if __name__ == "__main__":
    main()
