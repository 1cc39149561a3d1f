"""HTTP face of otemachi.signatures: enrol, verify and delete people over the model store, behind
API keys and rate limits. The store is ``OTEMACHI_SIGNATURES_STORE`` (a SQLite
path or ``postgresql://...``; default SQLite under OTEMACHI_HOME) and the base is chosen by
``OTEMACHI_SIGNATURES_BASE`` (for example ``dev_writers=80,calib_writers=10,epochs=5``)."""

import threading
from dataclasses import dataclass, field, fields
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Request, UploadFile
from pydantic import BaseModel, Field

from otemachi.core.errors import InvalidInput
from otemachi.signatures import base as bases
from otemachi.signatures import oneclass, security, service
from otemachi.signatures.base import Base, BaseConfig
from otemachi.signatures.batcher import Batcher
from otemachi.signatures.data import SCANS
from otemachi.signatures.security import RateLimit
from otemachi.signatures.store import UserStore, open_store

router = APIRouter()
Key = Annotated[str | None, Header(alias="X-API-Key")]


class Enrolled(BaseModel):
    user_id: str
    method: str
    n_refs: int
    base_version: str


class Deleted(BaseModel):
    deleted: str


class UserRecord(BaseModel):
    user_id: str
    method: str
    n_refs: int
    threshold: float | None = Field(description="the person's own; null when none was fitted")
    base_version: str
    images_kept: int
    enrolled_at: str


class UserPage(BaseModel):
    users: list[str]
    total: int


@dataclass
class Service:
    """What the routes share: the base, the store, the micro-batcher and the rate limits."""

    base: Base
    store: UserStore
    batcher: Batcher
    per_key: RateLimit = field(default_factory=lambda: RateLimit(500, 1000, "API key"))
    # a person's threshold cannot be probed: 10 tries at once, then one every 6 seconds
    per_user: RateLimit = field(default_factory=lambda: RateLimit(1 / 6, 10, "user id"))
    older_bases: dict[str, Base] = field(default_factory=dict)  # by version

    def older(self, version: str) -> Base:
        """A stored older base, for records not yet migrated (loaded once, then kept)."""
        with _older_lock:
            if version not in self.older_bases:
                self.older_bases[version] = bases.load_version(version)
            return self.older_bases[version]

    @classmethod
    def open(cls, store: str | None, base_spec: str) -> "Service":
        b = bases.load(base_config(base_spec))
        return cls(b, open_store(store), Batcher(b))


def base_config(spec: str) -> BaseConfig:
    """``dev_writers=80,calib_writers=10,epochs=5,wide=0.5,scans=both`` -> the BaseConfig it
    names ('' = default). A number takes its field's type, so ``wide=1`` names the same base as
    1.0."""
    default = BaseConfig()
    allowed = {f.name for f in fields(BaseConfig)}
    values: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        name, _, value = (part.strip() for part in item.partition("="))
        kind = type(getattr(default, name, None))
        if name == "scans" and value in SCANS:
            values[name] = value
            continue
        try:
            if name not in allowed or kind not in (int, float):
                raise ValueError
            values[name] = kind(value) if kind is float else int(value)
            if not 0 <= values[name] < float("inf"):  # no negatives, nan or inf
                raise ValueError
        except ValueError:
            raise InvalidInput(
                f"OTEMACHI_SIGNATURES_BASE: {item!r} is not NAME=NUMBER of "
                f"{sorted(allowed - {'scans'})} or scans={'|'.join(SCANS)}"
            ) from None
    return BaseConfig(**values)


_lock, _older_lock = threading.Lock(), threading.Lock()


def _service(request: Request) -> Service:
    state = request.app.state
    with _lock:
        if getattr(state, "signatures", None) is None:
            state.signatures = Service.open(state.signatures_store, state.signatures_base)
        return state.signatures


def _files(files: list[UploadFile]) -> list[bytes]:
    """The bytes of each upload, checked; a client's file name is echoed only in part, quoted."""
    return [
        security.upload(
            f"file {i + 1} ({(f.filename or '')[:40]!r})",
            f.content_type,
            f.file.read(security.MAX_UPLOAD + 1),
        )
        for i, f in enumerate(files)
    ]


@router.get("/methods")
def methods() -> list[str]:
    """Per-person model kinds available for enrolment."""
    return list(oneclass.METHODS)


@router.post("/users/{user_id}/enroll", response_model=Enrolled)
def enroll(
    user_id: str,
    request: Request,
    files: Annotated[list[UploadFile], File(description="1-5 genuine reference scans")],
    method: Annotated[str, Form()] = "svdd",
    keep_images: Annotated[bool, Form()] = False,
    x_api_key: Key = None,
) -> dict[str, Any]:
    """Enrol (or re-enrol) a person from 1-5 genuine signatures. Needs an API key."""
    svc = _service(request)
    actor = svc.store.check_key(x_api_key)
    security.user_id(user_id)
    record = service.enroll(
        svc.base, svc.store, user_id, _files(files), method, keep_images, actor=actor
    )
    return {"user_id": user_id, "method": method, "n_refs": record.model.n_refs,
            "base_version": record.model.base_version}  # fmt: skip


@router.post("/users/{user_id}/verify", response_model=service.Verdict)
def verify(
    user_id: str,
    request: Request,
    file: Annotated[UploadFile, File(description="The signature to check")],
    x_api_key: Key = None,
) -> dict[str, object]:
    """Genuine or forged: score, threshold, decision, method and base version. Needs an API key;
    rate-limited per key and per user id."""
    svc = _service(request)
    actor = svc.store.check_key(x_api_key)
    security.user_id(user_id)
    svc.per_key.take(actor)
    svc.per_user.take(user_id)
    (image,) = _files([file])
    verdict = service.verify(
        svc.base, svc.store, user_id, image, actor, svc.batcher.embed, svc.older
    )
    return verdict.to_json()


@router.delete("/users/{user_id}", response_model=Deleted)
def delete(user_id: str, request: Request, x_api_key: Key = None) -> dict[str, str]:
    """Remove a person's record and images. Needs an API key."""
    svc = _service(request)
    service.delete(svc.store, user_id, actor=svc.store.check_key(x_api_key))
    return {"deleted": user_id}


@router.get("/users/{user_id}", response_model=UserRecord)
def show(user_id: str, request: Request, x_api_key: Key = None) -> dict[str, object]:
    """A person's record, without parameters or embeddings. Needs an API key."""
    svc = _service(request)
    svc.store.check_key(x_api_key)
    return service.describe(svc.store, user_id)


@router.get("/users", response_model=UserPage)
def users(
    request: Request, after: str = "", limit: int = 100, x_api_key: Key = None
) -> dict[str, object]:
    """Enrolled user ids in order, ``limit`` (1-1000) after ``after``. Needs an API key."""
    svc = _service(request)
    svc.store.check_key(x_api_key)
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must lie between 1 and 1000, got {limit}")
    return {"users": svc.store.users(after, limit), "total": svc.store.count()}
