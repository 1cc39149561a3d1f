"""Walk-forward evaluation: refit every k bars with a purge gap, score every model on the same
out-of-sample origins, say plainly which baselines the network does not beat, and save what a
backtest leaves behind (plots, results.json, tables, checkpoints of the networks)."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from otemachi.core.errors import CheckpointError, InvalidInput, ModelNotTrained
from otemachi.core.progress import console
from otemachi.core.store import Artifact, module_from
from otemachi.markets import baselines, metrics, plots
from otemachi.markets.data import short_name
from otemachi.markets.ensemble import SeedEnsemble
from otemachi.markets.features import WARMUP, build_series
from otemachi.markets.forecast import Forecast, Model, Series
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.markets.train import (
    ARTIFACT,
    RNNModel,
    Setup,
    TrainConfig,
    bars_hash,
    save_model,
)

Maker = Callable[[int, tuple[int, ...]], Model]  # (seed, horizons) -> a model to fit


def rnn(
    cell: str, train: TrainConfig = TrainConfig(), **shape: Any
) -> Callable[[int, tuple[int, ...]], RNNModel]:
    """A maker of one network: ``train`` with the run's seed, ``cell`` over the run's horizons
    (``shape``: more RNNConfig fields)."""
    return lambda seed, hs: RNNModel(
        RNNConfig(cell=cell, horizons=hs, **shape), replace(train, seed=seed)
    )


def ensemble(
    cell: str, train: TrainConfig = TrainConfig(), **shape: Any
) -> Callable[[int, tuple[int, ...]], SeedEnsemble]:
    """A maker of ENSEMBLE such networks, seeds from the run's seed up."""
    return lambda seed, hs: SeedEnsemble(
        RNNConfig(cell=cell, horizons=hs, **shape), replace(train, seed=seed), ENSEMBLE
    )


ENSEMBLE = 3  # seeds in every ensemble (gru-ens, and panel.py's global-ens and global-all)
STRONGEST = "garch-t"  # the baseline every model is also tested against (Diebold-Mariano)
NETS = ("gru", "gru-anchored", "lstm")  # the single networks (checkpointed after a backtest)


MODELS: dict[str, Maker] = {
    "gru": rnn("gru"),
    "gru-ens": ensemble("gru"),
    "gru-anchored": rnn("gru", anchor=True),
    "lstm": rnn("lstm"),
    "rw": lambda seed, hs: baselines.RandomWalk(),
    "ewma": lambda seed, hs: baselines.EWMA(),
    "garch": lambda seed, hs: baselines.Garch(),
    "garch-t": lambda seed, hs: baselines.GarchT(),
    "gbm": lambda seed, hs: baselines.GBMQuantile(seed),
}
# Fold forecasts of the slow deterministic baselines (the boosted model fits for about ten
# seconds a fold) are stored and reloaded like the networks' folds. Bump the revision when
# baselines.py changes what they forecast.
BASELINE_FOLDS = Artifact(
    "markets", "fold", "markets.baseline-fold", "baselines/1", "otemachi markets backtest",
    "baseline fold forecasts",
)  # fmt: skip
STORED = ("gbm",)
FORECAST_FIELDS = tuple(f.name for f in fields(Forecast))  # what a stored fold forecast holds


@dataclass(frozen=True)
class BaselineFold:
    """What a stored baseline fold forecast depends on, besides the bars."""

    model: str
    seed: int
    horizons: tuple[int, ...]


