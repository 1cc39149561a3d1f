"""Baselines on the same folds as the network: random walk, EWMA (RiskMetrics), GARCH(1,1) with
Gaussian or Student-t shocks, and a gradient-boosted quantile model on the same features."""

import warnings
from typing import Any, Literal

import numpy as np
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from otemachi.markets.features import WARMUP
from otemachi.markets.forecast import Forecast, Series


def _train_rows(series: Series, start: int, stop: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Origins usable for fitting (targets purged at ``stop``) and their targets."""
    rows = np.arange(max(start, WARMUP), stop)
    masked = series.masked_targets(stop)
    return rows, {k: v[rows] for k, v in masked.items()}


def _nanquantiles(x: np.ndarray, taus: tuple[float, ...]) -> np.ndarray:
    """(H, Q) quantiles of (N, H) values, ignoring NaN."""
    return np.nanquantile(x, taus, axis=0).T


class RandomWalk:
    """No change: the median is 0; intervals are the empirical spread of past h-bar returns."""

    def fit(self, series: Series, start: int, stop: int) -> None:
        _, y = _train_rows(series, start, stop)
        taus = series.quantiles
        q = _nanquantiles(y["ret"], taus)
        self.ret_q = q - q[:, [taus.index(0.5)]]  # (H, Q), centred on zero change
        self.high_q, self.low_q = _nanquantiles(y["high"], taus), _nanquantiles(y["low"], taus)
        self.p_up = np.nanmean(y["up"], axis=0)  # base rate of up moves

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        n = len(origins)
        tile = lambda a: np.broadcast_to(a, (n, *a.shape)).copy()  # noqa: E731
        return Forecast(tile(self.ret_q), tile(self.high_q), tile(self.low_q), tile(self.p_up))


class VolScaled:
    """Zero-mean Gaussian returns with a conditional volatility; high/low from the empirical
    distribution of past extremes in volatility units. Subclasses supply the volatility.
    With no drift model, P(up) is the training base rate of up moves."""

    directional = False  # True when the mean forecast carries a view on direction

    def sigma(self, series: Series, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, H) mean and standard deviation of the h-bar log return."""
        unit = series.unit(origins)  # RiskMetrics, lambda = 0.94
        return np.zeros_like(unit), unit

    def fit(self, series: Series, start: int, stop: int) -> None:
        rows, y = _train_rows(series, start, stop)
        _, sd = self.sigma(series, rows)
        self.high_z = _nanquantiles(y["high"] / sd, series.quantiles)
        self.low_z = _nanquantiles(y["low"] / sd, series.quantiles)
        self.base_up = np.nanmean(y["up"], axis=0)  # (H,)
        self.quantiles = series.quantiles

    def shape(self) -> Any:
        """The standardised (unit variance) distribution of a return divided by its sigma."""
        return stats.norm()

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        return self.forecast(*self.sigma(series, origins))

    def forecast(self, mean: np.ndarray, sd: np.ndarray) -> Forecast:
        """The forecast from (N, H) means and standard deviations of the h-bar log return."""
        dist = self.shape()
        ret_q = mean[..., None] + sd[..., None] * dist.ppf(self.quantiles)
        return Forecast(
            ret_q,
            sd[..., None] * self.high_z[None],
            sd[..., None] * self.low_z[None],
            dist.cdf(mean / sd) if self.directional else np.tile(self.base_up, (len(sd), 1)),
        )


class EWMA(VolScaled):
    """RiskMetrics: sigma^2_t = 0.94 sigma^2_{t-1} + 0.06 r^2_t, Gaussian intervals."""


class Garch(VolScaled):
    """GARCH(1,1) with a constant mean and Gaussian shocks, fitted by maximum likelihood with
    ``arch``."""

    directional = True
    dist: Literal["normal", "t"] = "normal"

    def fit(self, series: Series, start: int, stop: int) -> None:
        from arch import arch_model

        model = arch_model(100 * series.returns[1:], mean="Constant", vol="GARCH",
                           dist=self.dist, rescale=False)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.result = model.fit(first_obs=max(start, 1) - 1, last_obs=stop - 1, disp="off")
        super().fit(series, start, stop)

    def sigma(self, series: Series, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h_max = max(series.horizons)
        # Row i of the forecast is made at return index i, i.e. at bar i + 1.
        fc = self.result.forecast(start=int(origins.min()) - 1, horizon=h_max, reindex=False)
        rows = origins - int(origins.min())
        var = np.cumsum(fc.variance.to_numpy()[rows], axis=1) / 1e4  # (N, h_max)
        mean = np.cumsum(fc.mean.to_numpy()[rows], axis=1) / 100
        cols = np.asarray(series.horizons) - 1
        return mean[:, cols], np.sqrt(var[:, cols])


class GBMQuantile:
    """Histogram gradient boosting per horizon and quantile on the same features, with targets in
    RiskMetrics volatility units; quantiles are sorted so they never cross."""

    def __init__(self, seed: int = 0, max_iter: int = 100) -> None:
        self.seed, self.max_iter = seed, max_iter

    def _reg(self, tau: float) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss="quantile", quantile=tau, max_iter=self.max_iter, learning_rate=0.05,
            max_leaf_nodes=15, min_samples_leaf=40, random_state=self.seed,
        )  # fmt: skip

    def fit(self, series: Series, start: int, stop: int) -> None:
        rows, y = _train_rows(series, start, stop)
        unit, x = series.unit(rows), series.features[rows]
        self.models: dict[tuple[str, int], list[HistGradientBoostingRegressor]] = {}
        self.clf: list[HistGradientBoostingClassifier] = []
        for j in range(len(series.horizons)):
            ok = ~np.isnan(y["ret"][:, j])
            for key in ("ret", "high", "low"):
                target = y[key][ok, j] / unit[ok, j]
                self.models[key, j] = [self._reg(t).fit(x[ok], target) for t in series.quantiles]
            clf = HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=0.05, max_leaf_nodes=15,
                min_samples_leaf=40, random_state=self.seed,
            )  # fmt: skip
            self.clf.append(clf.fit(x[ok], y["up"][ok, j]))

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        x, unit = series.features[origins], series.unit(origins)
        out = {}
        for key in ("ret", "high", "low"):
            q = np.stack(
                [
                    np.stack([m.predict(x) for m in self.models[key, j]], axis=1)
                    for j in range(len(series.horizons))
                ],
                axis=1,
            )  # (N, H, Q)
            out[key] = np.sort(q, axis=-1) * unit[..., None]
        p_up = np.stack([c.predict_proba(x)[:, 1] for c in self.clf], axis=1)
        return Forecast(out["ret"], out["high"], out["low"], p_up)


class GarchT(Garch):
    """GARCH(1,1) with Student-t shocks (the degrees of freedom fitted too). Intervals use the
    fitted t, scaled to unit variance, at every horizon: exact at h = 1; a sum of h such shocks
    has lighter tails, so at longer horizons the intervals lean wide."""

    dist: Literal["normal", "t"] = "t"

    def shape(self) -> Any:
        nu = float(self.result.params["nu"])
        return stats.t(nu, scale=np.sqrt((nu - 2) / nu))
