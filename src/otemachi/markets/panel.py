"""Walk-forward over several series at once. One calendar fold schedule serves every series: a
fold's test block starts on the same date in all of them, and every model trains only on targets
that end before that date, in every series. A global network is fit once per fold on every
series' training span; every other model is fit per series, as in a one-series backtest."""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from otemachi.core.errors import InvalidInput
from otemachi.core.progress import console
from otemachi.markets import evaluate, plots
from otemachi.markets.ensemble import SeedEnsemble, average
from otemachi.markets.evaluate import MODELS, STRONGEST, Backtest
from otemachi.markets.features import WARMUP, build_series
from otemachi.markets.forecast import Forecast, Series
from otemachi.markets.train import GLOBAL_TRAIN, RNNModel, Span, TrainConfig

SCHEDULED = replace(GLOBAL_TRAIN, plateau=0.5)  # the learning rate halves after a stale epoch
ASSETS = 16  # embedding slots of a global network with one vector per series
GLOBAL: dict[str, Callable[[int, tuple[int, ...]], RNNModel | SeedEnsemble]] = {
    "global": evaluate.rnn("gru", train=GLOBAL_TRAIN),  # one GRU over every series
    # the same, its quantiles a correction to GARCH-t's
    "global-anchored": evaluate.rnn("gru", anchor=True, train=GLOBAL_TRAIN),
    # "global" with one more part each (the ablation), then with all of them
    "global-sched": evaluate.rnn("gru", train=SCHEDULED),
    "global-vol": evaluate.rnn("gru", garch_inputs=True, train=GLOBAL_TRAIN),
    "global-emb": evaluate.rnn("gru", assets=ASSETS, train=GLOBAL_TRAIN),
    "global-ens": evaluate.ensemble("gru", train=GLOBAL_TRAIN),
    "global-all": evaluate.ensemble("gru", garch_inputs=True, assets=ASSETS, train=SCHEDULED),
}
# Leave-one-series-out: per tested series, "global" fit on the *other* series, then fine-tuned on
# this one's training span (its weights kept where fine-tuning does not beat them on the span's
# validation part; recalibrated on the series either way).
TRANSFER = "transfer"
# A network's forecasts averaged in quantile space, with equal weights, with those of the series'
# own GARCH-t (evaluate.STRONGEST, fit on the same bars); the weight is fixed, not fitted.
MIXES = {"global-mix": "global", "transfer-mix": TRANSFER}
FINE_TUNE = TrainConfig(lr=3e-4, max_epochs=15, patience=3)
NAMES = [*MODELS, *GLOBAL, TRANSFER, *MIXES]  # every model a panel backtest can run
MIN_TRAIN = 600  # bars of history (after WARMUP) before a series is trained on or tested


@dataclass
class Panel:
    """A backtest per series (same models, that series' out-of-sample origins) and the fold
    dates they share."""

    backtests: dict[str, Backtest]
    dates: list[int]  # fold boundaries, ns since the epoch (UTC)

    def mean_scores(self) -> dict[int, dict[str, dict[str, float]]]:
        """Per horizon and model: each metric but the p-values averaged over the series, and
        ``crps_vs_rw``, the mean over series of the model's CRPS divided by the random walk's."""
        first = next(iter(self.backtests.values())).scores
        out: dict[int, dict[str, dict[str, float]]] = {}
        for h, table in first.items():
            out[h] = {}
            for model in table:
                rows = [bt.scores[h][model] for bt in self.backtests.values()]
                # p-values are per series: a mean of them is no test
                mean = {k: _mean([r[k] for r in rows]) for k in rows[0] if "pvalue" not in k}
                ratios = [bt.scores[h][model]["crps"] / bt.scores[h]["rw"]["crps"]
                          for bt in self.backtests.values()]  # fmt: skip
                mean["crps_vs_rw"] = _mean(ratios)
                out[h][model] = mean
        return out


def fold_dates(stamps: dict[str, np.ndarray], refits: int = 6) -> list[int]:
    """Test-block boundaries (ns since the epoch) from each series' bar times: the first where
    40% of all bars lie before it, then ``refits`` blocks of equal pooled bar count, the last
    ending just after the last bar."""
    pooled = np.sort(np.concatenate(list(stamps.values())))
    cuts = [int(pooled[min(int(c * len(pooled)), len(pooled) - 1)])
            for c in np.linspace(0.4, 1.0, refits + 1)]  # fmt: skip
    cuts[-1] = int(pooled[-1]) + 1
    return sorted(set(cuts))


