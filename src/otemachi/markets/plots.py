"""Backtest plots (forecast fan over price, calibration, cumulative pinball vs the random walk)
and the fan of a live stream's forecasts."""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from otemachi.core.report import save_figure
from otemachi.markets.metrics import pinball_series

if TYPE_CHECKING:
    from otemachi.markets.evaluate import Backtest

Draw = Callable[[Axes, int, np.ndarray, np.ndarray], None]


def fan_chart(
    bt: "Backtest", model: str, path: Path, horizon_idx: int = 0, last: int = 250
) -> Path:
    """Close price with the model's 50% and 80% forecast bands for one horizon, last N origins."""
    f, h = bt.forecasts[model], bt.series.horizons[horizon_idx]
    origins = bt.origins[-(last + h) : -h] if len(bt.origins) > last + h else bt.origins[:-h]
    sel = np.searchsorted(bt.origins, origins)
    close = np.exp(np.cumsum(bt.series.returns))  # relative price path
    base = close[origins][:, None] * np.exp(f.ret_q[sel, horizon_idx])  # (N, Q)
    when = bt.index[origins + h]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.fill_between(when, base[:, 0], base[:, -1], alpha=0.25, label="80% band")
    ax.fill_between(when, base[:, 1], base[:, -2], alpha=0.45, label="50% band")
    ax.plot(when, base[:, 2], lw=0.8, label="median")
    ax.plot(when, close[origins + h], "k", lw=0.9, label="close")
    ax.set_title(f"{model}: {h}-bar-ahead forecast fan (out of sample)")
    ax.set_ylabel("price (relative)")
    ax.legend(loc="upper left")
    return save_figure(fig, path)


def _per_horizon(bt: "Backtest", path: Path, title: str, draw: Draw) -> Path:
    """One panel per horizon; ``draw(ax, j, y, ok)`` fills panel j from its outcomes."""
    hs = bt.series.horizons
    fig, axes = plt.subplots(1, len(hs), figsize=(4.2 * len(hs), 4), squeeze=False)
    for j, (ax, h) in enumerate(zip(axes[0], hs, strict=True)):
        y = bt.series.targets["ret"][bt.origins, j]
        ok = ~np.isnan(y)
        draw(ax, j, y[ok], ok)
        ax.set_title(f"h={h}")
    axes[0][0].legend()
    fig.suptitle(title)
    return save_figure(fig, path)


def calibration(bt: "Backtest", path: Path) -> Path:
    """Reliability of every quantile: the fraction of outcomes at or below it, per model."""
    taus = np.asarray(bt.series.quantiles)

    def draw(ax: Axes, j: int, y: np.ndarray, ok: np.ndarray) -> None:
        for name, f in bt.forecasts.items():
            ax.plot(taus, (y[:, None] <= f.ret_q[ok, j]).mean(axis=0), "o-", label=name)
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set(xlabel="nominal quantile", ylabel="observed frequency")

    return _per_horizon(bt, path, "Calibration: observed vs nominal quantile levels", draw)


def cumulative_pinball(bt: "Backtest", path: Path) -> Path:
    """Cumulative pinball loss of each model minus that of the random walk (below 0 = better)."""
    taus = np.asarray(bt.series.quantiles)

    def draw(ax: Axes, j: int, y: np.ndarray, ok: np.ndarray) -> None:
        rw = pinball_series(y, bt.forecasts["rw"].ret_q[ok, j], taus)
        for name, f in bt.forecasts.items():
            loss = pinball_series(y, f.ret_q[ok, j], taus)
            ax.plot(bt.index[bt.origins[ok]], np.cumsum(loss - rw), label=name)
        ax.axhline(0, color="k", lw=0.6)
        ax.set(ylabel="cumulative pinball - random walk")
        ax.tick_params(axis="x", rotation=45)

    return _per_horizon(bt, path, "Cumulative pinball loss against the random walk", draw)


def all_plots(bt: "Backtest", out: Path, model: str) -> list[Path]:
    """Save the three standard plots into ``out``."""
    return [
        fan_chart(bt, model, out / f"fan_{model}.png"),
        calibration(bt, out / "calibration.png"),
        cumulative_pinball(bt, out / "cumulative_pinball.png"),
    ]


def live_fan(bars: pd.DataFrame, docs: list[dict[str, Any]], path: Path) -> Path:
    """A symbol's close with the 50% and 80% bands of its live one-bar-ahead forecasts, each
    drawn at the bar it forecast; P(up) below."""
    docs = sorted(docs, key=lambda d: d["time"])[:-1]  # the last one forecasts a bar not seen
    when = [pd.Timestamp(d["time"]) for d in docs]
    close = bars["close"].reindex(when).to_numpy()
    q = np.exp(np.array([d["ret_q"][0] for d in docs])) * close[:, None]  # (N, Q) at h = 1
    nxt = bars.index[bars.index.get_indexer(pd.DatetimeIndex(when)) + 1]
    fig, (top, low) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
    top.fill_between(nxt, q[:, 0], q[:, -1], alpha=0.25, label="80% band")
    top.fill_between(nxt, q[:, 1], q[:, -2], alpha=0.45, label="50% band")
    top.plot(bars.index, bars["close"], "k", lw=0.9, label="close")
    top.set_title(f"{docs[0]['symbol']}: live one-bar-ahead forecasts, as each bar closed")
    top.legend(loc="upper left")
    low.plot(nxt, [d["p_up"][0] for d in docs], lw=0.9)
    low.axhline(0.5, color="grey", lw=0.6)
    low.set_ylabel("P(up)")
    return save_figure(fig, path)


def panel_crps(ratios: dict[int, dict[str, float]], path: Path) -> Path:
    """Mean CRPS over the series of a panel backtest, relative to the random walk's, per model and
    horizon (below 1 beats the naive forecast)."""
    horizons = list(ratios)
    models = [m for m in ratios[horizons[0]] if m != "rw"]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        xs = np.arange(len(horizons)) + i * width
        ax.bar(xs, [ratios[h][model] for h in horizons], width, label=model)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(horizons)) + width * (len(models) - 1) / 2)
    ax.set_xticklabels([f"h = {h}" for h in horizons])
    low = min(ratios[h][m] for h in horizons for m in models) if models else 0.9
    ax.set_ylim(min(low, 1.0) - 0.02, 1.02)
    ax.set_ylabel("CRPS / random walk's (mean over series)")
    ax.set_title("panel backtest, out of sample")
    ax.legend(fontsize=8, ncol=3)
    return save_figure(fig, path)
