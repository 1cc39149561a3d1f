"""Training the recurrent forecaster: windows from history, pinball + BCE loss, early stopping on a
purged validation fold, Platt-calibrated P(up), and safetensors checkpoints."""

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

from otemachi.core import store
from otemachi.core.errors import InvalidInput, ModelNotTrained
from otemachi.core.paths import artifact_dir
from otemachi.core.seeding import rng
from otemachi.core.store import Artifact, module_from
from otemachi.core.training import Plan, fit
from otemachi.markets.features import WARMUP, build_series
from otemachi.markets.forecast import Forecast, Series
from otemachi.markets.model import TARGETS, RNNConfig, RNNForecaster

ARTIFACT = Artifact(
    "markets", "rnn", "markets.rnn", "rnn/1", "otemachi markets train --data NAME", "forecaster"
)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the network's own shape is in RNNConfig)."""

    seed: int = 0
    window: int = 256
    burn_in: int = 64
    batch: int = 32
    steps_per_epoch: int = 25
    max_epochs: int = 30
    patience: int = 5
    lr: float = 3e-3
    weight_decay: float = 1e-4
    val_frac: float = 0.2


def _normalised(series: Series, stop: int) -> dict[str, torch.Tensor]:
    """Targets (masked at ``stop``) in units of scale * sqrt(h); ``up`` stays 0/1."""
    raw = series.masked_targets(stop)
    unit = series.unit()
    out = {k: raw[k] / unit for k in TARGETS}
    out["up"] = raw["up"]
    return {k: torch.tensor(v, dtype=torch.float32) for k, v in out.items()}


def _loss(
    out: dict[str, torch.Tensor], y: dict[str, torch.Tensor], taus: torch.Tensor
) -> torch.Tensor:
    """Mean pinball over targets and quantiles, plus BCE on the up-logit; NaN targets ignored."""
    valid = ~torch.isnan(y["ret"])  # (..., H)
    total = torch.zeros(())
    for name in TARGETS:
        err = torch.nan_to_num(y[name])[..., None] - out[name]  # (..., H, Q)
        pin = torch.maximum(taus * err, (taus - 1) * err).mean(-1)
        total = total + pin[valid].mean()
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        out["logit"][valid], torch.nan_to_num(y["up"])[valid]
    )
    return total + 0.1 * bce


class RNNModel:
    """The GRU/LSTM forecaster behind the walk-forward ``Model`` interface."""

    def __init__(self, cfg: RNNConfig, train: TrainConfig) -> None:
        self.cfg, self.train_cfg = cfg, train
        self.net: RNNForecaster | None = None

    def fit(self, series: Series, start: int, stop: int) -> None:
        tc = self.train_cfg
        first = max(start, WARMUP)
        val_start = int(stop - tc.val_frac * (stop - first))
        if not first + tc.window < val_start < stop:
            raise InvalidInput(
                f"training span of {stop - first} usable bars is too short for "
                f"{tc.window}-bar windows and a {tc.val_frac:.0%} validation fold"
            )
        if 2 * max(self.cfg.horizons) > stop - val_start:
            raise InvalidInput(
                f"horizon {max(self.cfg.horizons)} is too long for a validation fold of "
                f"{stop - val_start} bars; use horizons up to {(stop - val_start) // 2}"
            )
        x = torch.tensor(series.features, dtype=torch.float32)
        y_train, y_val = _normalised(series, val_start), _normalised(series, stop)
        taus = torch.tensor(self.cfg.quantiles)
        gen = rng(tc.seed, "markets", "windows")
        keep = slice(tc.burn_in, None)  # the first burn_in steps of a window are not scored

        def build() -> RNNForecaster:
            net = RNNForecaster(self.cfg)
            net.x_mean.copy_(x[first:val_start].mean(0))
            net.x_std.copy_(x[first:val_start].std(0).clamp_min(1e-6))
            return net

        def windows() -> Iterator[torch.Tensor]:
            for _ in range(tc.steps_per_epoch):
                starts = gen.integers(first, val_start - tc.window, size=tc.batch)
                yield torch.tensor(starts)[:, None] + torch.arange(tc.window)[None, :]  # (B, W)

        def loss(net: RNNForecaster, idx: torch.Tensor) -> torch.Tensor:
            out, _ = net(x[idx])
            yb = {k: v[idx][:, keep] for k, v in y_train.items()}
            return _loss({k: v[:, keep] for k, v in out.items()}, yb, taus)

        plan = Plan(tc.max_epochs, tc.lr, "adamw", tc.weight_decay, clip=1.0, patience=tc.patience)
        net = fit(
            build, plan, windows, loss,
            seed=tc.seed, description=f"train {self.cfg.cell}",
            validate=lambda net: self._val_loss(net, x[:stop], y_val, val_start, taus),
        )  # fmt: skip
        self._calibrate(net, x[:stop], y_val, val_start)
        self.net = net.eval()

    @staticmethod
    def _val_loss(
        net: RNNForecaster,
        x: torch.Tensor,
        y: dict[str, torch.Tensor],
        start: int,
        taus: torch.Tensor,
    ) -> float:
        net.eval()
        with torch.no_grad():
            out, _ = net(x[None])
            sl = slice(start, len(x))
            return float(
                _loss({k: v[0, sl] for k, v in out.items()}, {k: v[sl] for k, v in y.items()}, taus)
            )

    @staticmethod
    def _calibrate(
        net: RNNForecaster, x: torch.Tensor, y: dict[str, torch.Tensor], start: int
    ) -> None:
        """On the validation fold: shift each quantile so that its empirical level matches the
        nominal one (conformal recalibration), and Platt-scale the up-logit."""
        net.eval()
        with torch.no_grad():
            out = {k: v[0, start:] for k, v in net(x[None])[0].items()}
        yv = {k: v[start : len(x)] for k, v in y.items()}
        taus = torch.tensor(net.cfg.quantiles)
        for i, name in enumerate(TARGETS):
            for j in range(len(net.cfg.horizons)):
                ok = ~torch.isnan(yv[name][:, j])
                resid = yv[name][ok, j][:, None] - out[name][ok, j]  # (N, Q)
                if len(resid) >= 50:
                    net.shift[i, j] += torch.quantile(resid, taus, dim=0).diagonal()
        logit, up = out["logit"].numpy(), yv["up"].numpy()
        ok = ~np.isnan(up)
        if len(np.unique(up[ok])) == 2:
            fit = LogisticRegression(C=1e4).fit(logit[ok].reshape(-1, 1), up[ok])
            net.platt.copy_(torch.tensor([fit.coef_[0, 0], fit.intercept_[0]]))

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        assert self.net is not None, "fit() before predict()"
        return forecast(self.net, series, origins)


