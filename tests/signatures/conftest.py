"""A tiny base network, built once per session in its own OTEMACHI_HOME."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from otemachi.signatures import base, train

from ..services import PostgresServer

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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store: a SQLite file, or a new database in the throwaway PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "users.db")
    server = request.getfixturevalue("postgres")
    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url.rsplit("/", 1)[0] + f"/{name}"
