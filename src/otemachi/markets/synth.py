"""Synthetic bars with a known true distribution: GARCH(1,1) returns and their true sigma."""

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SynthSeries:
    """Bars plus the true conditional standard deviation of each bar's close-to-close log return."""

    bars: pd.DataFrame
    sigma: np.ndarray  # (T,) std of log(close_t / close_{t-1}) given the past


def _bars_from_returns(
    ret: np.ndarray, sigma: np.ndarray, rng: np.random.Generator, start: float = 100.0
) -> pd.DataFrame:
    close = start * np.exp(np.cumsum(ret))
    open_ = np.concatenate([[start], close[:-1]])
    # Intrabar extremes: half-normal excursions beyond the open/close range, scaled by sigma.
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.5, len(ret))) * sigma)
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.5, len(ret))) * sigma)
    volume = np.round(1e6 * np.exp(rng.normal(0, 0.3, len(ret)) + 20 * np.abs(ret)))
    index = pd.bdate_range("2000-01-03", periods=len(ret), tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def garch(
    n: int,
    rng: np.random.Generator,
    omega: float = 2e-6,
    alpha: float = 0.08,
    beta: float = 0.9,
    nu: float | None = None,
) -> SynthSeries:
    """GARCH(1,1) returns r_t = sigma_t * z_t, z_t Gaussian, or with ``nu`` Student-t with nu
    degrees of freedom scaled to unit variance."""
    var = omega / (1 - alpha - beta)
    ret = np.empty(n)
    sigma = np.empty(n)
    z = rng.standard_normal(n) if nu is None else rng.standard_t(nu, n) * np.sqrt((nu - 2) / nu)
    for t in range(n):
        sigma[t] = np.sqrt(var)
        ret[t] = sigma[t] * z[t]
        var = omega + alpha * ret[t] ** 2 + beta * var
    return SynthSeries(_bars_from_returns(ret, sigma, rng), sigma)
