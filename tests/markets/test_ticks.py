"""Ticks to bars: the bars pandas makes from the same ticks, ticks out of order within the grace
window kept, later ones refused as late, duplicates and bad ticks refused, and the stream command
on a tick file."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from otemachi.cli import main
from otemachi.core.seeding import torch_seeded
from otemachi.markets import stream, ticks, train
from otemachi.markets.live import LiveState
from otemachi.markets.model import RNNConfig, RNNForecaster

MINUTE = 60_000_000_000


def _ticks(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Two symbols' ticks over about ten minutes, in time order."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-11-26 09:00")
    times = start + pd.to_timedelta(np.sort(rng.uniform(0, 600, n)), unit="s")
    symbols = rng.choice(["AAA", "BBB"], n)
    price = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    size = rng.integers(1, 100, n).astype(float)
    return pd.DataFrame({"symbol": symbols, "time": times, "price": price, "size": size})


def _bars(msgs: list[Any]) -> pd.DataFrame:
    rows = [
        (s, m["time"], *m["ohlcv"][i])
        for m in msgs
        if isinstance(m, dict) and "symbols" in m
        for i, s in enumerate(m["symbols"])
    ]
    return pd.DataFrame(rows, columns=["symbol", "time", "open", "high", "low", "close", "volume"])


def test_bars_match_pandas_with_ticks_shuffled_within_the_grace_window() -> None:
    frame = _ticks()
    rows = frame.to_dict("records")
    rng = np.random.default_rng(1)
    order = np.argsort(np.arange(len(rows)) + rng.uniform(0, 8, len(rows)))  # a few ticks late
    shuffled = [rows[i] for i in order]
    msgs = list(ticks.bar_messages(shuffled, MINUTE, int(pd.Timedelta("20s").value)))
    assert not [m for m in msgs if isinstance(m, dict) and "refused" in m]
    got = _bars(msgs).set_index(["symbol", "time"]).sort_index()
    want = (frame.set_index("time").groupby("symbol")
            .resample("1min").agg({"price": ["first", "max", "min", "last"], "size": "sum"})
            .dropna())  # fmt: skip
    want.columns = ["open", "high", "low", "close", "volume"]
    np.testing.assert_allclose(got.to_numpy(), want.sort_index().to_numpy())
    times = [m["time"] for m in msgs if isinstance(m, dict)]
    assert times == sorted(times) and msgs.count(stream.FLUSH) == len(times)


def test_late_duplicate_and_bad_ticks_are_refused_with_their_reason() -> None:
    agg = ticks.Aggregator(MINUTE, int(pd.Timedelta("5s").value))
    t0 = pd.Timestamp("2026-11-26 09:00:10")
    tick = {"symbol": "AAA", "time": t0, "price": 10.0, "size": 1.0}
    assert agg.add(tick) == []
    assert agg.add(dict(tick))[0]["refused"].startswith("duplicate")
    assert agg.add({**tick, "time": t0 + pd.Timedelta("52s")}) == []  # 09:01:02, within grace
    sent = agg.add({**tick, "time": t0 + pd.Timedelta("56s")})  # 09:01:06: minute 0 is sent
    assert sent[0]["symbols"] == ["AAA"] and sent[1] is stream.FLUSH
    late = agg.add({**tick, "time": t0 + pd.Timedelta("10s")})
    assert late[0]["refused"].startswith("late") and agg.late == 1
    bad: list[tuple[Any, str]] = [
        ("tick", "malformed"), ({"symbol": "AAA"}, "malformed"),
        ({**tick, "price": "10"}, "malformed"), ({**tick, "time": "noon-ish"}, "malformed"),
        ({**tick, "price": -1.0}, "bad value"), ({**tick, "size": float("nan")}, "bad value"),
        ({**tick, "price": 10**400}, "bad value"),
    ]  # fmt: skip
    for message, reason in bad:
        assert agg.add(message)[0]["refused"].split(":")[0] == reason, message
    with torch_seeded(0):
        net = RNNForecaster(RNNConfig(hidden=8, layers=1, horizons=(1, 5))).eval()
    pipeline = stream.Pipeline(LiveState(net), "v")
    list(pipeline.run([late[0], *sent]))
    assert [d.reason.split(":")[0] for d in pipeline.counters.dead] == ["late"]
    assert pipeline.counters.bars == 1


def test_stream_command_on_a_tick_file(
    tmp_path: Path, garch_bars: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = train.Setup(
        RNNConfig(hidden=8, layers=1, horizons=(1, 3)),
        train.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1),
    )
    path, _ = train.train(garch_bars, "toy", setup)
    file = tmp_path / "ticks.csv"
    _ticks().to_csv(file, index=False)
    args = ["markets", "stream", "--source", f"ticks:{file}", "--model", str(path), "--json"]
    assert main([*args, "--bar", "1min", "--grace", "5s"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["bars"] == got["forecasts"] == 20 and got["symbols"] == 2
    assert main([*args, "--bar", "soon"]) == 2
    assert "--bar must be a duration" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_text("symbol,when\nAAA,1\n")
    assert main([*args[:2], "--source", f"ticks:{tmp_path / 'bad.csv'}", "--model", str(path)]) == 2
    assert "needs the columns" in capsys.readouterr().err
