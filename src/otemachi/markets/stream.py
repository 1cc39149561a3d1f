"""The live pipeline in one process: bar messages in (one bar, or a whole bar time in columns:
see ``checks``), one forecast per bar out, bad messages to a dead-letter list with their reason.
The pipeline never stops for bad data.

Beyond the per-message checks: a bar not newer than its symbol's last one is a dead letter
``duplicate`` (same time) or ``out of order`` (older); a gap (more than 4 times the symbol's
shortest bar interval since its last bar, so that a weekend or a holiday is not one) is
processed as it comes, and counted.

Bars that close at the same time are advanced together in one batched network call and
published as one ``Batch``: when a bar of a later time arrives, or at once when the source sends
``FLUSH`` (a replay does after each bar time; it says that every bar of that time has been sent).
"""

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from otemachi.markets.checks import Bar, Checked, check
from otemachi.markets.forecast import Forecast
from otemachi.markets.live import Bars, LiveState
from otemachi.markets.model import RNNForecaster

FLUSH = None  # a message that means "every bar of this time has been sent"


@dataclass(frozen=True)
class DeadLetter:
    message: Any
    reason: str


@dataclass(frozen=True)
class Published:
    """One forecast: per horizon P(up) and the return, high and low quantiles (log units)."""

    symbol: str
    time: pd.Timestamp
    model_version: str
    horizons: tuple[int, ...]
    p_up: np.ndarray  # (H,)
    ret_q: np.ndarray  # (H, Q)
    high_q: np.ndarray  # (H, Q)
    low_q: np.ndarray  # (H, Q)
    latency_ms: float  # message received (on a bus: sent) to forecast published

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: lists of rounded numbers, the time in ISO 8601."""
        arrays = {
            k: getattr(self, k).round(8).tolist() for k in ("p_up", "ret_q", "high_q", "low_q")
        }
        return {**self.__dict__, **arrays, "time": self.time.isoformat()}


@dataclass(frozen=True)
class Batch:
    """The forecasts of every bar that closed at one time, as arrays (row i: ``symbols[i]``)."""

    time: pd.Timestamp
    symbols: list[str]
    model_version: str
    horizons: tuple[int, ...]
    forecast: Forecast
    latency_ms: np.ndarray  # (B,)

    def __len__(self) -> int:
        return len(self.symbols)

    def rows(self) -> list[Published]:
        f = self.forecast
        return [
            Published(s, self.time, self.model_version, self.horizons, f.p_up[i], f.ret_q[i],
                      f.high_q[i], f.low_q[i], float(self.latency_ms[i]))
            for i, s in enumerate(self.symbols)
        ]  # fmt: skip

    def docs(self) -> list[dict[str, Any]]:
        """``Published.to_json`` of every row, converted in one pass per array."""
        f = self.forecast
        arrays = [a.round(8).tolist() for a in (f.p_up, f.ret_q, f.high_q, f.low_q)]
        common = {"time": self.time.isoformat(), "model_version": self.model_version,
                  "horizons": list(self.horizons)}  # fmt: skip
        return [
            {"symbol": s, **common, "p_up": p, "ret_q": r, "high_q": h, "low_q": lo,
             "latency_ms": ms}
            for s, p, r, h, lo, ms in zip(self.symbols, *arrays, self.latency_ms.tolist(),
                                          strict=True)
        ]  # fmt: skip

    def to_fields(self) -> dict[str, bytes]:
        """The batch as a few binary fields (float32 arrays), for a stream entry."""
        f = self.forecast
        arrays = {"p_up": f.p_up, "ret_q": f.ret_q, "high_q": f.high_q, "low_q": f.low_q,
                  "latency_ms": self.latency_ms}  # fmt: skip
        return {
            "time": str(self.time.value).encode(),
            "symbols": "\n".join(self.symbols).encode(),
            "model_version": self.model_version.encode(),
            "horizons": ",".join(map(str, self.horizons)).encode(),
            **{k: np.ascontiguousarray(a, dtype="<f4").tobytes() for k, a in arrays.items()},
        }

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> "Batch":
        """``to_fields`` read back."""
        symbols = fields[b"symbols"].decode().split("\n")
        horizons = tuple(int(h) for h in fields[b"horizons"].decode().split(","))
        b, h = len(symbols), len(horizons)

        def array(key: str, *shape: int) -> np.ndarray:
            return np.frombuffer(fields[key.encode()], dtype="<f4").reshape(b, *shape)

        q = len(fields[b"ret_q"]) // (4 * b * h)
        forecast = Forecast(array("ret_q", h, q), array("high_q", h, q), array("low_q", h, q),
                            array("p_up", h))  # fmt: skip
        return cls(pd.Timestamp(int(fields[b"time"])), symbols, fields[b"model_version"].decode(),
                   horizons, forecast, array("latency_ms"))  # fmt: skip

    def measured(self, ms: float) -> "Batch":
        """The batch with every row's latency set to ``ms``."""
        return replace(self, latency_ms=np.full(len(self), ms))