def run(
    bars: dict[str, pd.DataFrame],
    models: list[str],
    horizons: tuple[int, ...] = (1, 5, 20),
    seed: int = 0,
    refits: int = 6,
) -> Panel:
    """Walk-forward backtest of ``models`` (global ones from GLOBAL, others from
    evaluate.MODELS) on every series in ``bars`` with one calendar fold schedule."""
    unknown = [m for m in models if m not in NAMES]
    if unknown:
        raise InvalidInput(f"unknown model(s) {unknown}; choose from {NAMES}")
    if len(bars) < 2:
        raise InvalidInput("a panel backtest needs at least two series")
    models = ["rw", *[m for m in models if m != "rw"]]
    series = {name: build_series(b, horizons) for name, b in bars.items()}
    stamps = _stamps(bars)
    dates = fold_dates(stamps, refits)
    parts: dict[str, dict[str, list[Forecast]]] = {n: {m: [] for m in models} for n in bars}
    origins: dict[str, list[np.ndarray]] = {n: [] for n in bars}
    for k, (test_start, test_end) in enumerate(pairwise(dates)):
        cut = {n: int(np.searchsorted(t, test_start)) for n, t in stamps.items()}
        end = {n: min(int(np.searchsorted(t, test_end)), len(t) - 1) for n, t in stamps.items()}
        trained = [n for n in bars if cut[n] - WARMUP >= MIN_TRAIN]
        tested = {n: np.arange(cut[n], end[n]) for n in trained}
        tested = {n: o for n, o in tested.items() if len(o)}
        day = pd.Timestamp(test_start, tz="UTC").date()
        console.print(f"fold {k + 1}/{len(dates) - 1}: test from {day}, "
                      f"{len(trained)} series train, {len(tested)} tested")  # fmt: skip
        if not tested:
            continue
        # Each model's forecasts for this fold, made once: a mix reuses its network's and
        # GARCH-t's, whether or not they run too.
        made: dict[str, dict[str, Forecast]] = {}
        for name in models:
            for need in (MIXES[name], STRONGEST) if name in MIXES else (name,):
                if need not in made:
                    made[need] = _forecasts(need, series, cut, trained, tested, seed, horizons)
            for n in tested:
                parts[n][name].append(average([made[MIXES[name]][n], made[STRONGEST][n]])
                                      if name in MIXES else made[name][n])  # fmt: skip
        for n, o in tested.items():
            origins[n].append(o)
    tested_on = [n for n in bars if origins[n]]
    if not tested_on:
        raise InvalidInput(f"no series has {MIN_TRAIN} bars of history before a test block")
    return assemble(
        {n: series[n] for n in tested_on}, {n: pd.DatetimeIndex(bars[n].index) for n in tested_on},
        {n: np.concatenate(origins[n]) for n in tested_on},
        {n: {m: evaluate.concat(p) for m, p in parts[n].items()} for n in tested_on},
        dates,
    )  # fmt: skip


def assemble(
    series: dict[str, Series],
    indexes: dict[str, pd.DatetimeIndex],
    origins: dict[str, np.ndarray],
    forecasts: dict[str, dict[str, Forecast]],
    dates: list[int],
) -> Panel:
    """The panel of each series' out-of-sample forecasts, scored."""
    backtests = {}
    for n, s in series.items():
        bt = Backtest(s, indexes[n], origins[n], forecasts[n])
        bt.scores = evaluate.score(bt)
        backtests[n] = bt
    return Panel(backtests, dates)


def schedule(bars: dict[str, pd.DataFrame], refits: int = 6) -> list[int]:
    """The fold dates of a panel backtest of ``bars``."""
    return fold_dates(_stamps(bars), refits)


def _stamps(bars: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Each series' bar times, ns since the epoch (UTC)."""
    return {n: _ns(pd.DatetimeIndex(b.index)) for n, b in bars.items()}


def to_json(panel: Panel) -> dict[str, object]:
    """The ``--json`` object: fold dates, each series' backtest, and the means over series."""
    return {
        "folds": [str(pd.Timestamp(d, tz="UTC").date()) for d in panel.dates[:-1]],
        "series": {n: evaluate.to_json(bt, n) for n, bt in panel.backtests.items()},
        "mean": {
            str(h): {m: {k: evaluate.clean(v) for k, v in s.items()} for m, s in table.items()}
            for h, table in panel.mean_scores().items()
        },
    }


def save(panel: Panel, out: Path) -> list[Path]:
    """Write results.json and the CRPS-ratio plot into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    result = out / "results.json"
    result.write_text(json.dumps(to_json(panel), indent=2))
    ratios = {h: {m: s["crps_vs_rw"] for m, s in t.items()} for h, t in panel.mean_scores().items()}
    return [result, plots.panel_crps(ratios, out / "panel_crps.png")]


def _forecasts(
    name: str,
    series: dict[str, Series],
    cut: dict[str, int],
    trained: list[str],
    tested: dict[str, np.ndarray],
    seed: int,
    horizons: tuple[int, ...],
) -> dict[str, Forecast]:
    """One fold's forecasts of a model for every tested series: one network fit on every
    trained series (GLOBAL), one per tested series fit on the others (TRANSFER), or one model
    per series fit on its own bars (MODELS)."""
    if name == TRANSFER:
        return {n: _transfer(series, cut, trained, n, seed, horizons, o) for n, o in tested.items()}
    if name in GLOBAL:
        net = GLOBAL[name](seed, horizons)
        net.fit_many([Span(series[n], 0, cut[n]) for n in trained])
        return {n: net.predict(series[n], o) for n, o in tested.items()}
    out = {}
    for n, o in tested.items():
        model = MODELS[name](seed, horizons)
        model.fit(series[n], 0, cut[n])
        out[n] = model.predict(series[n], o)
    return out


def _transfer(
    series: dict[str, Series],
    cut: dict[str, int],
    trained: list[str],
    target: str,
    seed: int,
    horizons: tuple[int, ...],
    origins: np.ndarray,
) -> Forecast:
    """The global network fit on every trained series but ``target``, then fine-tuned on it."""
    own = Span(series[target], 0, cut[target])
    others = [Span(series[n], 0, cut[n]) for n in trained if n != target]
    net = GLOBAL["global"](seed, horizons)
    assert isinstance(net, RNNModel)
    if not others:  # no other series has history yet: a network of its own
        console.print(f"  {target}: no other series to transfer from; trained on its own")
        net.fit_many([own])
        return net.predict(series[target], origins)
    net.fit_many(others)
    tuned = net.fine_tuned(own, replace(FINE_TUNE, seed=seed))
    console.print(
        f"  {target}: {'fine-tuned' if tuned.tuned else 'global weights kept (fine-tuning lost)'}"
    )
    return tuned.predict(series[target], origins)


def _ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Bar times as ns since the epoch, UTC (naive times are taken as UTC)."""
    utc = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return utc.as_unit("ns").asi8


def _mean(values: list[float]) -> float:
    """The mean of the values that are defined (NaN when none is)."""
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")
