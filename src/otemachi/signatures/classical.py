"""The classical baseline every evaluation reports beside the deep pipeline: hand-made HOG
features of the preprocessed scan (scikit-image) and a nearest-reference rule (score = cosine
similarity to the closest reference). No learning, no development writers."""

import numpy as np
from skimage.feature import hog

from otemachi.signatures.data import SignatureDataset
from otemachi.signatures.preprocess import preprocess

NAME = "hog"


def features(images: list[np.ndarray]) -> np.ndarray:
    """L2-normalised HOG vectors (N, D) of raw scans, at SigNet's 150 x 220 input."""
    out = [
        hog(preprocess(im), orientations=9, pixels_per_cell=(10, 10), cells_per_block=(2, 2))
        for im in images
    ]
    x = np.stack(out).astype(np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def writers(data: SignatureDataset, names: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """writer -> (genuine, skilled forgeries) HOG features, in sorted file order."""
    out = {}
    for w in names:
        gen, forg = list(data.iter_genuine(w)), list(data.iter_forgery(w))
        feats = features(gen + forg) if gen + forg else np.zeros((0, 1), np.float32)
        out[w] = (feats[: len(gen)], feats[len(gen) :])
    return out


def nearest(refs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Scores (N,): cosine similarity of each row of ``x`` to its closest reference."""
    return (x @ refs.T).max(axis=1)


def user_threshold(refs: np.ndarray) -> float:
    """The lowest leave-one-out score of a reference (NaN with one reference), as the deep
    methods' per-user threshold."""
    if len(refs) < 2:
        return float("nan")
    return float(min(nearest(np.delete(refs, i, 0), refs[i : i + 1])[0] for i in range(len(refs))))
