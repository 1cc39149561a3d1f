"""Synthetic bars for markets tests."""

import pandas as pd
import pytest

from otemachi.core.seeding import rng
from otemachi.markets import synth


@pytest.fixture(scope="session")
def garch_bars() -> pd.DataFrame:
    return synth.garch(1500, rng(11, "test-garch")).bars
