"""A pooled network beside a per-series volatility model, their forecasts averaged in quantile
space with equal weights (each quantile the mean of the two, P(up) too). The network is good
where recent bars say most (h = 1, 5) and GARCH-t where volatility's pull back to its mean does
(h = 20); the average stands on both. The weight is fixed at one half, not fitted."""

from collections.abc import Callable
from typing import Protocol

import numpy as np

from otemachi.core.errors import InvalidInput
from otemachi.markets.forecast import Forecast, Model, Series
from otemachi.markets.train import Span, average


class Pooled(Protocol):
    """A model fit on several series at once (a global network)."""

    def fit_many(self, spans: list[Span]) -> None: ...

    def predict(self, series: Series, origins: np.ndarray) -> Forecast: ...


class Blend:
    """``pooled`` fit on every span, and one ``single()`` per span fit on that span alone."""

    def __init__(self, pooled: Pooled, single: Callable[[], Model]) -> None:
        self.pooled, self.single = pooled, single
        self.own: list[tuple[Series, Model]] = []

    def fit_many(self, spans: list[Span]) -> None:
        self.pooled.fit_many(spans)
        self.own = []
        for span in spans:
            model = self.single()
            model.fit(span.series, span.start, span.stop)
            self.own.append((span.series, model))

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        found = [m for s, m in self.own if s is series]
        if not found:
            raise InvalidInput("a blend forecasts only the series it was fit on")
        return average([self.pooled.predict(series, origins), found[0].predict(series, origins)])