@dataclass
class Counters:
    """What the pipeline has seen; the newest dead letters are kept, all are counted."""

    bars: int = 0
    repaired: int = 0
    gaps: int = 0
    dead_letters: int = 0
    dead: deque[DeadLetter] = field(default_factory=lambda: deque(maxlen=10_000))
    unsent: list[DeadLetter] | None = None  # every dead letter, until a bus worker sends them

    def refuse(self, message: Any, reason: str) -> None:
        self.dead_letters += 1
        self.dead.append(DeadLetter(message, reason))
        if self.unsent is not None:
            self.unsent.append(self.dead[-1])


class Pipeline:
    """Validates bar messages, advances the live state and publishes one forecast per bar."""

    def __init__(self, state: LiveState, version: str) -> None:
        self.state, self.version = state, version
        self.counters = Counters()
        self._time = 0  # the bar time (ns) of the bars taken since the last flush
        self._symbols: list[str] = []
        self._taken: set[str] = set()  # the symbols of self._symbols
        self._chunks: list[np.ndarray] = []  # their bars, in the same order
        self._rows: list[tuple[float, ...]] = []  # bars taken one by one, not yet in a chunk
        self._received: list[float] = []  # when each bar was taken

    @property
    def pending(self) -> bool:
        """Whether bars are taken and not yet published."""
        return bool(self._symbols)

    def run(self, messages: Iterable[Any]) -> Iterator[Published]:
        """Forecasts as bars close, one per bar."""
        for message in messages:
            for batch in self.flush() if message is FLUSH else self.feed(message):
                yield from batch.rows()
        for batch in self.flush():
            yield from batch.rows()

    def feed(self, message: Any) -> list[Batch]:
        """Take one message; the previous bar time's forecasts if it starts a new one."""
        received = time.perf_counter()
        got = check(message)
        if isinstance(got, str):
            self.counters.refuse(message, got)
            return []
        stamp = got.when.value
        if isinstance(got, Bar):
            refused = self._refused(got.symbol, stamp, self._last_of(got.symbol))
            if refused:  # before any flush: a stale bar never splits a bar time
                self.counters.refuse(got.message, refused)
                return []
            out = self.flush() if self._symbols and stamp != self._time else []
            self._take(stamp, [got.symbol], received, int(got.repaired))
            self._rows.append(got.prices)
            return out
        for bad, reason in got.refused:
            self.counters.refuse(bad, reason)
        keep = self._in_order(got, stamp)
        if not keep.any():
            return []
        out = self.flush() if self._symbols and stamp != self._time else []
        every = bool(keep.all())
        kept = got.symbols if every else [s for s, k in zip(got.symbols, keep, strict=True) if k]
        self._seal_rows()
        self._take(stamp, kept, received, int(got.repaired[keep].sum()))
        self._chunks.append(got.ohlcv if every else got.ohlcv[keep])
        return out

    def _take(self, stamp: int, symbols: list[str], received: float, repaired: int) -> None:
        self._time = stamp
        self._symbols += symbols
        self._taken.update(symbols)
        self._received += [received] * len(symbols)
        self.counters.repaired += repaired

    def _last_of(self, symbol: str) -> int:
        """A symbol's last bar time, counting a bar taken and not yet published."""
        return self._time if symbol in self._taken else self.state.last_time_of(symbol)

    def _in_order(self, got: Checked, stamp: int) -> np.ndarray:
        """Which bars of a bar-time message are newer than their symbol's last one (and not
        repeated in it); the others go to the dead letters."""
        last = self.state.last_times(got.symbols)
        unique = len(set(got.symbols)) == len(got.symbols)
        if unique and (last < stamp).all() and not self._taken.intersection(got.symbols):
            return np.ones(len(got.symbols), dtype=bool)
        keep = np.zeros(len(got.symbols), dtype=bool)
        seen: set[str] = set()
        for i, s in enumerate(got.symbols):
            latest = stamp if s in seen else self._time if s in self._taken else int(last[i])
            refused = self._refused(s, stamp, latest)
            if refused:
                self.counters.refuse(got.message(i), refused)
            else:
                keep[i] = True
                seen.add(s)
        return keep

    @staticmethod
    def _refused(symbol: str, stamp: int, last: int) -> str:
        """Why a bar at ``stamp`` is not taken ("" when it is)."""
        if last == stamp:
            return f"duplicate: not newer than {symbol}'s last bar"
        if last > stamp:
            return f"out of order: not newer than {symbol}'s last bar"
        return ""

    def _seal_rows(self) -> None:
        if self._rows:
            self._chunks.append(np.array(self._rows))
            self._rows = []

    def flush(self) -> list[Batch]:
        """Publish the bars taken since the last flush (one bar time)."""
        if not self._symbols:
            return []
        self._seal_rows()
        symbols, when = self._symbols, pd.Timestamp(self._time)
        ohlcv, received = np.concatenate(self._chunks), np.array(self._received)
        self._symbols, self._chunks, self._received, self._taken = [], [], [], set()
        idx = self.state.slots_of(symbols)
        self.counters.gaps += self.state.gaps(idx, self._time)
        f = self.state.step(Bars(symbols, _repeat(when, len(symbols)), ohlcv), idx)
        self.counters.bars += len(symbols)
        ms = (time.perf_counter() - received) * 1e3
        return [Batch(when, symbols, self.version, tuple(self.state.net.cfg.horizons), f, ms)]

    def export(self, symbols: list[str]) -> dict[str, bytes]:
        """Each symbol's state after its last published bar, as bytes for a snapshot."""
        return dict(zip(symbols, self.state.export(symbols), strict=True))

    def restore(self, records: dict[str, bytes], same_model: bool = True) -> None:
        """Continue from ``export``'s snapshot of these symbols (taken with another network:
        this one's hidden state is warmed on their recent features)."""
        self.state.restore(records, hidden=same_model)

    def swap(self, net: RNNForecaster, version: str) -> None:
        """Forecast with ``net`` from the next bar time on (bars taken and not yet published
        are forecast by it too: a bar time never mixes two networks)."""
        self.state.swap(net)
        self.version = version


def _repeat(when: pd.Timestamp, n: int) -> pd.DatetimeIndex:
    """``when`` n times, without building n Timestamps."""
    return pd.DatetimeIndex(np.full(n, when.to_datetime64()))


def summary(
    latencies: list[float], counts: dict[str, int], dead_letters: int, seconds: float,
    symbols: int, version: str,
) -> dict[str, Any]:  # fmt: skip
    """The run in numbers: bars, forecasts, dead letters, latency percentiles, throughput."""
    lat = np.asarray(latencies) if latencies else np.zeros(1)
    bars = counts.get("bars", 0)
    return {
        "bars": bars,
        "forecasts": len(latencies),
        "symbols": symbols,
        "dead_letters": dead_letters,
        "repaired": counts.get("repaired", 0),
        "gaps": counts.get("gaps", 0),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 4),
        "latency_ms_p99": round(float(np.percentile(lat, 99)), 4),
        "bars_per_s": round(bars / max(seconds, 1e-9), 1),
        "model_version": version,
    }
