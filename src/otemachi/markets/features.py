"""Features and targets. One set of formulas, run vectorised over history, or one bar at a time
in O(1): ``OnlineFeatures`` for one symbol, and ``live.LiveState`` for many symbols at once (the
live path). The tests prove all three give the same numbers."""

from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from otemachi.markets.forecast import Series

EPS = 1e-12
WARMUP = 100  # bars before features are trusted (the slowest EWMA has mostly forgotten its start)
# (input, decay): exponentially weighted means every feature is built from.
EWMAS: tuple[tuple[str, float], ...] = (
    ("r2", 0.8),
    ("r2", 0.94),
    ("r2", 0.99),
    ("park2", 0.94),
    ("r", 0.8),
    ("r", 0.97),
    ("logv", 0.94),
)
FEATURES = (
    "r_z", "gap_z", "body_z", "range_z", "upper_z", "lower_z", "mom_fast_z", "mom_slow_z",
    "log_vol_rm", "vol_fast_ratio", "vol_slow_ratio", "park_ratio", "volume_z",
    "dow_sin", "dow_cos", "hour_sin", "hour_cos", "month_sin", "month_cos",
)  # fmt: skip
SCALE = "vol_rm"  # RiskMetrics (lambda = 0.94) volatility: the unit targets are measured in


def ewma_key(name: str, decay: float) -> str:
    """The name of one exponentially weighted mean, e.g. ``r2@0.94``."""
    return f"{name}@{decay}"


SCALE_KEY = ewma_key("r2", 0.94)  # the EWMA whose square root is the scale


def bar_quantities(o: Any, h: Any, lo: Any, c: Any, v: Any, prev_c: Any) -> dict[str, Any]:
    """Per-bar quantities; works elementwise on arrays (offline) and on scalars (online)."""
    rng = np.log(h / lo)
    return {
        "r": np.log(c / prev_c),
        "r2": np.log(c / prev_c) ** 2,
        "gap": np.log(o / prev_c),
        "body": np.log(c / o),
        "range": rng,
        "upper": np.log(h / np.maximum(o, c)),
        "lower": np.log(np.minimum(o, c) / lo),
        "park2": rng**2 / (4 * np.log(2)),
        "logv": np.log1p(v),
    }


def combine(raw: dict[str, Any], ew: dict[str, Any], ts: Any) -> list[Any]:
    """Feature values from raw quantities, EWMA states and timestamps (arrays or scalars)."""
    vol = np.sqrt(ew[SCALE_KEY] + EPS)
    day = 2 * np.pi * ts.day_of_week / 7
    hour = 2 * np.pi * (ts.hour + ts.minute / 60) / 24
    month = 2 * np.pi * (ts.month - 1) / 12
    return [
        raw["r"] / vol, raw["gap"] / vol, raw["body"] / vol, raw["range"] / vol,
        raw["upper"] / vol, raw["lower"] / vol,
        ew[ewma_key("r", 0.8)] / vol, ew[ewma_key("r", 0.97)] / vol,
        np.log(vol),
        0.5 * np.log((ew[ewma_key("r2", 0.8)] + EPS) / vol**2),
        0.5 * np.log((ew[ewma_key("r2", 0.99)] + EPS) / vol**2),
        0.5 * np.log((ew[ewma_key("park2", 0.94)] + EPS) / vol**2),
        raw["logv"] - ew[ewma_key("logv", 0.94)],
        np.sin(day), np.cos(day), np.sin(hour), np.cos(hour), np.sin(month), np.cos(month),
    ]  # fmt: skip


def compute(bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised features over history.

    Returns
    -------
    features : (T, F) float64, row t uses bars 0..t only
    scale : (T,) the RiskMetrics volatility at each bar (targets are divided by it)
    """
    o, h, lo, c, v = (bars[k].to_numpy(float) for k in ("open", "high", "low", "close", "volume"))
    prev_c = np.concatenate([o[:1], c[:-1]])
    raw = bar_quantities(o, h, lo, c, v, prev_c)
    ew = {}
    for name, decay in EWMAS:
        x = raw[name]
        ew[ewma_key(name, decay)] = lfilter([1 - decay], [1, -decay], x, zi=[decay * x[0]])[0]
    index = pd.DatetimeIndex(bars.index)
    feats = np.stack(combine(raw, ew, index), axis=1)
    return feats, np.sqrt(ew[SCALE_KEY] + EPS)


class OnlineFeatures:
    """The same features, one bar at a time, in O(1) time and memory per bar."""

    def __init__(self) -> None:
        self.prev_close: float | None = None
        self.ew: dict[str, float] = {}

    def update(
        self, ts: pd.Timestamp, o: float, h: float, lo: float, c: float, v: float
    ) -> tuple[np.ndarray, float]:
        """Advance by one bar; return its feature vector (F,) and scale."""
        raw = bar_quantities(o, h, lo, c, v, o if self.prev_close is None else self.prev_close)
        for name, decay in EWMAS:
            key = ewma_key(name, decay)
            prev = self.ew.get(key, raw[name])
            self.ew[key] = decay * prev + (1 - decay) * raw[name]
        self.prev_close = c
        return np.array(combine(raw, self.ew, ts), dtype=float), float(
            np.sqrt(self.ew[SCALE_KEY] + EPS)
        )


def targets(bars: pd.DataFrame, horizons: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Forward targets per horizon, (T, H) each; NaN where the horizon runs past the data.

    ``ret``: log(close[t+h] / close[t]); ``up``: ret > 0; ``high`` / ``low``: log of the highest
    high / lowest low over bars t+1..t+h relative to close[t].
    """
    c, h, lo = (bars[k].to_numpy(float) for k in ("close", "high", "low"))
    n = len(c)
    out = {k: np.full((n, len(horizons)), np.nan) for k in ("ret", "up", "high", "low")}
    for j, hz in enumerate(horizons):
        ret = np.log(c[hz:] / c[:-hz])
        win_h = np.lib.stride_tricks.sliding_window_view(h[1:], hz).max(axis=1)
        win_l = np.lib.stride_tricks.sliding_window_view(lo[1:], hz).min(axis=1)
        out["ret"][: n - hz, j] = ret
        out["up"][: n - hz, j] = (ret > 0).astype(float)
        out["high"][: n - hz, j] = np.log(win_h / c[: n - hz])
        out["low"][: n - hz, j] = np.log(win_l / c[: n - hz])
    return out


def build_series(bars: pd.DataFrame, horizons: tuple[int, ...]) -> Series:
    """Features, scale, returns and targets of validated bars, ready for any model."""
    feats, scale = compute(bars)
    close = bars["close"].to_numpy(float)
    returns = np.concatenate([[0.0], np.diff(np.log(close))])
    return Series(feats, scale, returns, targets(bars, horizons), tuple(horizons))
