"""Base rotation: re-fit everyone enrolled on an older base onto a new one, from the reference
images kept with ``--keep-images``. Each chunk of people lands in one transaction, so until a
person's new record lands the old one keeps serving (with its old base)."""

from dataclasses import dataclass, field

import numpy as np

from otemachi.core.errors import InvalidInput
from otemachi.core.progress import track
from otemachi.signatures import batchfit
from otemachi.signatures.base import Base
from otemachi.signatures.preprocess import read_image
from otemachi.signatures.store import Record, UserStore


@dataclass
class Migration:
    migrated: int = 0
    needs_enrolment: list[str] = field(default_factory=list)  # no images were kept
    failed: dict[str, str] = field(default_factory=dict)  # kept images that no longer decode


def migrate(store: UserStore, target: Base, batch: int = 256) -> Migration:
    """Move every record not on ``target`` to it, keeping each person's method and images. A
    person deleted or re-enrolled while this runs is left as they are."""
    result = Migration()
    stale = store.stale(target.version)
    for start in track(range(0, len(stale), batch), f"migrating to base {target.version}"):
        fitted: list[Record] = []
        old: dict[str, str] = {}
        by_method: dict[str, list[tuple[str, np.ndarray, tuple[bytes, ...]]]] = {}
        for user_id, method, version in stale[start : start + batch]:
            old[user_id] = version
            images = tuple(store.images(user_id))
            if not images:
                result.needs_enrolment.append(user_id)
                continue
            try:
                refs = target.embed([read_image(im) for im in images])
            except InvalidInput as exc:
                result.failed[user_id] = str(exc)
                continue
            by_method.setdefault(method, []).append((user_id, refs, images))
        for method, people in by_method.items():
            ids, refs, images = zip(*people, strict=True)
            models = batchfit.train_users(
                list(ids),
                list(refs),
                method,
                target.negatives,
                target.version,
                start=target.ocnn_start,
            )
            fitted += [
                Record(m, r.astype(np.float16), images=im)
                for m, r, im in zip(models, refs, images, strict=True)
            ]
        note = f"base {target.version}"
        audit = [("migrate", "migrate", r.model.user_id, note) for r in fitted]
        result.migrated += store.rebase(fitted, old, audit) if fitted else 0
    return result
