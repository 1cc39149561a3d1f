"""The browser's replay: the newest bars of a bundled dataset through the stored forecaster,
frame by frame over a WebSocket, with the backtest's numbers."""

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from otemachi.core.seeding import torch_seeded
from otemachi.markets import data, replay, train
from otemachi.markets.features import build_series
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.server import create_app

CFG = RNNConfig(hidden=8, layers=1, horizons=(1, 5))


@pytest.fixture
def stored() -> RNNForecaster:
    """A forecaster stored as `markets train --data sp500` stores one."""
    with torch_seeded(3):
        model = train.RNNModel(CFG, train.TrainConfig())
        model.net = RNNForecaster(CFG).eval()
    train.save_model(model, "sp500-gru", "replay-test", {})
    return model.net


def test_replay_frames_carry_the_backtest_forecasts(stored: RNNForecaster) -> None:
    client = TestClient(create_app())
    with client.websocket_connect("/api/markets/replay?data=sp500&bars=6&speed=1000") as ws:
        start = ws.receive_json()["start"]
        frames = [ws.receive_json() for _ in range(6)]
        assert ws.receive_json() == {"end": True, "frames": 6}
    assert start["symbols"] == ["SP500"] and start["horizons"] == [1, 5]
    assert len(start["history"]["SP500"]["close"]) == replay.WARMUP
    bars = data.load("sp500")[0].iloc[-(6 + replay.WARMUP) :]
    assert [pd.Timestamp(f["time"]) for f in frames] == list(bars.index[-6:])
    assert [f["bars"]["SP500"]["close"] for f in frames] == pytest.approx(bars["close"][-6:])
    offline = train.forecast(stored, build_series(bars, CFG.horizons), np.arange(len(bars)))
    got = np.array([f["forecasts"][0]["ret_q"] for f in frames])
    np.testing.assert_allclose(got, offline.ret_q[-6:], rtol=1e-5, atol=1e-7)
    assert all(f["forecasts"][0]["latency_ms"] >= 0 for f in frames)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("data=nope", "unknown: ['nope']"),
        ("data=/etc/passwd", "unknown"),
        ("data=", "give 1 to 8 bundled datasets"),
        ("data=sp500&bars=0", "bars must be a whole number from 1 to 5000"),
        ("data=sp500&bars=1.5", "bars must be a whole number"),
        ("data=sp500&bars=", "bars must be a whole number"),
        ("data=sp500&speed=0", "speed must lie in (0, 1000]"),
        ("data=sp500&speed=nan", "speed must lie in (0, 1000]"),
        ("data=sp500&speed=fast", "speed must lie in (0, 1000]"),
        ("data=sp500", "otemachi markets train --data sp500"),  # nothing stored
    ],
)
def test_a_bad_replay_is_told_what_was_wrong(query: str, says: str) -> None:
    with TestClient(create_app()).websocket_connect(f"/api/markets/replay?{query}") as ws:
        reply = ws.receive_json()
    assert says in reply["detail"], reply
