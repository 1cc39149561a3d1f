"""The live path's contract: replaying bars through the batched live state gives the backtest's
forecasts, for one symbol and for fifty at once, with symbols joining and leaving."""

import numpy as np
import pandas as pd
import pytest
import torch

from otemachi.core.errors import InvalidInput
from otemachi.core.seeding import rng, torch_seeded
from otemachi.markets import data, sources, stream, synth
from otemachi.markets.features import build_series
from otemachi.markets.forecast import Forecast
from otemachi.markets.live import OHLCV, WARM, Bars, LiveState
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.markets.train import forecast

HORIZONS = (1, 5, 20)
FIELDS = ("ret_q", "high_q", "low_q", "p_up")


def _net(bars: pd.DataFrame, cell: str = "gru") -> RNNForecaster:
    """An untrained network with input scaling fitted on ``bars`` (enough for parity)."""
    with torch_seeded(0):
        net = RNNForecaster(RNNConfig(cell=cell, hidden=16, horizons=HORIZONS))
    feats = torch.tensor(build_series(bars, HORIZONS).features, dtype=torch.float32)
    net.x_mean.copy_(feats.mean(0))
    net.x_std.copy_(feats.std(0))
    return net.eval()


def _offline(net: RNNForecaster, bars: pd.DataFrame) -> Forecast:
    """What the backtest forecasts from every bar of ``bars``."""
    return forecast(net, build_series(bars, HORIZONS), np.arange(len(bars)))


def _assert_same(live: list[Forecast], offline: Forecast) -> None:
    """``live``: one single-row forecast per bar, in order."""
    for key in FIELDS:
        got = np.concatenate([getattr(f, key) for f in live])
        np.testing.assert_allclose(got, getattr(offline, key), rtol=1e-5, atol=1e-7, err_msg=key)


def _row(f: Forecast, i: int) -> Forecast:
    return Forecast(*(getattr(f, k)[i : i + 1] for k in FIELDS))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_replaying_a_bundled_series_gives_the_backtest_forecasts(cell: str) -> None:
    bars = data.load("sp500")[0].iloc[:600]
    net = _net(bars, cell)
    state = LiveState(net, capacity=1)
    values = bars[list(OHLCV)].to_numpy(float)
    live = [state.step(Bars(["SPX"], bars.index[t : t + 1], values[t : t + 1])) for t in range(600)]
    _assert_same(live, _offline(net, bars))


def test_fifty_symbols_in_one_batch_with_joins_and_a_leave() -> None:
    n, t_max = 50, 300
    index = pd.date_range("2020-01-01", periods=t_max, freq="D")
    books = {f"S{i:02d}": synth.garch(t_max, rng(i, "live")).bars.set_axis(index) for i in range(n)}
    late = {f"S{i:02d}": 120 for i in range(40, n)}  # these join at bar 120
    books["NEW"] = synth.garch(t_max - 200, rng(99, "live")).bars.set_axis(index[200:])
    values = {s: b[list(OHLCV)].to_numpy(float) for s, b in books.items()}
    net = _net(books["S00"])
    state = LiveState(net, capacity=4)  # grows as symbols join
    live: dict[str, list[Forecast]] = {s: [] for s in books}
    for t, when in enumerate(index):
        if t == 200:
            state.leave("S00")  # S00 leaves; NEW takes its slot
        names = [s for s in books if late.get(s, 0) <= t and (s != "S00" or t < 200)]
        names = [s for s in names if s != "NEW" or t >= 200]
        ohlcv = np.stack([values[s][t - (200 if s == "NEW" else 0)] for s in names])
        out = state.step(Bars(names, pd.DatetimeIndex([when] * len(names)), ohlcv))
        for i, s in enumerate(names):
            live[s].append(_row(out, i))
    assert len(state) == n and state.slots["NEW"] == 0
    for s, bars in books.items():
        stop = 200 if s == "S00" else len(bars)
        _assert_same(live[s], _offline(net, bars.iloc[late.get(s, 0) : stop]))


def test_a_bar_not_newer_than_the_last_is_refused() -> None:
    bars = data.load("sp500")[0].iloc[:60]
    state = LiveState(_net(bars))
    values = bars[list(OHLCV)].to_numpy(float)
    state.step(Bars(["SPX"], bars.index[1:2], values[1:2]))
    for t in (0, 1):
        with pytest.raises(InvalidInput, match="not newer"):
            state.step(Bars(["SPX"], bars.index[t : t + 1], values[t : t + 1]))
    with pytest.raises(InvalidInput, match="one bar per symbol"):
        state.step(Bars(["A", "A"], bars.index[:2], values[:2]))


def test_live_state_per_symbol_is_small() -> None:
    bars = data.load("sp500")[0].iloc[:60]
    assert LiveState(_net(bars)).state_bytes() <= 4096


@pytest.mark.parametrize("cells", [("gru", "gru"), ("gru", "lstm")])
def test_a_swap_warms_the_new_network_as_if_it_had_run_from_zero_over_the_last_bars(
    cells: tuple[str, str],
) -> None:
    books = sources.synthetic(4, 90, seed=4)
    books["SYN0003"] = books["SYN0003"].iloc[40:]  # joins late: fewer than WARM bars at the swap
    first = _net(books["SYN0000"], cells[0])
    with torch_seeded(1):
        second = RNNForecaster(RNNConfig(cell=cells[1], hidden=8, layers=1, horizons=(1, 5)))
    second.eval()
    msgs = list(sources.messages(books, columnar=True))  # [bar time, FLUSH] * 90
    swap_at = 60
    a = stream.Pipeline(LiveState(first), "v1")
    before = list(a.run(msgs[: 2 * swap_at]))
    a.swap(second, "v2")
    after = list(a.run(msgs[2 * swap_at :]))
    assert {p.model_version for p in before} == {"v1"} and {p.model_version for p in after} == {
        "v2"
    }
    assert len(before) + len(after) == sum(len(b) for b in books.values())

    c = stream.Pipeline(LiveState(second), "v2")  # the new network all along, its hidden state
    list(c.run(msgs[: 2 * (swap_at - WARM)]))  # zeroed WARM bars before the swap
    c.state.hidden.zero_()
    list(c.run(msgs[2 * (swap_at - WARM) : 2 * swap_at]))
    want = list(c.run(msgs[2 * swap_at :]))
    for got, ref in zip(after, want, strict=True):
        assert (got.symbol, got.time) == (ref.symbol, ref.time)
        np.testing.assert_allclose(got.ret_q, ref.ret_q, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got.p_up, ref.p_up, rtol=1e-5, atol=1e-6)
