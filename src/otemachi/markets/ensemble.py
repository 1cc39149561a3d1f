"""Forecasts combined in quantile space: each quantile (and P(up)) the mean of the members'. A
mean of non-decreasing quantile vectors stays non-decreasing, so the combination is a forecast
too. ``SeedEnsemble`` combines one network trained from several seeds; a panel backtest's mixes
combine a network with GARCH-t."""

from dataclasses import replace

import numpy as np

from otemachi.markets.forecast import Forecast, Series
from otemachi.markets.model import RNNConfig
from otemachi.markets.train import RNNModel, Span, TrainConfig


class SeedEnsemble:
    """The same network trained from several seeds, its forecasts averaged in quantile space
    (each quantile averaged across members, which keeps them in order) and P(up) averaged."""

    def __init__(self, cfg: RNNConfig, train: TrainConfig, seeds: int) -> None:
        self.members = [RNNModel(cfg, replace(train, seed=train.seed + i)) for i in range(seeds)]

    def fit(self, series: Series, start: int, stop: int) -> None:
        self.fit_many([Span(series, start, stop)])

    def fit_many(self, spans: list[Span]) -> None:
        for member in self.members:
            member.fit_many(spans)

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        return average([m.predict(series, origins) for m in self.members])


def average(members: list[Forecast]) -> Forecast:
    """Forecasts averaged in quantile space (each quantile across members) and in P(up)."""
    keys = ("ret_q", "high_q", "low_q", "p_up")
    return Forecast(*(np.mean([getattr(f, k) for f in members], axis=0) for k in keys))
