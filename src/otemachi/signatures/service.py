"""The production path a bank calls: embed signatures, enrol a person, verify a signature. It loads
the stored base and never trains it."""

import math
from dataclasses import dataclass

import numpy as np

from otemachi.core.errors import InvalidInput
from otemachi.signatures import oneclass
from otemachi.signatures.base import MAX_REFS, Base
from otemachi.signatures.oneclass import UserModel


@dataclass(frozen=True)
class Verdict:
    score: float
    threshold: float
    genuine: bool


def embed(base: Base, images: list[np.ndarray]) -> np.ndarray:
    """Embeddings (N, E) of raw grayscale scans, in batches."""
    if not images:
        raise InvalidInput("no images to embed")
    return base.embed(images)


def enroll(base: Base, user_id: str, images: list[np.ndarray], method: str = "svdd") -> UserModel:
    """A person's model from 1-5 genuine reference scans."""
    if not 1 <= len(images) <= MAX_REFS:
        raise InvalidInput(
            f"enrolment takes 1 to {MAX_REFS} reference signatures, got {len(images)}"
        )
    return oneclass.train_user(user_id, embed(base, images), method, base.negatives, base.version)


def verify(base: Base, model: UserModel, image: np.ndarray) -> Verdict:
    """Decide genuine or forged. The threshold is the stricter of the global one (calibrated on
    development writers for this method and reference count) and the person's own."""
    if model.base_version != base.version:
        raise InvalidInput(
            f"user model was trained on base {model.base_version}, this base is {base.version}; "
            "re-enrol the user"
        )
    score = float(oneclass.score(model, embed(base, [image]))[0])
    threshold = base.thresholds[model.method][str(min(model.n_refs, MAX_REFS))]
    if not math.isnan(model.threshold):
        threshold = max(threshold, model.threshold)
    return Verdict(score, threshold, score >= threshold)
