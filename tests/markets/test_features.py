import numpy as np
import pandas as pd

from otemachi.markets import features


def test_online_matches_offline(garch_bars: pd.DataFrame) -> None:
    offline, scale = features.compute(garch_bars)
    online = features.OnlineFeatures()
    for t, (ts, row) in enumerate(
        zip(garch_bars.index, garch_bars.itertuples(index=False), strict=True)
    ):
        x, s = online.update(ts, row.open, row.high, row.low, row.close, row.volume)
        np.testing.assert_allclose(x, offline[t], rtol=1e-9, atol=1e-12)
        assert abs(s - scale[t]) <= 1e-12 * max(1.0, scale[t])
    assert offline.shape == (len(garch_bars), len(features.FEATURES))


def test_no_look_ahead(garch_bars: pd.DataFrame) -> None:
    base, _ = features.compute(garch_bars)
    t = 700
    future = garch_bars.copy()
    future.iloc[t + 1 :] = future.iloc[t + 1 :] * 1.7  # rewrite every later bar
    future.iloc[t + 1 :, future.columns.get_loc("volume")] = 1.0
    changed, _ = features.compute(future)
    np.testing.assert_array_equal(changed[: t + 1], base[: t + 1])
    assert not np.allclose(changed[t + 1 :], base[t + 1 :])


def test_targets_by_hand() -> None:
    idx = pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC")
    close = np.array([100.0, 101, 99, 103, 102])
    bars = pd.DataFrame(
        {"open": close, "high": close + np.arange(1.0, 6.0), "low": close - 1, "close": close},
        index=idx,
    ).assign(volume=1.0)
    tg = features.targets(bars, (1, 2))
    assert np.isclose(tg["ret"][0, 0], np.log(101 / 100))
    assert np.isclose(tg["ret"][1, 1], np.log(103 / 101))
    assert tg["up"][1, 0] == 0.0 and tg["up"][2, 0] == 1.0
    assert np.isclose(tg["high"][0, 1], np.log(max(103, 102) / 100))  # bars 1..2
    assert np.isclose(tg["low"][0, 1], np.log(min(100, 98) / 100))
    assert np.isnan(tg["ret"][4, 0]) and np.isnan(tg["ret"][3, 1])
