"""Shared fixtures: every test gets its own OTEMACHI_HOME."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "otemachi-home"
    monkeypatch.setenv("OTEMACHI_HOME", str(home))
    return home
