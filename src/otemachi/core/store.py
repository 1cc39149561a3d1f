"""The model store: every trained model lives under OTEMACHI_HOME with one cache-key scheme
(a hash of its config, its code revision and its data), is saved as safetensors with the config
that rebuilds it, and is loaded, never trained, by everything but the training commands."""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from otemachi.core import checkpoint
from otemachi.core.errors import CheckpointError, ModelNotTrained
from otemachi.core.paths import artifact_dir

T = TypeVar("T")
M = TypeVar("M", bound=nn.Module)
C = TypeVar("C")


@dataclass(frozen=True)
class Artifact:
    """One kind of trained model: where it lives, its code revision and the command that makes it.

    Bump ``revision`` whenever the training code changes what it produces: the cache key changes,
    so a model trained by older code is never reused.
    """

    system: str
    name: str  # file name prefix, e.g. "ssd"
    kind: str  # checkpoint kind, e.g. "picking.ssd"
    revision: str
    command: str  # the command that trains it, named when it is missing
    title: str = "model"  # what to call it in messages, e.g. "object detector"

    def key(self, config: Any, data: str = "") -> str:
        """12 hex digits of sha256 over the config, the code revision and the data identity.

        A config class may name fields added after models were stored in ``KEY_SINCE`` (field
        -> the value that keeps the older behaviour): while a field holds that value it is left
        out of the key, so the models stored before it existed are still found."""
        fields = asdict(config)
        for name, old in getattr(config, "KEY_SINCE", {}).items():
            if fields.get(name) == old:
                del fields[name]
        text = json.dumps(
            {"config": fields, "revision": self.revision, "data": data},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def path(self, config: Any, data: str = "", name: str | None = None) -> Path:
        """``OTEMACHI_HOME/<system>/models/<name>-<key>`` (suffixes added by the checkpoint)."""
        stem = f"{(name or self.name).replace('.', '_')}-{self.key(config, data)}"
        return artifact_dir(self.system, "models") / stem

    def load(self, config: Any, data: str = "", name: str | None = None) -> checkpoint.Checkpoint:
        """The stored checkpoint for ``config``.

        Raises
        ------
        ModelNotTrained
            Nothing is stored for this config (the message names the command that trains it).
        CheckpointError
            The file is corrupt, tampered with or foreign (the message names the file).
        """
        return self.load_path(self.path(config, data, name))

    def load_path(self, path: Path) -> checkpoint.Checkpoint:
        """Load a checkpoint of this kind from an explicit path, with the same errors."""
        tensors, sidecar = path.with_suffix(".safetensors"), path.with_suffix(".json")
        if not tensors.exists() and not sidecar.exists():
            raise ModelNotTrained(
                f"no trained {self.title} in {tensors.parent} for this configuration; "
                f"run `{self.command}` to train it"
            )
        try:
            return checkpoint.load(path, self.kind)
        except CheckpointError as exc:
            raise CheckpointError(
                f"{exc}; it is left as it is: `{self.command} --retrain` replaces it"
            ) from exc

    def save(
        self,
        config: Any,
        tensors: dict[str, torch.Tensor],
        metrics: dict[str, Any],
        data: str = "",
        name: str | None = None,
        rebuild: Any = None,
    ) -> Path:
        """Save tensors under the key of ``config`` and the data identity. The sidecar holds
        ``rebuild`` (default: ``config``), the config that rebuilds the model."""
        stored = asdict(rebuild if rebuild is not None else config)
        ckpt = checkpoint.Checkpoint(self.kind, tensors, stored, metrics, data)
        return checkpoint.save(self.path(config, data, name), ckpt)


def module_from(ckpt: checkpoint.Checkpoint, cls: type[C], build: Callable[[C], M]) -> M:
    """Rebuild a module from a checkpoint: its config (as ``cls``) and its weights.

    Raises CheckpointError naming the file when the two do not fit together."""
    with rebuilding(ckpt):
        model = build(checkpoint.config_from(cls, ckpt.config))
        model.load_state_dict(ckpt.tensors)
    return model.eval()


@contextmanager
def rebuilding(ckpt: checkpoint.Checkpoint) -> Iterator[None]:
    """Turn what a foreign or edited config raises while a model is rebuilt into a
    CheckpointError naming the file."""
    try:
        yield
    except (TypeError, ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(
            f"{ckpt.path}: its config and weights do not make a {ckpt.kind} model ({exc})"
        ) from exc


def load_or_train(load: Callable[[], T], train: Callable[[], T], retrain: bool = False) -> T:
    """For the training commands and the demo only: the stored model, or a newly trained one
    when none is stored (or when ``retrain``). A corrupt stored model is an error, not retrained
    over, unless ``retrain``."""
    if not retrain:
        try:
            return load()
        except ModelNotTrained:
            pass
    return train()
