"""The model store: one key scheme, loading never trains, a damaged file is never trained over."""

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import pytest
import torch
from torch import nn

from otemachi.core import store
from otemachi.core.errors import CheckpointError, ModelNotTrained

ART = store.Artifact("toys", "lin", "toys.lin", "lin/1", "otemachi toys train", "toy model")


@dataclass(frozen=True)
class Cfg:
    width: int = 3
    seed: int = 0


def _build(cfg: Cfg) -> nn.Linear:
    return nn.Linear(cfg.width, 1)


def test_the_key_covers_config_revision_and_data() -> None:
    base = ART.key(Cfg())
    assert base == ART.key(Cfg()) and len(base) == 12
    assert ART.key(Cfg(seed=1)) != base
    assert replace(ART, revision="lin/2").key(Cfg()) != base
    assert ART.key(Cfg(), data="abc") != base
    assert ART.path(Cfg()).name == f"lin-{base}" and ART.path(Cfg()).parent.name == "models"


@dataclass(frozen=True)
class Grown:
    """``Cfg`` after a field was added: models stored before it must keep their key."""

    width: int = 3
    seed: int = 0
    mode: str = "old"

    KEY_SINCE: ClassVar[dict[str, object]] = {"mode": "old"}


def test_a_field_added_later_keeps_older_keys_while_it_holds_the_older_value() -> None:
    assert ART.key(Grown()) == ART.key(Cfg()) and ART.key(Grown(seed=1)) == ART.key(Cfg(seed=1))
    assert ART.key(Grown(mode="new")) not in (ART.key(Grown()), ART.key(Cfg()))


def test_missing_model_names_the_command_and_is_a_503() -> None:
    with pytest.raises(ModelNotTrained, match="run `otemachi toys train`") as err:
        ART.load(Cfg())
    assert err.value.http_status == 503


def test_save_then_rebuild_from_the_stored_config() -> None:
    cfg = Cfg(width=5)
    net = _build(cfg)
    path = ART.save(cfg, net.state_dict(), {"loss": 0.25})
    assert path.exists() and path.with_suffix(".json").exists()
    ckpt = ART.load(cfg)
    again = store.module_from(ckpt, Cfg, _build)
    assert again.in_features == 5 and torch.equal(again.weight, net.weight)
    assert ckpt.metrics == {"loss": 0.25} and not again.training


def test_load_or_train_trains_only_what_is_missing() -> None:
    calls: list[int] = []

    def train() -> str:
        calls.append(1)
        ART.save(Cfg(), _build(Cfg()).state_dict(), {})
        return "trained"

    def load() -> str:
        ART.load(Cfg())
        return "loaded"

    assert store.load_or_train(load, train) == "trained"
    assert store.load_or_train(load, train) == "loaded" and len(calls) == 1
    assert store.load_or_train(load, train, retrain=True) == "trained" and len(calls) == 2


@pytest.mark.parametrize("damage", ["flip a byte", "foreign sidecar", "no sidecar"])
def test_a_damaged_model_is_an_error_naming_the_file_and_is_kept(damage: str) -> None:
    path = ART.save(Cfg(), _build(Cfg()).state_dict(), {})
    side = path.with_suffix(".json")
    if damage == "flip a byte":
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "foreign sidecar":
        side.write_text('{"format": "someone-else/1"}')
    else:
        side.unlink()
    before = path.read_bytes()
    trained: list[int] = []

    def train() -> None:
        trained.append(1)

    def load() -> None:
        ART.load(Cfg())

    with pytest.raises(CheckpointError) as err:
        store.load_or_train(load, train)
    assert str(path.parent) in str(err.value) and "--retrain" in str(err.value)
    assert not trained and path.read_bytes() == before
    store.load_or_train(load, train, retrain=True)
    assert trained == [1]


def test_an_explicit_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ModelNotTrained, match="otemachi toys train"):
        ART.load_path(tmp_path / "nothing")


def test_a_config_that_does_not_fit_its_weights_is_refused_naming_the_file() -> None:
    path = ART.save(Cfg(width=4), _build(Cfg(width=4)).state_dict(), {})
    side = path.with_suffix(".json")
    meta = json.loads(side.read_text())
    for config in ({"width": 9}, {"width": 4, "depth": 2}):
        side.write_text(json.dumps({**meta, "config": config}))
        with pytest.raises(CheckpointError, match=r"do not make a toys\.lin model") as err:
            store.module_from(ART.load(Cfg(width=4)), Cfg, _build)
        assert str(path) in str(err.value)
