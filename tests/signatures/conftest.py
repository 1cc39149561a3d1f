"""A tiny base network, built once per session in its own OTEMACHI_HOME."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from otemachi.signatures import base, train

TINY = base.BaseConfig(dev_writers=30, epochs=3)  # what `--dev-writers 30 --epochs 3` asks for


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signatures-home")


@pytest.fixture(scope="session")
def tiny_base(tiny_home: Path) -> Iterator[base.Base]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OTEMACHI_HOME", str(tiny_home))
        yield train.base(TINY)
