import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from otemachi.core import checkpoint
from otemachi.core.errors import CheckpointError


def _ckpt() -> checkpoint.Checkpoint:
    tensors = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.ones(3)}
    return checkpoint.Checkpoint("toy", tensors, {"hidden": 3}, {"loss": 0.5}, "abc123")


def test_round_trip(tmp_path: Path) -> None:
    path = checkpoint.save(tmp_path / "m", _ckpt())
    loaded = checkpoint.load(path, "toy")
    assert torch.equal(loaded.tensors["w"], _ckpt().tensors["w"])
    assert loaded.config == {"hidden": 3}
    assert loaded.metrics == {"loss": 0.5}
    assert loaded.data_hash == "abc123"


def test_refuses_tampered_tensors(tmp_path: Path) -> None:
    path = checkpoint.save(tmp_path / "m", _ckpt())
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="modified"):
        checkpoint.load(path, "toy")


def test_refuses_other_kind(tmp_path: Path) -> None:
    path = checkpoint.save(tmp_path / "m", _ckpt())
    with pytest.raises(CheckpointError, match="expected 'gru'"):
        checkpoint.load(path, "gru")


def test_refuses_foreign_safetensors(tmp_path: Path) -> None:
    path = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="not an otemachi checkpoint"):
        checkpoint.load(path, "toy")
    path.with_suffix(".json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(CheckpointError, match="not an otemachi checkpoint"):
        checkpoint.load(path, "toy")


def test_refuses_garbage_file_with_forged_sidecar(tmp_path: Path) -> None:
    path = checkpoint.save(tmp_path / "m", _ckpt())
    path.write_bytes(b"\x80\x04 this is a pickle, not safetensors")
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["sha256"] = checkpoint._sha256(path)
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        checkpoint.load(path, "toy")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoint.load(tmp_path / "nope", "toy")
