"""The common currency of markets models: what they are fit on and what they forecast."""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
HORIZONS = (1, 5, 20)


@dataclass(frozen=True)
class Series:
    """One asset's history in model-ready form. Row t only uses bars 0..t."""

    features: np.ndarray  # (T, F)
    scale: np.ndarray  # (T,) RiskMetrics volatility per bar
    returns: np.ndarray  # (T,) close-to-close log returns (0 at t = 0)
    targets: dict[str, np.ndarray]  # "ret" | "up" | "high" | "low" -> (T, H)
    horizons: tuple[int, ...]
    quantiles: tuple[float, ...] = QUANTILES

    def unit(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(N, H) the unit targets are measured in: RiskMetrics volatility x sqrt(h)."""
        return self.scale[rows, None] * np.sqrt(np.asarray(self.horizons))[None, :]

    def masked_targets(self, stop: int) -> dict[str, np.ndarray]:
        """Targets with every value that looks at bar ``stop`` or later set to NaN (the purge)."""
        out = {}
        times = np.arange(len(self.scale))[:, None]
        reach = times + np.asarray(self.horizons)[None, :]
        for key, arr in self.targets.items():
            out[key] = np.where(reach < stop, arr, np.nan)
        return out


@dataclass(frozen=True)
class Forecast:
    """Forecasts for N origins and H horizons, in log-return units relative to the origin close."""

    ret_q: np.ndarray  # (N, H, Q) non-decreasing in Q
    high_q: np.ndarray  # (N, H, Q)
    low_q: np.ndarray  # (N, H, Q)
    p_up: np.ndarray  # (N, H)


class Model(Protocol):
    """What walk-forward evaluation needs from a model or baseline."""

    def fit(self, series: Series, start: int, stop: int) -> None:
        """Fit on origins from ``start`` whose targets end before bar ``stop``."""

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        """Forecast from each origin, using bars up to and including it."""