class SeedEnsemble:
    """The same network trained from several seeds, its forecasts averaged in quantile space
    (each quantile averaged across members, which keeps them in order) and P(up) averaged."""

    def __init__(self, cfg: RNNConfig, train: TrainConfig, seeds: int) -> None:
        self.members = [RNNModel(cfg, replace(train, seed=train.seed + i)) for i in range(seeds)]

    def fit(self, series: Series, start: int, stop: int) -> None:
        for member in self.members:
            member.fit(series, start, stop)

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        parts = [m.predict(series, origins) for m in self.members]
        keys = ("ret_q", "high_q", "low_q", "p_up")
        return Forecast(*(np.mean([getattr(f, k) for f in parts], axis=0) for k in keys))


def forecast(net: RNNForecaster, series: Series, origins: np.ndarray) -> Forecast:
    """Run the network over history once (stateful from bar 0) and read off the origins."""
    x = torch.tensor(series.features[: int(origins.max()) + 1], dtype=torch.float32)
    with torch.no_grad():
        out, _ = net.eval()(x[None])
        p_up = net.p_up(out["logit"][0]).numpy()[origins]
    unit = series.unit(origins)[..., None]  # (N, H, 1)
    q = {k: out[k][0].numpy()[origins] * unit for k in TARGETS}
    return Forecast(q["ret"], q["high"], q["low"], p_up)


@dataclass(frozen=True)
class Setup:
    """What a stored forecaster was made from (with the data's hash, its cache key)."""

    model: RNNConfig
    train: TrainConfig


def save_model(model: RNNModel, name: str, data_hash: str, metrics: Mapping[str, object]) -> Path:
    """Store a fitted network under ``name``, keyed by its setup and the hash of its data."""
    assert model.net is not None, "fit() before save_model()"
    setup = Setup(model.cfg, model.train_cfg)
    return ARTIFACT.save(setup, model.net.state_dict(), dict(metrics), data_hash, name, model.cfg)


def load_version(path: Path) -> tuple[RNNForecaster, str]:
    """The network of a checkpoint and its version (the first 12 hex digits of its hash)."""
    ckpt = ARTIFACT.load_path(path)
    return module_from(ckpt, RNNConfig, RNNForecaster), ckpt.sha256[:12]


def newest(name: str | None = None) -> Path:
    """The most recently stored forecaster trained by `markets train` (on the data ``name``, when
    given); ModelNotTrained naming the command when there is none."""
    folder = artifact_dir("markets", "models")
    stem = re.escape(stored_name(name)) if name else r"[^/]+"
    pattern = re.compile(rf"{stem}-(gru|lstm)-[0-9a-f]{{12}}\.safetensors")
    found = [p for p in folder.glob("*.safetensors") if pattern.fullmatch(p.name)]
    if not found:
        what = f" trained on {name}" if name else ""
        raise ModelNotTrained(
            f"no stored forecaster{what} in {folder}; "
            f"run `otemachi markets train --data {name or 'NAME'}`"
        )
    return max(found, key=lambda p: p.stat().st_mtime_ns)


def stored_name(name: str) -> str:
    """How a dataset's name appears in the names of the models trained on it."""
    return name.replace(".", "_")


def bars_hash(bars: pd.DataFrame) -> str:
    """A short hash of the bars a model is trained on (part of its cache key)."""
    values = np.ascontiguousarray(bars[["open", "high", "low", "close", "volume"]].to_numpy())
    stamps = pd.DatetimeIndex(bars.index).asi8
    return hashlib.sha256(values.tobytes() + stamps.tobytes()).hexdigest()[:16]


def train(bars: pd.DataFrame, name: str, setup: Setup, retrain: bool = False) -> tuple[Path, bool]:
    """Fit the network on every bar (the last ``val_frac`` of them early-stop and calibrate it)
    and store it; returns the checkpoint and whether it was trained now (False: already stored)."""
    data, stored_as = bars_hash(bars), f"{stored_name(name)}-{setup.model.cell}"
    path = ARTIFACT.path(setup, data, stored_as).with_suffix(".safetensors")

    def make() -> bool:
        model = RNNModel(setup.model, setup.train)
        model.fit(build_series(bars, setup.model.horizons), 0, len(bars))
        span = {"bars": len(bars), "first": str(bars.index[0]), "last": str(bars.index[-1])}
        save_model(model, stored_as, data, span)
        return True

    def stored() -> bool:
        ARTIFACT.load(setup, data, stored_as)
        return False

    return path, store.load_or_train(stored, make, retrain)
