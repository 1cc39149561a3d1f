"""Checkpoints: tensors in safetensors, everything else in a JSON sidecar. Nothing is unpickled."""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from otemachi import __version__
from otemachi.core.errors import CheckpointError

FORMAT = "otemachi-checkpoint/1"
C = TypeVar("C")


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: its tensors and the metadata saved beside them."""

    kind: str
    tensors: dict[str, torch.Tensor]
    config: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    data_hash: str = ""
    version: str = __version__
    sha256: str = ""  # of the tensor file; filled in by load(), identifies the exact weights
    path: str = ""  # where load() read it from


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(path: Path, ckpt: Checkpoint) -> Path:
    """Write ``path`` (.safetensors) and its ``.json`` sidecar; return the tensor file path."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in ckpt.tensors.items()}
    tmp = path.with_suffix(".safetensors.tmp")
    save_file(tensors, str(tmp), metadata={"format": FORMAT, "kind": ckpt.kind})
    meta = {
        "format": FORMAT,
        "kind": ckpt.kind,
        "version": ckpt.version,
        "config": ckpt.config,
        "metrics": ckpt.metrics,
        "data_hash": ckpt.data_hash,
        "sha256": _sha256(tmp),
    }
    _sidecar(path).write_text(json.dumps(meta, indent=2, sort_keys=True))
    tmp.replace(path)
    return path


def read_meta(path: Path) -> dict[str, Any]:
    side = _sidecar(path)
    if not side.exists():
        raise CheckpointError(
            f"{path}: no metadata file {side.name} beside it; not an otemachi checkpoint"
        )
    try:
        meta = json.loads(side.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{side}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{side}: not an otemachi checkpoint (format is not {FORMAT})")
    return meta


def load(path: Path, kind: str) -> Checkpoint:
    """Load a checkpoint of the expected ``kind``, verifying its hash and format.

    Raises
    ------
    CheckpointError
        If the file is missing, foreign, of another kind, corrupt or modified after saving.
    """
    path = Path(path).with_suffix(".safetensors")
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    meta = read_meta(path)
    if meta.get("kind") != kind:
        raise CheckpointError(f"{path} holds a {meta.get('kind')!r} model, expected {kind!r}")
    if _sha256(path) != meta.get("sha256"):
        raise CheckpointError(f"{path} was modified after it was saved (hash mismatch)")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc})") from exc
    return Checkpoint(
        kind=kind,
        tensors=tensors,
        config=meta.get("config", {}),
        metrics=meta.get("metrics", {}),
        data_hash=meta.get("data_hash", ""),
        version=meta.get("version", ""),
        sha256=meta["sha256"],
        path=str(path),
    )


def config_from(cls: type[C], config: dict[str, Any]) -> C:
    """Rebuild a frozen config dataclass from a checkpoint's JSON (JSON lists become tuples)."""
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})
