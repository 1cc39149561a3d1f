"""Recurrent probabilistic forecaster: GRU or LSTM over bar features, quantile + P(up) heads."""

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from otemachi.markets.features import FEATURES
from otemachi.markets.forecast import HORIZONS, QUANTILES

TARGETS = ("ret", "high", "low")
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class RNNConfig:
    """Everything needed to rebuild the network; saved inside every checkpoint."""

    cell: str = "gru"  # "gru" | "lstm"
    n_features: int = len(FEATURES)
    hidden: int = 32
    layers: int = 2
    dropout: float = 0.1
    horizons: tuple[int, ...] = HORIZONS
    quantiles: tuple[float, ...] = QUANTILES
    # Anchored: quantiles are a learned correction to GARCH-t's (anchor.py), whose volatility
    # (one input per horizon) the network also reads; with the correction at zero its quantiles
    # are GARCH-t's (P(up) starts at 0.5, then Platt scaling).
    anchor: bool = False
    # GARCH-t's volatility as inputs (as anchored networks read it) under the free head.
    garch_inputs: bool = False
    # A learned vector per training series (global models), appended to the inputs: slot 0 is
    # any series the network did not train on (and, during training, a random tenth of windows).
    assets: int = 0  # slots, 0 = none
    embed: int = 4  # size of each vector

    @property
    def garch(self) -> bool:
        """Whether the network reads GARCH-t's forecasts (anchored, or as inputs)."""
        return self.anchor or self.garch_inputs

    @property
    def n_inputs(self) -> int:
        """Features per bar, plus GARCH-t's inputs when the network reads them."""
        return self.n_features + (len(self.horizons) if self.garch else 0)


class RNNForecaster(nn.Module):
    """Maps feature sequences to per-horizon quantiles (in volatility units) and an up-logit.

    Quantiles never cross. Free: the head emits the lowest one plus softplus increments.
    Anchored: q = m + exp(s) * base + d (per target and horizon; the head starts at zero, so the
    network starts as its anchor), then a running maximum over the quantiles.
    """

    x_mean: torch.Tensor
    x_std: torch.Tensor
    platt: torch.Tensor
    shift: torch.Tensor

    def __init__(self, cfg: RNNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cfg.cell]
        self.asset = nn.Embedding(cfg.assets, cfg.embed) if cfg.assets else None
        self.rnn = rnn(
            cfg.n_inputs + (cfg.embed if cfg.assets else 0),
            cfg.hidden,
            cfg.layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        n_h, n_q = len(cfg.horizons), len(cfg.quantiles)
        self.width = len(TARGETS) * (n_q + 2 if cfg.anchor else n_q) + 1  # head outputs per horizon
        self.head = nn.Linear(cfg.hidden, n_h * self.width)
        if cfg.anchor:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        # Input standardisation and P(up) calibration, fit on training data and saved with weights.
        self.register_buffer("x_mean", torch.zeros(cfg.n_inputs))
        self.register_buffer("x_std", torch.ones(cfg.n_inputs))
        self.register_buffer("platt", torch.tensor([1.0, 0.0]))  # p = sigmoid(a * logit + b)
        # Per-quantile offsets from conformal recalibration on the validation fold.
        self.register_buffer("shift", torch.zeros(len(TARGETS), n_h, n_q))

    def forward(
        self,
        x: torch.Tensor,
        state: State | None = None,
        base: dict[str, torch.Tensor] | None = None,
        asset: torch.Tensor | None = None,
    ) -> tuple[dict[str, torch.Tensor], State]:
        """x: (B, T, F) raw inputs -> quantiles (B, T, H, Q) per target, logit (B, T, H).

        ``base``: the anchor's quantiles per target, (B, T, H, Q); required when anchored.
        ``asset``: (B,) embedding slots (with embeddings; none given: slot 0, a new series).
        """
        z = ((x - self.x_mean) / self.x_std).clamp(-10, 10)
        if self.asset is not None:
            if asset is None:
                asset = torch.zeros(len(x), dtype=torch.long)
            z = torch.cat([z, self.asset(asset)[:, None].expand(-1, z.shape[1], -1)], -1)
        h, state = self.rnn(z, state)  # (B, T, hidden)
        n_q, n_t = len(self.cfg.quantiles), len(TARGETS)
        raw = self.head(h).unflatten(-1, (len(self.cfg.horizons), self.width))  # (B, T, H, W)
        out = {}
        if self.cfg.anchor:
            assert base is not None, "an anchored forecaster needs its anchor's quantiles"
            for i, name in enumerate(TARGETS):
                part = raw[..., i * (n_q + 2) : (i + 1) * (n_q + 2)]  # (B, T, H, Q + 2)
                scale = part[..., 1:2].clamp(-3, 3).exp()
                q = part[..., :1] + scale * base[name] + part[..., 2:]
                out[name] = (q + self.shift[i]).cummax(dim=-1).values
        else:
            # Every target at once, on contiguous memory: (B, T, H, targets, Q). The lowest
            # quantile plus the running sum of softplus increments (the first one zeroed).
            part = raw[..., : n_t * n_q].unflatten(-1, (n_t, n_q)).contiguous()
            steps = F.softplus(part)
            steps[..., 0] = 0.0
            q = part[..., :1] + steps.cumsum(-1) + self.shift.transpose(0, 1)
            q = q.cummax(dim=-1).values
            out = {name: q[..., i, :] for i, name in enumerate(TARGETS)}
        out["logit"] = raw[..., -1]  # (B, T, H)
        return out, state

    def step(
        self, x: torch.Tensor, state: State | None = None
    ) -> tuple[dict[str, torch.Tensor], State]:
        """Advance one bar. x: (B, F) -> outputs without the time axis, and the new state."""
        out, state = self.forward(x[:, None, :], state)
        return {k: v[:, 0] for k, v in out.items()}, state

    def p_up(self, logit: torch.Tensor) -> torch.Tensor:
        """Calibrated probability of an up move."""
        return torch.sigmoid(self.platt[0] * logit + self.platt[1])
