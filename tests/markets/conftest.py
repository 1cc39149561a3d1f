"""Synthetic bars and a real redis-server for markets tests."""

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from otemachi.core.seeding import rng
from otemachi.markets import synth
from tests.services import RedisServer


@pytest.fixture(scope="session")
def garch_bars() -> pd.DataFrame:
    return synth.garch(1500, rng(11, "test-garch")).bars


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    try:
        yield server
    finally:
        server.stop()
