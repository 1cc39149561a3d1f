"""The live pipeline in one process: bar messages in, one forecast per bar out, bad messages to a
dead-letter list with their reason. The pipeline never stops for bad data.

Policy, message by message (a message is a mapping with ``symbol``, ``time`` and the five
``open high low close volume`` numbers):

- malformed (not a mapping, a field missing, a value of the wrong type, a time that does not
  parse): dead letter ``malformed``;
- a price that is not finite or not positive, a volume that is negative or not finite: dead
  letter ``bad value``;
- a high below the open or close, or a low above them: repaired as the backtest repairs history
  (high = max(open, high, close), low = min(...)) and counted;
- a bar not newer than the symbol's last one: dead letter ``duplicate`` (same time) or
  ``out of order`` (older);
- a gap (more than 4 times the symbol's shortest bar interval since the last bar, so that a
  weekend or a holiday is not one): processed as it comes, and counted.

Bars that close at the same time are advanced together in one batched network call: a batch is
published when a bar of a later time arrives, or at once when the source sends ``FLUSH`` (a
replay does after each bar time; it says that every bar of that time has been sent).
"""

import math
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from otemachi.markets.forecast import Forecast
from otemachi.markets.live import OHLCV, Bars, LiveState

FLUSH = None  # a message that means "every bar of this time has been sent"
Prices = tuple[float, float, float, float, float]  # open, high, low, close, volume
Bar = tuple[str, pd.Timestamp, Prices]  # symbol, time, prices
Pending = tuple[str, pd.Timestamp, Prices, float]  # a bar and when it was received


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
    latency_ms: float  # message received to forecast published

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: lists of rounded numbers, the time in ISO 8601."""
        arrays = {
            k: getattr(self, k).round(8).tolist() for k in ("p_up", "ret_q", "high_q", "low_q")
        }
        return {**self.__dict__, **arrays, "time": self.time.isoformat()}


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


def check(message: Any) -> tuple[str, pd.Timestamp, Prices, bool] | str:
    """(symbol, time, ohlcv, repaired) of a valid bar message, or the reason it is refused."""
    if not isinstance(message, dict):
        return f"malformed: a bar is a mapping, got {type(message).__name__}"
    missing = [k for k in ("symbol", "time", *OHLCV) if k not in message]
    if missing:
        return f"malformed: missing {missing}"
    symbol = message["symbol"]
    if not isinstance(symbol, str) or not symbol:
        return "malformed: symbol must be a non-empty string"
    values = [message[k] for k in OHLCV]
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        return "malformed: open, high, low, close and volume must be numbers"
    try:
        raw = message["time"]
        when = raw if isinstance(raw, pd.Timestamp) else pd.Timestamp(raw)
    except (ValueError, TypeError, OverflowError):
        return f"malformed: time {message['time']!r} is not a timestamp"
    if when is pd.NaT or not isinstance(when, pd.Timestamp):
        return f"malformed: time {message['time']!r} is not a timestamp"
    if when.tzinfo is not None:
        when = when.tz_convert(None)
    try:
        o, h, lo, c, v = (float(x) for x in values)
    except OverflowError:
        return "bad value: a number is too large"
    if not all(math.isfinite(p) and p > 0 for p in (o, h, lo, c)):
        return "bad value: prices must be finite and positive"
    if not (math.isfinite(v) and v >= 0):
        return "bad value: volume must be finite and not negative"
    high, low = max(o, h, c), min(o, lo, c)
    return symbol, when, (o, high, low, c, v), (high, low) != (h, lo)


class Pipeline:
    """Validates bar messages, advances the live state and publishes one forecast per bar."""

    def __init__(self, state: LiveState, version: str) -> None:
        self.state, self.version = state, version
        self.counters = Counters()
        self._last: dict[str, tuple[int, int]] = {}  # symbol -> (last time ns, shortest interval)
        self._batch: list[Pending] = []  # bars of the current bar time, not yet published
        self._pending: dict[str, int] = {}  # symbol -> time (ns) of its bar in the batch

    def run(self, messages: Iterable[Any]) -> Iterator[Published]:
        """Forecasts as bars close; messages with the same time are batched."""
        for message in messages:
            yield from self.flush() if message is FLUSH else self.feed(message)
        yield from self.flush()

    def feed(self, message: Any) -> list[Published]:
        """Take one message; the forecasts of the previous bar time if this bar starts a new one."""
        received = time.perf_counter()
        bar = self._admit(message, self._pending)
        if bar is None:
            return []
        out = self.flush() if self._batch and bar[1] != self._batch[0][1] else []
        self._batch.append((*bar, received))
        self._pending[bar[0]] = bar[1].value
        return out

    def flush(self) -> list[Published]:
        """Publish the bars taken since the last flush (one bar time)."""
        batch, self._batch, self._pending = self._batch, [], {}
        return list(self._flush(batch))

    def export(self, symbols: list[str]) -> dict[str, bytes]:
        """Each symbol's state after its last published bar, as bytes for a snapshot."""
        rows = self.state.export(symbols)
        return {
            s: r + np.array(self._last[s], dtype=np.int64).tobytes()
            for s, r in zip(symbols, rows, strict=True)
        }

    def restore(self, records: dict[str, bytes]) -> None:
        """Continue from ``export``'s snapshot of these symbols."""
        self.state.restore({s: r[:-16] for s, r in records.items()})
        for s, r in records.items():
            last, shortest = np.frombuffer(r[-16:], dtype=np.int64).tolist()
            self._last[s] = (last, shortest)

    def _admit(self, message: Any, pending: dict[str, int]) -> Bar | None:
        """The message as a bar, or None after sending it to the dead letters."""
        got = check(message)
        if isinstance(got, str):
            self.counters.refuse(message, got)
            return None
        symbol, when, ohlcv, repaired = got
        last = pending.get(symbol, self._last.get(symbol, (None, 0))[0])
        if last is not None and when.value <= last:
            reason = "duplicate" if when.value == last else "out of order"
            self.counters.refuse(message, f"{reason}: not newer than {symbol}'s last bar")
            return None
        self.counters.repaired += repaired
        return symbol, when, ohlcv

    def _flush(self, batch: list[Pending]) -> Iterator[Published]:
        if not batch:
            return
        symbols = [b[0] for b in batch]
        when = batch[0][1]
        out = self.state.step(
            Bars(symbols, _repeat(when, len(batch)), np.array([b[2] for b in batch]))
        )
        done = time.perf_counter()
        for i, (symbol, t, _, received) in enumerate(batch):
            self._record(symbol, t.value)
            yield self._published(symbol, t, out, i, (done - received) * 1e3)

    def _record(self, symbol: str, now: int) -> None:
        """Remember the symbol's last bar time and shortest interval; count bars and gaps."""
        last, shortest = self._last.get(symbol, (None, 0))
        step = 0 if last is None else now - last
        if shortest and step > 4 * shortest:
            self.counters.gaps += 1
        self._last[symbol] = (now, min(shortest, step) if shortest else step)
        self.counters.bars += 1

    def _published(
        self, symbol: str, when: pd.Timestamp, f: Forecast, i: int, ms: float
    ) -> Published:
        return Published(
            symbol, when, self.version, tuple(self.state.net.cfg.horizons),
            f.p_up[i], f.ret_q[i], f.high_q[i], f.low_q[i], ms,
        )  # fmt: skip


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
