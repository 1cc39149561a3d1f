"""Training the recurrent forecaster: windows from history, pinball + BCE loss, early stopping on a
purged validation fold, Platt-calibrated P(up), and safetensors checkpoints."""

import copy
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
from otemachi.markets import anchor as anchors
from otemachi.markets.anchor import Anchor
from otemachi.markets.features import WARMUP, build_series
from otemachi.markets.forecast import Forecast, Series
from otemachi.markets.model import TARGETS, RNNConfig, RNNForecaster

ARTIFACT = Artifact(
    "markets", "rnn", "markets.rnn", "rnn/2", "otemachi markets train --data NAME", "forecaster"
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
    plateau: float | None = None  # multiply the learning rate by this after an epoch not better


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


@dataclass(frozen=True)
class Span:
    """One series' share of a training run: origins from ``start`` whose targets end before
    ``stop``."""

    series: Series
    start: int
    stop: int


@dataclass(frozen=True)
class _Part:
    """A span made ready: inputs and anchor up to ``stop``, targets purged for the training part
    (before ``val_start``) and for the validation part (before ``stop``)."""

    x: torch.Tensor  # (stop, F)
    asset: int  # the series' embedding slot (0 without embeddings)
    anchor: Anchor | None
    base: dict[str, torch.Tensor] | None  # the anchor's quantiles up to ``stop``
    y_train: dict[str, torch.Tensor]
    y_val: dict[str, torch.Tensor]
    first: int
    val_start: int

    def run(self, net: RNNForecaster) -> dict[str, torch.Tensor]:
        """The network over the whole span, from bar 0: outputs (T, ...) per key."""
        asset = torch.tensor([self.asset])
        out, _ = net(self.x[None], base=_take(self.base, slice(None), batch=True), asset=asset)
        return {k: v[0] for k, v in out.items()}

    def validation(self, net: RNNForecaster) -> tuple[dict[str, torch.Tensor], ...]:
        """Outputs and targets on the validation part."""
        sl = slice(self.val_start, None)
        return {k: v[sl] for k, v in self.run(net).items()}, {
            k: v[sl] for k, v in self.y_val.items()
        }


class RNNModel:
    """The GRU/LSTM forecaster behind the walk-forward ``Model`` interface. ``fit_many`` trains
    one network on several series at once (a global model); each is scored in its own
    volatility units, so no series dominates by its scale."""

    def __init__(self, cfg: RNNConfig, train: TrainConfig) -> None:
        self.cfg, self.train_cfg = cfg, train
        self.net: RNNForecaster | None = None
        self.anchors: list[tuple[Series, Anchor | None]] = []  # the trained series, in order
        self.slots: list[int] = []  # their embedding slots
        self.tuned = True  # False: a fine-tuning kept the weights it started from

    def fit(self, series: Series, start: int, stop: int) -> None:
        self.fit_many([Span(series, start, stop)])

    def _part(self, span: Span, asset: int) -> _Part:
        tc, stop = self.train_cfg, span.stop
        first = max(span.start, WARMUP)
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
        anchor = anchors.fit(span.series, span.start, stop) if self.cfg.garch else None
        base = anchor.tensors() if anchor and self.cfg.anchor else None
        return _Part(
            anchors.inputs(span.series, anchor)[:stop],
            asset,
            anchor,
            _take(base, slice(None, stop)),
            _normalised(span.series, val_start),
            {k: v[:stop] for k, v in _normalised(span.series, stop).items()},
            first,
            val_start,
        )

    def fit_many(self, spans: list[Span], start_from: RNNForecaster | None = None) -> None:
        """Train one network on every span; windows are drawn from each span in proportion to
        how many it holds, and the validation loss pools every span's validation part.

        ``start_from``: a fitted network to go on training (fine-tuning) instead of a new one;
        its weights as they are stay a candidate, so early stopping keeps them when no epoch
        beats them on the validation part (``self.tuned`` says which happened).
        """
        tc = self.train_cfg
        # Slots 1.. for the series, in order; 0 (a new series) for any beyond the table, and for
        # every series a fitted network goes on training on (its slots belong to its own).
        self.slots = [i + 1 if i + 1 < self.cfg.assets and start_from is None else 0
                      for i in range(len(spans))]  # fmt: skip
        parts = [self._part(span, slot) for span, slot in zip(spans, self.slots, strict=True)]
        self.anchors = [(span.series, part.anchor) for span, part in zip(spans, parts, strict=True)]
        sizes = np.array([p.val_start - tc.window - p.first for p in parts], dtype=float)
        taus = torch.tensor(self.cfg.quantiles)
        gen = rng(tc.seed, "markets", "windows")
        drop = torch.Generator().manual_seed(tc.seed)
        keep = slice(tc.burn_in, None)  # the first burn_in steps of a window are not scored
        train_x = torch.cat([p.x[p.first : p.val_start] for p in parts])

        def build() -> RNNForecaster:
            if start_from is not None:
                return copy.deepcopy(start_from)
            net = RNNForecaster(self.cfg)
            net.x_mean.copy_(train_x.mean(0))
            net.x_std.copy_(train_x.std(0).clamp_min(1e-6))
            return net

        def windows() -> Iterator[list[tuple[_Part, slice]]]:
            for _ in range(tc.steps_per_epoch):
                if len(parts) == 1:  # one draw for the batch, as one-series training always did
                    one = parts[0]
                    starts = gen.integers(one.first, one.val_start - tc.window, size=tc.batch)
                    yield [(one, slice(s, s + tc.window)) for s in starts]
                    continue
                which = gen.choice(len(parts), size=tc.batch, p=sizes / sizes.sum())
                yield [
                    (parts[k], slice(s, s + tc.window))
                    for k in which
                    for s in [int(gen.integers(parts[k].first, parts[k].val_start - tc.window))]
                ]

        def loss(net: RNNForecaster, batch: list[tuple[_Part, slice]]) -> torch.Tensor:
            x = torch.stack([p.x[sl] for p, sl in batch])
            base = None
            if self.cfg.anchor:
                base = {k: torch.stack([p.base[k][sl] for p, sl in batch]) for k in TARGETS}  # type: ignore[index]
            asset = None
            if self.cfg.assets:  # a tenth of windows train slot 0, what a new series gets
                asset = torch.tensor([p.asset for p, _ in batch])
                asset = asset.where(torch.rand(len(batch), generator=drop) >= 0.1, 0)
            out, _ = net(x, base=base, asset=asset)
            yb = {
                k: torch.stack([p.y_train[k][sl] for p, sl in batch])[:, keep]
                for k in parts[0].y_train
            }
            return _loss({k: v[:, keep] for k, v in out.items()}, yb, taus)

        def validate(net: RNNForecaster) -> float:
            out, y = _validation(net, parts)
            return float(_loss(out, y, taus))

        plan = Plan(
            tc.max_epochs, tc.lr, "adamw", tc.weight_decay,
            clip=1.0, patience=tc.patience, plateau=tc.plateau,
        )  # fmt: skip
        net = fit(
            build, plan, windows, loss,
            seed=tc.seed, description=f"train {self.cfg.cell}", validate=validate,
        )  # fmt: skip
        self.tuned = start_from is None or any(
            not torch.equal(a, b)
            for a, b in zip(net.parameters(), start_from.parameters(), strict=True)
        )
        _calibrate(net, *_validation(net, parts))
        self.net = net.eval()

    def fine_tuned(self, span: Span, tc: TrainConfig) -> "RNNModel":
        """A copy of this fitted network trained on one more span (its weights kept where no
        epoch beats them on the span's validation part), then calibrated to that span."""
        assert self.net is not None, "fit() before fine_tuned()"
        tuned = RNNModel(self.cfg, tc)
        tuned.fit_many([span], start_from=self.net)
        return tuned

    def predict(self, series: Series, origins: np.ndarray) -> Forecast:
        assert self.net is not None, "fit() before predict()"
        found = [i for i, (s, _) in enumerate(self.anchors) if s is series]
        if self.cfg.garch and not found:
            raise InvalidInput("a network on GARCH-t forecasts only the series it was fit on")
        anchor, slot = (self.anchors[found[0]][1], self.slots[found[0]]) if found else (None, 0)
        return forecast(self.net, series, origins, anchor, slot)


def _validation(
    net: RNNForecaster, parts: list[_Part]
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Every part's validation outputs and targets, concatenated."""
    net.eval()
    with torch.no_grad():
        runs = [p.validation(net) for p in parts]
    return tuple(  # type: ignore[return-value]
        {k: torch.cat([r[i][k] for r in runs]) for k in runs[0][i]} for i in (0, 1)
    )


def _calibrate(
    net: RNNForecaster, out: dict[str, torch.Tensor], y: dict[str, torch.Tensor]
) -> None:
    """On the validation outputs: shift each quantile so that its empirical level matches the
    nominal one (conformal recalibration), and Platt-scale the up-logit."""
    taus = torch.tensor(net.cfg.quantiles)
    for i, name in enumerate(TARGETS):
        for j in range(len(net.cfg.horizons)):
            ok = ~torch.isnan(y[name][:, j])
            resid = y[name][ok, j][:, None] - out[name][ok, j]  # (N, Q)
            if len(resid) >= 50:
                net.shift[i, j] += torch.quantile(resid, taus, dim=0).diagonal()
    logit, up = out["logit"].numpy(), y["up"].numpy()
    ok = ~np.isnan(up)
    if len(np.unique(up[ok])) == 2:
        fit = LogisticRegression(C=1e4).fit(logit[ok].reshape(-1, 1), up[ok])
        net.platt.copy_(torch.tensor([fit.coef_[0, 0], fit.intercept_[0]]))


def _take(
    base: dict[str, torch.Tensor] | None, idx: torch.Tensor | slice, batch: bool = False
) -> dict[str, torch.Tensor] | None:
    """The anchor's quantiles at ``idx`` (with a batch axis of one when ``batch``)."""
    if base is None:
        return None
    return {k: v[idx][None] if batch else v[idx] for k, v in base.items()}


def forecast(
    net: RNNForecaster,
    series: Series,
    origins: np.ndarray,
    anchor: Anchor | None = None,
    asset: int = 0,
) -> Forecast:
    """Run the network over history once (stateful from bar 0) and read off the origins
    (``asset``: the series' embedding slot, 0 for a series it never trained on)."""
    end = int(origins.max()) + 1
    x = anchors.inputs(series, anchor)[:end]
    given = anchor.tensors() if anchor is not None and net.cfg.anchor else None
    base = _take(given, slice(None, end), batch=True)
    with torch.no_grad():
        out, _ = net.eval()(x[None], base=base, asset=torch.tensor([asset]))
        p_up = net.p_up(out["logit"][0]).numpy()[origins]
    unit = series.unit(origins)[..., None]  # (N, H, 1)
    q = {k: out[k][0].numpy()[origins] * unit for k in TARGETS}
    return Forecast(q["ret"], q["high"], q["low"], p_up)


# A global network sees many series: more steps per epoch, more epochs, more patience.
GLOBAL_TRAIN = TrainConfig(steps_per_epoch=50, max_epochs=40, patience=6)


@dataclass(frozen=True)
class Setup:
    """What a stored forecaster was made from (with the data's hash, its cache key)."""

    model: RNNConfig
    train: TrainConfig


def save_model(model: RNNModel, name: str, data_hash: str, metrics: Mapping[str, object]) -> Path:
    """Store a fitted network under ``name``, keyed by its setup and the hash of its data."""
    assert model.net is not None, "fit() before save_model()"
    assert not model.cfg.garch, "nothing stores the GARCH-t fit a network on it reads"
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


def train(
    bars: pd.DataFrame | Mapping[str, pd.DataFrame],
    name: str,
    setup: Setup,
    retrain: bool = False,
) -> tuple[Path, bool]:
    """Fit the network on every bar (the last ``val_frac`` of them early-stop and calibrate it)
    and store it; returns the checkpoint and whether it was trained now (False: already stored).
    Several series (name -> bars): one global network on all of them."""
    if isinstance(bars, Mapping):
        many = dict(bars)
        names = "".join(f"{n}:{bars_hash(b)}" for n, b in sorted(many.items()))
        data = hashlib.sha256(names.encode()).hexdigest()[:16]
    else:
        many, data = {name: bars}, bars_hash(bars)
    stored_as = f"{stored_name(name)}-{setup.model.cell}"
    path = ARTIFACT.path(setup, data, stored_as).with_suffix(".safetensors")

    def make() -> bool:
        model = RNNModel(setup.model, setup.train)
        hs = setup.model.horizons
        model.fit_many([Span(build_series(b, hs), 0, len(b)) for b in many.values()])
        span = {
            n: {"bars": len(b), "first": str(b.index[0]), "last": str(b.index[-1])}
            for n, b in many.items()
        }
        save_model(model, stored_as, data, span if len(many) > 1 else next(iter(span.values())))
        return True

    def stored() -> bool:
        ARTIFACT.load(setup, data, stored_as)
        return False

    return path, store.load_or_train(stored, make, retrain)