@dataclass(frozen=True)
class WalkForward:
    """Fold layout. Training targets end before each test block (the purge is the horizon)."""

    initial: int = 2000  # bars before the first test origin
    step: int = 500  # refit every `step` bars
    sliding: int | None = None  # train on the last `sliding` bars only; None = expanding

    @classmethod
    def for_length(cls, n: int, refits: int = 6) -> "WalkForward":
        """Defaults for ``n`` bars: 40% (at least 600 bars) before the first test, ~6 refits."""
        initial = min(max(WARMUP + 500, int(0.4 * n)), 2000)
        return cls(initial=initial, step=max(50, -(-(n - 1 - initial) // refits)))


@dataclass
class Backtest:
    """Out-of-sample forecasts of every model on the same origins, and their scores."""

    series: Series
    index: pd.DatetimeIndex
    origins: np.ndarray
    forecasts: dict[str, Forecast]
    scores: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)
    # each model as fitted on the last fold (a baseline whose forecasts are STORED: none)
    final: dict[str, Model] = field(default_factory=dict)
    last_fold_data: str = ""  # train.bars_hash of the bars the last fold was fitted on


def folds(n: int, wf: WalkForward) -> list[tuple[int, int, int]]:
    """(train_start, test_start, test_end) for each refit."""
    if wf.initial < WARMUP + 400 or wf.initial >= n - 1:
        raise InvalidInput(
            f"{n} bars is too few for walk-forward with {wf.initial} initial bars; "
            f"need more than {max(wf.initial, WARMUP + 400) + 1}"
        )
    out = []
    for test_start in range(wf.initial, n - 1, wf.step):
        start = 0 if wf.sliding is None else max(0, test_start - wf.sliding)
        out.append((start, test_start, min(test_start + wf.step, n - 1)))
    return out


def concat(parts: list[Forecast]) -> Forecast:
    return Forecast(
        *(np.concatenate([getattr(p, k) for p in parts]) for k in Forecast.__dataclass_fields__)
    )


def run(
    bars: pd.DataFrame,
    models: list[str],
    horizons: tuple[int, ...] = (1, 5, 20),
    wf: WalkForward | None = None,
    seed: int = 0,
) -> Backtest:
    """Walk-forward backtest of ``models`` (the random walk is always included as the reference)."""
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise InvalidInput(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    models = ["rw", *[m for m in models if m != "rw"]]
    plan = folds(len(bars), wf or WalkForward.for_length(len(bars)))
    span = plan[-1][2] - plan[0][1]
    if max(horizons) > span // 2:
        raise InvalidInput(
            f"horizon {max(horizons)} is too long for {span} out-of-sample bars; "
            f"use horizons up to {span // 2}"
        )
    series = build_series(bars, horizons)
    final: dict[str, Model] = {}
    parts: dict[str, list[Forecast]] = {m: [] for m in models}
    for i, (start, test_start, test_end) in enumerate(plan):
        origins = np.arange(test_start, test_end)
        console.print(f"fold {i + 1}/{len(plan)}: train bars {start}-{test_start - 1}, "
                      f"test origins {test_start}-{test_end - 1}")  # fmt: skip
        for name in models:
            model = MODELS[name](seed, tuple(horizons))
            if name in STORED:
                key = BaselineFold(name, seed, tuple(horizons))
                parts[name].append(_stored_forecast(key, model, series, bars, start, origins))
                continue
            _fit(model, series, bars, start, test_start)
            parts[name].append(model.predict(series, origins))
            final[name] = model
    origins = np.arange(plan[0][1], plan[-1][2])
    result = Backtest(
        series,
        pd.DatetimeIndex(bars.index),
        origins,
        {m: concat(p) for m, p in parts.items()},
        final=final,
        last_fold_data=bars_hash(bars.iloc[plan[-1][0] : plan[-1][1]]),
    )
    result.scores = score(result)
    return result


def score(bt: Backtest) -> dict[int, dict[str, dict[str, float]]]:
    """Metrics per horizon and model, on origins whose outcome is known."""
    out: dict[int, dict[str, dict[str, float]]] = {}
    for j, h in enumerate(bt.series.horizons):
        y = bt.series.targets["ret"][bt.origins, j]
        ok = ~np.isnan(y)
        taus = np.asarray(bt.series.quantiles)
        rw_loss = metrics.pinball_series(y[ok], bt.forecasts["rw"].ret_q[ok, j], taus)
        out[h] = {
            name: metrics.score(
                y[ok], f.ret_q[ok, j], f.p_up[ok, j], bt.series.quantiles, h, rw_loss
            )
            for name, f in bt.forecasts.items()
        }
        if STRONGEST in bt.forecasts:  # also test every model against the strongest baseline
            ref = metrics.pinball_series(y[ok], bt.forecasts[STRONGEST].ret_q[ok, j], taus)
            for name, f in bt.forecasts.items():
                loss = metrics.pinball_series(y[ok], f.ret_q[ok, j], taus)
                out[h][name]["dm_pvalue_vs_garch_t"] = metrics.diebold_mariano(loss, ref, h)
    return out


def verdicts(scores: dict[int, dict[str, dict[str, float]]]) -> list[str]:
    """Plain sentences: for each network and horizon, which baselines it fails to beat on CRPS."""
    lines = []
    for h, table in scores.items():
        for net in (m for m in table if m in NETS):
            worse = [
                b
                for b in ("rw", "ewma", "garch", "garch-t", "gbm")
                if b in table and table[net]["crps"] >= table[b]["crps"]
            ]
            if worse:
                lines.append(f"h={h}: {net} does NOT beat {', '.join(worse)} on CRPS.")
            else:
                lines.append(f"h={h}: {net} beats every baseline run on CRPS.")
    return lines


def clean(v: float) -> float | None:
    """A score for JSON: NaN (an undefined test) becomes null."""
    return None if np.isnan(v) else round(v, 6)


def to_json(bt: Backtest, data: str) -> dict[str, object]:
    """The ``--json`` object."""
    return {
        "data": data,
        "bars": len(bt.index),
        "origins": len(bt.origins),
        "horizons": {
            str(h): {m: {k: clean(v) for k, v in s.items()} for m, s in table.items()}
            for h, table in bt.scores.items()
        },
        "verdicts": verdicts(bt.scores),
    }


HEADERS = ("crps bp", "pinball bp", "cov80", "cov50", "mase", "dir_acc", "brier", "DM p vs rw")
TABLE_KEYS = (
    "crps",
    "pinball",
    "coverage80",
    "coverage50",
    "mase",
    "dir_acc",
    "brier",
    "dm_pvalue_vs_rw",
)


def _fmt(key: str, value: float) -> str:
    if np.isnan(value):
        return "n/a"
    if key in ("crps", "pinball"):
        return f"{1e4 * value:.1f}"  # basis points of log return
    return f"{value:.3f}"


def _fit(model: Model, series: Series, bars: pd.DataFrame, start: int, stop: int) -> None:
    """Fit a fold's model. A single network's fit is deterministic in its config, seed and
    bars, so one already fitted on the same ones is loaded from the store instead (keyed like
    every stored model, code revision included); the others always fit (the slow baselines'
    forecasts are stored instead: ``_stored_forecast``)."""
    # not stored: a GARCH-t fit, and which series had which embedding slot
    if not isinstance(model, RNNModel) or model.cfg.garch or model.cfg.assets:
        model.fit(series, start, stop)
        return
    setup, data = Setup(model.cfg, model.train_cfg), f"{start}:{bars_hash(bars.iloc[:stop])}"
    try:
        model.net = module_from(ARTIFACT.load(setup, data, "fold"), RNNConfig, RNNForecaster)
    except (ModelNotTrained, CheckpointError):  # none, or a damaged one: fit (and replace it)
        model.fit(series, start, stop)
        assert model.net is not None
        ARTIFACT.save(setup, model.net.state_dict(), {}, data, "fold", model.cfg)


def _stored_forecast(
    key: BaselineFold, model: Model, series: Series, bars: pd.DataFrame, start: int,
    origins: np.ndarray,
) -> Forecast:  # fmt: skip
    """A baseline's forecasts for one fold's origins (fit on bars start..origins[0] - 1): the
    stored ones made from the same bars up to the last origin, or fitted, predicted and stored
    (a damaged file is replaced)."""
    data = f"{start}:{origins[0]}:{origins[-1]}:{bars_hash(bars.iloc[: origins[-1] + 1])}"
    try:
        stored = BASELINE_FOLDS.load(key, data, f"fold-{key.model}").tensors
        return Forecast(*(stored[k].numpy() for k in FORECAST_FIELDS))
    except (ModelNotTrained, CheckpointError, KeyError):
        model.fit(series, start, int(origins[0]))
        made = model.predict(series, origins)
        arrays = {
            k: torch.from_numpy(np.ascontiguousarray(getattr(made, k))) for k in FORECAST_FIELDS
        }
        BASELINE_FOLDS.save(key, arrays, {}, data, f"fold-{key.model}")
        return made


def rows(bt: Backtest) -> list[list[str]]:
    """Table rows: horizon, model, then TABLE_KEYS formatted."""
    out = []
    for h, table in bt.scores.items():
        for model, s in table.items():
            vals = [_fmt(k, s[k]) for k in TABLE_KEYS]
            out.append([str(h), model, *vals])
    return out


def save(bt: Backtest, data: str, out: Path) -> dict[str, list[Path]]:
    """Write plots and results.json into ``out``; checkpoint each network under OTEMACHI_HOME."""
    out.mkdir(parents=True, exist_ok=True)
    nets = [m for m in bt.forecasts if m in NETS]
    star = ([*nets, *(m for m in bt.forecasts if m != "rw")] or ["rw"])[0]
    figures = plots.all_plots(bt, out, star)
    result = out / "results.json"
    result.write_text(json.dumps(to_json(bt, data), indent=2))
    ckpts = []
    name = short_name(data)
    for net in nets:
        model = bt.final[net]
        assert isinstance(model, RNNModel)
        if model.cfg.garch:  # its GARCH fit is not stored, so nothing could load it
            continue
        metrics = {f"crps_h{h}": bt.scores[h][net]["crps"] for h in bt.scores}
        ckpts.append(save_model(model, f"{name}-{net}-lastfold", bt.last_fold_data, metrics))
    return {"figures": figures, "results": [result], "checkpoints": ckpts}
