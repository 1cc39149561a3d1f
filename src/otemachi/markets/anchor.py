"""What an anchored forecaster stands on: GARCH(1,1) with Student-t shocks fitted on the training
span. Its predictive quantiles, in the network's units (RiskMetrics volatility x sqrt(h)), are the
base the network corrects, and the log of its volatility in the same units is one more input per
horizon, so the network sees where GARCH and RiskMetrics disagree."""

from dataclasses import dataclass

import numpy as np
import torch

from otemachi.markets.baselines import GarchT
from otemachi.markets.features import WARMUP
from otemachi.markets.forecast import Series
from otemachi.markets.model import TARGETS


@dataclass(frozen=True)
class Anchor:
    """The anchor over every bar of one series (bars before WARMUP copy the first forecast)."""

    inputs: np.ndarray  # (T, H) log(GARCH sd / unit)
    base: dict[str, np.ndarray]  # "ret" | "high" | "low" -> (T, H, Q) GARCH-t quantiles / unit

    def tensors(self) -> dict[str, torch.Tensor]:
        return {k: torch.tensor(v, dtype=torch.float32) for k, v in self.base.items()}


def fit(series: Series, start: int, stop: int) -> Anchor:
    """GARCH-t fitted on bars ``start``..``stop - 1``, then run over the whole series (its
    volatility at bar t uses returns up to t only)."""
    garch = GarchT()
    garch.fit(series, start, stop)
    first = min(WARMUP, len(series.scale) - 1)
    rows = np.arange(first, len(series.scale))
    mean, sd = garch.sigma(series, rows)
    f = garch.forecast(mean, sd)
    unit = series.unit(rows)
    pad = lambda a: np.concatenate([np.repeat(a[:1], first, axis=0), a])  # noqa: E731
    base = {k: pad(getattr(f, f"{k}_q") / unit[..., None]) for k in TARGETS}
    return Anchor(pad(np.log(sd / unit)), base)


def inputs(series: Series, anchor: Anchor | None) -> torch.Tensor:
    """(T, F[+H]) the network's inputs: the series' features, then the anchor's, if any."""
    x = series.features if anchor is None else np.concatenate([series.features, anchor.inputs], 1)
    return torch.tensor(x, dtype=torch.float32)
