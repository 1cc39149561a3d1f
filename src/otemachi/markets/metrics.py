"""Forecast metrics: pinball, CRPS, coverage, MAE/MASE, direction, Brier, Diebold-Mariano."""

import math

import numpy as np
from scipy import stats

METRICS = (
    "pinball", "crps", "coverage80", "coverage50", "mae", "mase",
    "dir_acc", "pt_pvalue", "brier", "dm_pvalue_vs_rw",
)  # fmt: skip


def pinball_series(y: np.ndarray, q: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Per-origin mean pinball loss over the quantiles. y: (N,), q: (N, Q) -> (N,)."""
    err = y[:, None] - q
    return np.maximum(taus * err, (taus - 1) * err).mean(axis=1)


def crps(y: np.ndarray, q: np.ndarray, taus: np.ndarray) -> float:
    """CRPS approximated from quantiles: twice the mean pinball loss (a quadrature of the
    CRPS = 2 * integral of pinball_tau over tau on the quantile grid)."""
    return float(2 * pinball_series(y, q, taus).mean())


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Fraction of outcomes inside [lo, hi]."""
    return float(np.mean((y >= lo) & (y <= hi)))


def mase(y: np.ndarray, median: np.ndarray) -> float:
    """MAE of the median divided by the MAE of the naive no-change forecast (which predicts 0)."""
    naive = np.mean(np.abs(y))
    return float(np.mean(np.abs(y - median)) / naive) if naive > 0 else math.nan


def pesaran_timmermann(actual_up: np.ndarray, pred_up: np.ndarray) -> float:
    """One-sided p-value of the Pesaran-Timmermann (1992) test of directional predictability.

    NaN when the forecast (or the outcome) never changes direction: the test is undefined.
    """
    n = len(actual_up)
    py, px = actual_up.mean(), pred_up.mean()
    hit = np.mean(actual_up == pred_up)
    p_star = py * px + (1 - py) * (1 - px)
    var_p = p_star * (1 - p_star) / n
    var_star = (
        (2 * py - 1) ** 2 * px * (1 - px) / n
        + (2 * px - 1) ** 2 * py * (1 - py) / n
        + 4 * py * px * (1 - py) * (1 - px) / n**2
    )
    denom = var_p - var_star
    if denom <= 0:
        return math.nan
    return float(stats.norm.sf((hit - p_star) / math.sqrt(denom)))


def diebold_mariano(loss_a: np.ndarray, loss_b: np.ndarray, horizon: int) -> float:
    """Two-sided Diebold-Mariano p-value (Harvey et al. small-sample correction) that two loss
    series have equal mean; the long-run variance uses horizon - 1 autocovariances."""
    d = loss_a - loss_b
    n = len(d)
    dc = d - d.mean()
    lrv = dc @ dc / n
    for k in range(1, min(horizon, n)):
        lrv += 2 * (dc[k:] @ dc[:-k]) / n
    if n < 3 or lrv <= 1e-20:
        return math.nan
    dm = d.mean() / math.sqrt(lrv / n)
    dm *= math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return float(2 * stats.t.sf(abs(dm), df=n - 1))


def score(
    y: np.ndarray,
    q: np.ndarray,
    p_up: np.ndarray,
    taus: tuple[float, ...],
    horizon: int,
    rw_loss: np.ndarray,
) -> dict[str, float]:
    """All metrics for one model at one horizon. y: (N,), q: (N, Q), p_up: (N,), rw_loss: (N,)."""
    t = np.asarray(taus)
    idx = {tau: i for i, tau in enumerate(taus)}
    med = q[:, idx[0.5]]
    loss = pinball_series(y, q, t)
    up, pred = (y > 0).astype(float), (p_up > 0.5).astype(float)
    return {
        "pinball": float(loss.mean()),
        "crps": crps(y, q, t),
        "coverage80": coverage(y, q[:, idx[0.1]], q[:, idx[0.9]]),
        "coverage50": coverage(y, q[:, idx[0.25]], q[:, idx[0.75]]),
        "mae": float(np.mean(np.abs(y - med))),
        "mase": mase(y, med),
        "dir_acc": float(np.mean(pred == up)),
        "pt_pvalue": pesaran_timmermann(up, pred),
        "brier": float(np.mean((p_up - up) ** 2)),
        "dm_pvalue_vs_rw": diebold_mariano(loss, rw_loss, horizon),
    }
