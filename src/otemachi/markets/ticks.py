"""Ticks to time bars, for a tick feed. A tick is a mapping with ``symbol``, ``time``, ``price``
and ``size``; the aggregator turns ticks into bar-time messages for the pipeline.

Policy:

- a malformed tick (not a mapping, a field missing or of the wrong type, a time that does not
  parse) is refused ``malformed``; a price that is not finite or not positive, or a size that is
  negative or not finite, ``bad value``;
- ticks may arrive out of order: a tick belongs to the bar [start, start + bar) holding its time,
  and open, high, low and close follow the ticks' times, not their arrival. A bar interval stays
  open until the newest tick time seen passes its end by the grace window; then every symbol's
  bar of that interval is sent as one bar-time message, then FLUSH;
- a tick for an interval already sent (later than the grace window) is refused ``late``, counted
  and logged;
- the same tick twice (symbol, time, price and size) is refused ``duplicate``;
- an interval without a tick for a symbol gives it no bar (the pipeline counts the gap).

A refused tick goes on as ``{"refused": reason, "message": tick}``, which the pipeline sends to
the dead letters with that reason.
"""

import logging
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from otemachi.core.errors import InvalidInput
from otemachi.markets.checks import SYMBOL_RULE, is_symbol, parse_time
from otemachi.markets.stream import FLUSH

log = logging.getLogger(__name__)
FIELDS = ("symbol", "time", "price", "size")


def refused(message: Any, reason: str) -> dict[str, Any]:
    return {"refused": reason, "message": message}


def duration(text: str, flag: str, zero: bool = False) -> int:
    """``1min``, ``5s``, ``1h``... as nanoseconds (0 allowed with ``zero``); a clear error for
    anything else."""
    try:
        value = int(pd.Timedelta(text).value)
    except (ValueError, TypeError, OverflowError):
        value = -1
    if value < 0 or (value == 0 and not zero):
        raise InvalidInput(f"{flag} must be a duration like 1min or 5s, got {text!r}")
    return value


def check_tick(tick: Any) -> tuple[str, int, float, float] | str:
    """(symbol, time in ns, price, size) of a good tick, or the reason it is refused."""
    if not isinstance(tick, dict):
        return f"malformed: a tick is a mapping, got {type(tick).__name__}"
    missing = [k for k in FIELDS if k not in tick]
    if missing:
        return f"malformed: missing {missing}"
    symbol, price, size = tick["symbol"], tick["price"], tick["size"]
    if not is_symbol(symbol):
        return f"malformed: {SYMBOL_RULE}"
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (price, size)):
        return "malformed: price and size must be numbers"
    when = parse_time(tick["time"])
    if isinstance(when, str):
        return when
    try:
        price, size = float(price), float(size)
    except OverflowError:
        return "bad value: a number is too large"
    if not (math.isfinite(price) and price > 0):
        return "bad value: price must be finite and positive"
    if not (math.isfinite(size) and size >= 0):
        return "bad value: size must be finite and not negative"
    return symbol, when.value, price, size


class Aggregator:
    """Ticks in, bar-time messages out (see the module's policy)."""

    def __init__(self, bar_ns: int, grace_ns: int = 0) -> None:
        self.bar_ns, self.grace_ns = bar_ns, grace_ns
        # interval start -> symbol -> [first time, open, high, low, last time, close, volume]
        self._open: dict[int, dict[str, list[float]]] = {}
        self._seen: dict[int, set[tuple[str, int, float, float]]] = {}
        self._sent_to = -(2**63)  # every interval that starts before this has been sent
        self._newest = -(2**63)
        self.late = 0

    def add(self, tick: Any) -> list[Any]:
        """Take a tick; the messages it releases (bars whose grace window has passed)."""
        got = check_tick(tick)
        if isinstance(got, str):
            return [refused(tick, got)]
        symbol, ns, price, size = got
        start = ns - ns % self.bar_ns
        if start < self._sent_to:
            self.late += 1
            log.info("late tick for %s at %s: its bar was sent", symbol, pd.Timestamp(ns))
            return [refused(tick, f"late: the {symbol} bar of {pd.Timestamp(start)} was sent")]
        seen = self._seen.setdefault(start, set())
        if got in seen:
            return [refused(tick, f"duplicate: the same {symbol} tick twice")]
        seen.add(got)
        bar = self._open.setdefault(start, {}).get(symbol)
        if bar is None:
            self._open[start][symbol] = [ns, price, price, price, ns, price, size]
        else:
            if ns < bar[0]:
                bar[0], bar[1] = ns, price
            if ns >= bar[4]:
                bar[4], bar[5] = ns, price
            bar[2], bar[3], bar[6] = max(bar[2], price), min(bar[3], price), bar[6] + size
        self._newest = max(self._newest, ns)
        return self._send_until(self._newest - self.grace_ns)

    def finish(self) -> list[Any]:
        """Send every open bar (the feed has ended)."""
        return self._send_until(2**63 - 1)

    def _send_until(self, watermark: int) -> list[Any]:
        out: list[Any] = []
        for start in sorted(self._open):
            if start + self.bar_ns > watermark:
                break
            bars = self._open.pop(start)
            del self._seen[start]
            symbols = sorted(bars)
            ohlcv = np.array([[bars[s][i] for i in (1, 2, 3, 5, 6)] for s in symbols])
            out += [{"time": pd.Timestamp(start), "symbols": symbols, "ohlcv": ohlcv}, FLUSH]
            self._sent_to = start + self.bar_ns
        return out


def bar_messages(ticks: Iterable[Any], bar_ns: int, grace_ns: int) -> Iterator[Any]:
    """Every message the ticks make, in order, and the open bars at the end."""
    agg = Aggregator(bar_ns, grace_ns)
    for tick in ticks:
        yield from agg.add(tick)
    yield from agg.finish()
