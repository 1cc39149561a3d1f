"""The live state of many symbols as arrays: online features (the same formulas as the backtest)
and the network's hidden state, advanced for every symbol whose bar just closed in one batched
call. Replaying history through it gives the backtest's forecasts."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from otemachi.core.errors import InvalidInput
from otemachi.markets.features import EPS, EWMAS, SCALE_KEY, bar_quantities, combine, ewma_key
from otemachi.markets.forecast import Forecast
from otemachi.markets.model import TARGETS, RNNForecaster

OHLCV = ("open", "high", "low", "close", "volume")
WARM = 32  # recent bars of features kept per symbol, to warm a swapped-in network on
NO_TIME = int(np.iinfo(np.int64).min)  # the last bar time of a symbol that has none
_DECAY = np.array([decay for _, decay in EWMAS])[:, None]


@dataclass(frozen=True)
class Bars:
    """One closed bar for each of B symbols."""

    symbols: list[str]
    times: pd.DatetimeIndex  # (B,)
    ohlcv: np.ndarray  # (B, 5) open, high, low, close, volume


class LiveState:
    """Feature and hidden state of every joined symbol, one slot (row) each.

    ``step(bars)`` advances the given symbols by one bar in one batched network call and returns
    their forecasts. A symbol joins on its first bar (or with ``join``) and ``leave`` frees its
    slot for another. ``swap(net)`` changes the network between two bars, its hidden state warmed
    on each symbol's last ``WARM`` bars of features (features do not depend on the network).
    """

    def __init__(self, net: RNNForecaster, capacity: int = 64) -> None:
        _servable(net)
        self.net = net.eval()
        capacity = max(capacity, 1)
        cfg = net.cfg
        self.slots: dict[str, int] = {}
        self._free: list[int] = []
        self._size = 0
        self.prev_close = np.zeros(capacity)
        self.ew = np.zeros((len(EWMAS), capacity))  # one row per (input, decay)
        self.last_time = np.zeros(capacity, dtype=np.int64)  # ns since epoch of the last bar
        self.shortest = np.zeros(capacity, dtype=np.int64)  # shortest bar interval seen (ns)
        self.started = np.zeros(capacity, dtype=bool)
        self.ring = np.zeros((capacity, WARM, cfg.n_features), dtype=np.float32)  # last features
        self.head = np.zeros(capacity, dtype=np.int64)  # where the next features go
        self.filled = np.zeros(capacity, dtype=np.int64)  # how many of the WARM are real
        self.hidden = _zeros(net, capacity)

    def __len__(self) -> int:
        return len(self.slots)

    def join(self, symbol: str) -> int:
        """Give ``symbol`` a fresh slot (no history); return its index."""
        if symbol in self.slots:
            return self.slots[symbol]
        if self._free:
            slot = self._free.pop()
        else:
            slot = self._size
            self._size += 1
            if slot >= len(self.prev_close):
                self._grow()
        self.slots[symbol] = slot
        self.started[slot] = False
        self.shortest[slot] = self.head[slot] = self.filled[slot] = 0
        self.hidden[:, :, slot] = 0.0
        return slot

    def leave(self, symbol: str) -> None:
        """Forget ``symbol``; its slot is reused by the next symbol that joins."""
        if symbol not in self.slots:
            raise InvalidInput(f"{symbol!r} is not in the live state")
        self._free.append(self.slots.pop(symbol))

    def _grow(self) -> None:
        cap = 2 * len(self.prev_close)
        self.prev_close = np.resize(self.prev_close, cap)
        self.ew = np.concatenate([self.ew, np.zeros_like(self.ew)], axis=1)
        self.last_time = np.resize(self.last_time, cap)
        self.shortest = np.resize(self.shortest, cap)
        self.started = np.concatenate([self.started, np.zeros_like(self.started)])
        self.ring = np.concatenate([self.ring, np.zeros_like(self.ring)])
        self.head = np.resize(self.head, cap)
        self.filled = np.resize(self.filled, cap)
        self.hidden = torch.cat([self.hidden, torch.zeros_like(self.hidden)], dim=2)

    def _features(self, idx: np.ndarray, bars: Bars) -> tuple[np.ndarray, np.ndarray]:
        """Advance the online features of slots ``idx``: (B, F) features and (B,) scale."""
        o, h, lo, c, v = bars.ohlcv.T
        fresh = ~self.started[idx]
        prev_c = np.where(fresh, o, self.prev_close[idx])
        raw = bar_quantities(o, h, lo, c, v, prev_c)
        inputs = np.stack([raw[name] for name, _ in EWMAS])  # (EWMAs, B)
        new = _DECAY * np.where(fresh, inputs, self.ew[:, idx]) + (1 - _DECAY) * inputs
        self.ew[:, idx] = new
        ew = {ewma_key(name, decay): new[k] for k, (name, decay) in enumerate(EWMAS)}
        self.prev_close[idx] = c
        self.started[idx] = True
        stamps = bars.times.asi8
        one_time = len(stamps) and (stamps == stamps[0]).all()  # calendar features once
        columns = combine(raw, ew, bars.times[0] if one_time else bars.times)
        feats = np.stack(np.broadcast_arrays(*columns), axis=1)
        return feats, np.sqrt(ew[SCALE_KEY] + EPS)

    def slots_of(self, symbols: list[str]) -> np.ndarray:
        """The slot of each symbol, joining new ones."""
        slots = self.slots
        return np.array([slots[s] if s in slots else self.join(s) for s in symbols], np.int64)

    def last_times(self, symbols: list[str]) -> np.ndarray:
        """Each symbol's last bar time (ns), or the smallest int64 for a symbol with none."""
        idx = np.array([self.slots.get(s, -1) for s in symbols], dtype=np.int64)
        known = idx >= 0
        known[known] = self.started[idx[known]]
        return np.where(known, self.last_time[np.maximum(idx, 0)], NO_TIME)

    def last_time_of(self, symbol: str) -> int:
        """A symbol's last bar time (ns), or the smallest int64 when it has none."""
        slot = self.slots.get(symbol)
        if slot is None or not self.started[slot]:
            return NO_TIME
        return int(self.last_time[slot])

    def gaps(self, idx: np.ndarray, stamp: int) -> int:
        """Count the symbols whose bar at ``stamp`` comes more than 4 times their shortest bar
        interval after their last one (a weekend or a holiday is not one), and update the
        shortest intervals; call before ``step``."""
        step = np.where(self.started[idx], stamp - self.last_time[idx], 0)
        shortest = self.shortest[idx]
        gaps = int(((shortest > 0) & (step > 4 * shortest)).sum())
        self.shortest[idx] = np.where(shortest > 0, np.minimum(shortest, step), step)
        return gaps

    def step(self, bars: Bars, idx: np.ndarray | None = None) -> Forecast:
        """Advance each symbol of ``bars`` (at slots ``idx`` when known) by its bar; forecasts
        in the order of ``bars``."""
        if len(set(bars.symbols)) != len(bars.symbols):
            raise InvalidInput("one bar per symbol per step")
        idx = self.slots_of(bars.symbols) if idx is None else idx
        stamps = bars.times.asi8
        late = self.started[idx] & (stamps <= self.last_time[idx])
        if late.any():
            bad = [bars.symbols[i] for i in np.flatnonzero(late)]
            raise InvalidInput(f"bars not newer than the last one for {bad}")
        feats, scale = self._features(idx, bars)
        self.last_time[idx] = stamps
        self.ring[idx, self.head[idx]] = feats
        self.head[idx] = (self.head[idx] + 1) % WARM
        self.filled[idx] = np.minimum(self.filled[idx] + 1, WARM)
        x = torch.as_tensor(feats, dtype=torch.float32)
        rows = torch.as_tensor(idx)
        state = self.hidden[:, :, rows]
        with torch.no_grad():
            out, new = self.net.step(x, state[0] if len(state) == 1 else (state[0], state[1]))
        self.hidden[:, :, rows] = torch.stack(new) if isinstance(new, tuple) else new[None]
        unit = scale[:, None, None] * np.sqrt(np.asarray(self.net.cfg.horizons))[None, :, None]
        q = {k: out[k].numpy() * unit for k in TARGETS}
        p_up = self.net.p_up(out["logit"]).numpy()
        return Forecast(q["ret"], q["high"], q["low"], p_up)

    def swap(self, net: RNNForecaster) -> None:
        """Use ``net`` from the next bar on, its hidden state warmed on each symbol's recent
        features (the same as running it from a zero state over those bars)."""
        _servable(net)
        if net.cfg.n_features != self.ring.shape[2]:
            raise InvalidInput(f"the network takes {net.cfg.n_features} features, not "
                               f"{self.ring.shape[2]}")  # fmt: skip
        self.net, self.hidden = net.eval(), _zeros(net, len(self.prev_close))
        self.warm(np.array(sorted(self.slots.values()), dtype=np.int64))

    def warm(self, slots: np.ndarray) -> None:
        """Set the hidden state of ``slots`` by running the network from zero over their recent
        features, oldest first (right-aligned, so that every symbol ends on its last bar)."""
        if not len(slots):
            return
        filled, head = self.filled[slots], self.head[slots]
        state = torch.zeros_like(self.hidden[:, :, torch.as_tensor(slots)])
        with torch.no_grad():
            for k in range(WARM):
                active = filled >= WARM - k
                if not active.any():
                    continue
                pos = (head + k) % WARM  # the oldest bar is at head once the ring is full
                x = torch.as_tensor(self.ring[slots, pos])
                _, new = self.net.step(x, state[0] if len(state) == 1 else (state[0], state[1]))
                new_state = torch.stack(new) if isinstance(new, tuple) else new[None]
                mask = torch.as_tensor(active)[None, None, :, None]
                state = torch.where(mask, new_state, state)
        self.hidden[:, :, torch.as_tensor(slots)] = state

    def export(self, symbols: list[str]) -> list[bytes]:
        """Each symbol's whole live state as bytes (``restore`` takes them back)."""
        if not symbols:
            return []
        idx = np.array([self.slots[s] for s in symbols], dtype=np.int64)
        stamps = self.last_time[idx].view(np.float64)  # the int64 bits, kept exactly
        shortest = self.shortest[idx].view(np.float64)
        floats = np.column_stack(
            [self.prev_close[idx], self.ew[:, idx].T, self.started[idx], stamps, shortest,
             self.head[idx], self.filled[idx]]
        ).astype(np.float64)  # fmt: skip
        ring = self.ring[idx].reshape(len(idx), -1)
        hidden = self.hidden[:, :, idx].permute(2, 0, 1, 3).reshape(len(idx), -1).numpy()
        return [f.tobytes() + r.tobytes() + h.tobytes()
                for f, r, h in zip(floats, ring, hidden, strict=True)]  # fmt: skip

    def restore(self, records: dict[str, bytes], hidden: bool = True) -> None:
        """Set the state of each symbol from ``export``'s bytes (joining it if new). Without
        ``hidden`` (the records come from another network) the hidden state is warmed from the
        recent features instead."""
        if not records:
            return
        n_float, ring = len(EWMAS) + 6, self.ring[0].size * 4
        width = n_float * 8 + ring + self.hidden[:, :, 0].numel() * 4
        if any(len(r) != width for r in records.values()):
            hidden = False  # records of another network (or of several): warm this one
        if any(len(r) < n_float * 8 + ring for r in records.values()):
            raise InvalidInput("a live state record is too short: not a snapshot of this model")
        raw = np.stack([np.frombuffer(r[: width if hidden else n_float * 8 + ring], np.uint8)
                        for r in records.values()])  # fmt: skip
        floats = raw[:, : n_float * 8].copy().view(np.float64)
        idx = np.array([self.join(s) for s in records], dtype=np.int64)
        self.prev_close[idx] = floats[:, 0]
        self.ew[:, idx] = floats[:, 1:-5].T
        self.started[idx] = floats[:, -5] > 0
        self.last_time[idx] = floats[:, -4].copy().view(np.int64)
        self.shortest[idx] = floats[:, -3].copy().view(np.int64)
        self.head[idx], self.filled[idx] = floats[:, -2], floats[:, -1]
        at = n_float * 8
        self.ring[idx] = (
            raw[:, at : at + ring].copy().view(np.float32).reshape(-1, *self.ring.shape[1:])
        )
        if not hidden:
            self.warm(idx)
            return
        h = torch.from_numpy(raw[:, at + ring :].copy().view(np.float32))
        shape = (len(idx), *self.hidden.shape[:2], self.hidden.shape[3])
        self.hidden[:, :, torch.as_tensor(idx)] = h.reshape(shape).permute(1, 2, 0, 3)

    def state_bytes(self) -> float:
        """Bytes of live state per symbol slot, from the arrays themselves."""
        arrays = (self.prev_close, self.ew, self.last_time, self.shortest, self.started,
                  self.ring, self.head, self.filled)  # fmt: skip
        total = sum(a.nbytes for a in arrays) + self.hidden.numel() * self.hidden.element_size()
        return total / len(self.prev_close)


def _servable(net: RNNForecaster) -> None:
    """Refuse a network the live path cannot feed (one on GARCH-t needs GARCH forecasts)."""
    if net.cfg.garch:
        raise InvalidInput(
            "this forecaster reads GARCH-t, which the live path does not compute yet; "
            "serve a free one (`otemachi markets train`)"
        )


def _zeros(net: RNNForecaster, capacity: int) -> torch.Tensor:
    """A zero hidden state: (1 for a GRU, 2 for an LSTM, layers, capacity, hidden)."""
    cfg = net.cfg
    return torch.zeros(2 if cfg.cell == "lstm" else 1, cfg.layers, capacity, cfg.hidden)
