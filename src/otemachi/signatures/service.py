"""The production path a bank calls: enrol a person, verify a signature, delete a person, over
the model store. The CLI and the HTTP routes both call these functions. It loads the stored base
and never trains it."""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from otemachi.core.errors import InvalidInput, NotFound, OtemachiError
from otemachi.signatures import oneclass, security
from otemachi.signatures.base import MAX_REFS, Base
from otemachi.signatures.oneclass import UserModel
from otemachi.signatures.preprocess import read_image
from otemachi.signatures.store import Record, UserStore

Image = bytes | np.ndarray  # an encoded file, or a decoded grayscale scan
Embedder = Callable[[np.ndarray], np.ndarray]  # one decoded scan -> its embedding (E,)


class StaleRecord(OtemachiError):
    """A record fitted on another base network than the one serving: it is never scored with a
    mismatched base."""

    http_status = 409


@dataclass(frozen=True)
class Verdict:
    """Genuine when the score is at or above the threshold."""

    user_id: str
    score: float
    threshold: float
    genuine: bool
    method: str
    base_version: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _decoded(images: Sequence[Image]) -> list[np.ndarray]:
    return [read_image(im) if isinstance(im, bytes) else np.asarray(im) for im in images]


def threshold(base: Base, model: UserModel) -> float:
    """The decision threshold as shipped: the stricter of the global one (calibrated on
    development writers for this method and reference count) and the person's own."""
    t = base.thresholds[model.method][str(min(model.n_refs, MAX_REFS))]
    return t if math.isnan(model.threshold) else max(t, model.threshold)


def fit(base: Base, user_id: str, images: Sequence[Image], method: str = "svdd") -> Record:
    """A person's record from 1-5 genuine reference scans (not yet stored)."""
    security.user_id(user_id)
    if not 1 <= len(images) <= MAX_REFS:
        raise InvalidInput(
            f"enrolment takes 1 to {MAX_REFS} reference signatures, got {len(images)}"
        )
    refs = base.embed(_decoded(images))
    model = base.fit_user(user_id, refs, method)
    return Record(model, refs.astype(np.float16))


def enroll(
    base: Base,
    store: UserStore,
    user_id: str,
    images: Sequence[Image],
    method: str = "svdd",
    keep_images: bool = False,
    actor: str = "cli",
) -> Record:
    """Fit and store (replacing any earlier record) a person's model; audited. Encoded images are
    kept in the store only with ``keep_images`` (they let a new base re-fit the person)."""
    record = fit(base, user_id, images, method)
    if keep_images:
        files = tuple(im for im in images if isinstance(im, bytes))
        if len(files) != len(images):
            raise InvalidInput("--keep-images keeps the uploaded files; give encoded images")
        record = Record(record.model, record.refs, record.enrolled_at, files)
    store.put([record], audit=[(actor, "enroll", user_id, f"{method}, {len(images)} references")])
    return record


def decide(base: Base, model: UserModel, embedding: np.ndarray) -> Verdict:
    """Score one embedding against a person's model with the shipped threshold rule."""
    if model.base_version != base.version:
        raise StaleRecord(
            f"user {model.user_id!r} was enrolled on base {model.base_version}, this server runs "
            f"base {base.version}; run `otemachi signatures migrate` or re-enrol the user"
        )
    s = float(oneclass.score(model, embedding[None, :])[0])
    t = threshold(base, model)
    return Verdict(model.user_id, s, t, s >= t, model.method, model.base_version)


def verify(
    base: Base,
    store: UserStore,
    user_id: str,
    image: Image,
    actor: str = "cli",
    embedder: Embedder | None = None,
    older: Callable[[str], Base] | None = None,
) -> Verdict:
    """Is ``image`` the signature of ``user_id``? Audited (the decision, never the score).
    A record fitted on an older base is scored with that base, found by ``older`` (version ->
    base), until a migration replaces it; without one, it is refused."""
    record = store.get(security.user_id(user_id))
    (scan,) = _decoded([image])
    version = record.model.base_version
    if version != base.version and older is not None:
        try:
            base, embedder = older(version), None
        except NotFound as exc:
            raise StaleRecord(f"{exc}; re-enrol {user_id!r}") from exc
    emb = embedder(scan) if embedder else base.embed([scan])[0]
    verdict = decide(base, record.model, emb)
    store.audit(actor, "verify", user_id, "genuine" if verdict.genuine else "forged")
    return verdict


def delete(store: UserStore, user_id: str, actor: str = "cli") -> None:
    """Remove a person and their images; audited."""
    store.delete(security.user_id(user_id), audit=[(actor, "delete", user_id, None)])


def describe(store: UserStore, user_id: str) -> dict[str, object]:
    """What ``users show`` prints: everything but parameters and embeddings."""
    record = store.get(security.user_id(user_id))
    m = record.model
    return {
        "user_id": m.user_id, "method": m.method, "n_refs": m.n_refs,
        "threshold": None if math.isnan(m.threshold) else m.threshold,
        "base_version": m.base_version, "images_kept": store.image_count(user_id),
        "enrolled_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.enrolled_at)),
    }  # fmt: skip
