"""A tiny base network, built once per session in its own OTEMACHI_HOME."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from otemachi.signatures import base, train

# what `--dev-writers 80 --calib-writers 10 --epochs 5` asks for
TINY = base.BaseConfig(dev_writers=80, calib_writers=10, epochs=5)


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signatures-home")


@pytest.fixture(scope="session")
def tiny_base(tiny_home: Path) -> Iterator[base.Base]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OTEMACHI_HOME", str(tiny_home))
        yield train.base(TINY)
