"""What the live pipeline accepts, message by message. Two message forms:

- a bar: a mapping with ``symbol``, ``time`` and the five ``open high low close volume`` numbers;
- a bar time (columnar, the fast path): a mapping with ``time``, ``symbols`` (n names) and
  ``ohlcv`` (n rows of five numbers): every symbol's bar that closed at that time.

Policy:

- malformed (not a mapping, a field missing, a value of the wrong type, a time that does not
  parse or is relative, like "now", a symbol that is not 1 to 64 printable characters, a table
  of the wrong shape or not of numbers): dead letter ``malformed`` (the whole message);
- a price that is not finite or not positive, a volume that is negative or not finite: dead
  letter ``bad value`` (that bar only); a time more than a day past the wall clock, which would
  block every later bar of its symbol: ``bad value`` (the whole message);
- a high below the open or close, or a low above them: repaired as the backtest repairs history
  (high = max(open, high, close), low = min(...)) and counted.

Order (duplicates, out of order) and gaps are the pipeline's, which knows each symbol's last bar.
"""

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from otemachi.markets.live import OHLCV

PRICES = "bad value: prices must be finite and positive"
VOLUME = "bad value: volume must be finite and not negative"


@dataclass(frozen=True)
class Bar:
    """A good bar message (high and low repaired)."""

    symbol: str
    when: pd.Timestamp
    prices: tuple[float, float, float, float, float]
    repaired: bool
    message: Any


@dataclass
class Checked:
    """The good bars of a bar time message."""

    when: pd.Timestamp
    symbols: list[str]
    ohlcv: np.ndarray  # (n, 5), high and low repaired
    repaired: np.ndarray  # (n,) bool
    refused: list[tuple[Any, str]] = field(default_factory=list)  # bar messages and reasons

    def message(self, i: int) -> Any:
        """Bar ``i`` as a message (for a dead letter)."""
        return bar_message(self.symbols[i], self.when, self.ohlcv[i])


def bar_message(symbol: str, when: pd.Timestamp, row: np.ndarray) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "time": when.isoformat(),
        **dict(zip(OHLCV, row.tolist(), strict=True)),
    }


SYMBOL_RULE = "a symbol is 1 to 64 printable characters"


def is_symbol(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable()


_SYMBOLS: set[str] = set()  # symbols already found good (a bar-time message repeats them)


def are_symbols(values: Any) -> bool:
    """Whether ``values`` is a list of symbols."""
    if not isinstance(values, list):
        return False
    try:
        if _SYMBOLS.issuperset(values):  # only strings are in it
            return True
    except TypeError:  # an item that cannot be hashed is no symbol
        return False
    if not all(map(is_symbol, values)):
        return False
    if len(_SYMBOLS) < 1_000_000:
        _SYMBOLS.update(values)
    return True


def is_bar_time(message: Any) -> bool:
    return isinstance(message, dict) and "symbols" in message


def check(message: Any) -> Bar | Checked | str:
    """The message's good bars, or the reason the whole message is refused (a message already
    refused upstream, ``{"refused": reason, "message": ...}``, keeps its reason)."""
    if isinstance(message, dict) and isinstance(message.get("refused"), str):
        return message["refused"]
    return _columns(message) if is_bar_time(message) else _bar(message)


RELATIVE = {"now", "today", "tomorrow", "yesterday"}
FUTURE_NS = 86_400 * 10**9  # how far past the wall clock a bar time may be: a day


@lru_cache(maxsize=4096)
def _parse_time(raw: str) -> pd.Timestamp | str:
    if raw.strip().lower() in RELATIVE:
        return f"malformed: time {raw!r} is relative, not a timestamp"
    try:
        when = pd.Timestamp(raw)
    except (ValueError, TypeError, OverflowError):
        return f"malformed: time {raw!r} is not a timestamp"
    if when is pd.NaT or not isinstance(when, pd.Timestamp):
        return f"malformed: time {raw!r} is not a timestamp"
    return when.tz_convert(None) if when.tzinfo is not None else when


def _not_future(when: pd.Timestamp) -> pd.Timestamp | str:
    """A time more than a day past the wall clock would block its symbol's later bars."""
    if when.value > time.time_ns() + FUTURE_NS:
        return f"bad value: time {when} is in the future"
    return when


def parse_time(raw: Any) -> pd.Timestamp | str:
    if isinstance(raw, pd.Timestamp) and raw is not pd.NaT:
        return _not_future(raw.tz_convert(None) if raw.tzinfo is not None else raw)
    if isinstance(raw, bool) or not isinstance(raw, str | int | np.datetime64):
        return f"malformed: time {raw!r} is not a timestamp"
    try:
        when = _parse_time(raw if isinstance(raw, str) else str(pd.Timestamp(raw)))
    except (ValueError, OverflowError):
        return f"malformed: time {raw!r} is not a timestamp"
    return when if isinstance(when, str) else _not_future(when)


def _bar(message: Any) -> Bar | str:
    if not isinstance(message, dict):
        return f"malformed: a bar is a mapping, got {type(message).__name__}"
    missing = [k for k in ("symbol", "time", *OHLCV) if k not in message]
    if missing:
        return f"malformed: missing {missing}"
    symbol = message["symbol"]
    if not is_symbol(symbol):
        return f"malformed: {SYMBOL_RULE}"
    values = [message[k] for k in OHLCV]
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        return "malformed: open, high, low, close and volume must be numbers"
    when = parse_time(message["time"])
    if isinstance(when, str):
        return when
    try:
        o, h, lo, c, v = (float(x) for x in values)
    except OverflowError:
        return "bad value: a number is too large"
    if not all(math.isfinite(p) and p > 0 for p in (o, h, lo, c)):
        return PRICES
    if not (math.isfinite(v) and v >= 0):
        return VOLUME
    high, low = max(o, h, c), min(o, lo, c)
    return Bar(symbol, when, (o, high, low, c, v), (high, low) != (h, lo), message)


def _columns(message: dict[str, Any]) -> Checked | str:
    missing = [k for k in ("time", "symbols", "ohlcv") if k not in message]
    if missing:
        return f"malformed: a bar time is missing {missing}"
    symbols = message["symbols"]
    if not are_symbols(symbols):
        return f"malformed: symbols must be a list of symbols; {SYMBOL_RULE}"
    try:
        raw = np.asarray(message["ohlcv"])
    except (ValueError, TypeError, OverflowError, RecursionError):
        return "malformed: ohlcv must be a table of numbers"
    if raw.dtype.kind not in "iuf":  # not strings, booleans or objects, as for one bar
        return "malformed: ohlcv must be a table of numbers"
    table = raw.astype(np.float64)  # a copy: repairs are in place
    if table.shape != (len(symbols), 5):
        return f"malformed: ohlcv must be {len(symbols)} rows of 5 numbers, got {table.shape}"
    when = parse_time(message["time"])
    if isinstance(when, str):
        return when
    reasons = _values(table)
    good = reasons == ""
    refused = [
        (bar_message(symbols[i], when, table[i]), str(reasons[i])) for i in np.flatnonzero(~good)
    ]
    if refused:
        symbols = [s for s, ok in zip(symbols, good, strict=True) if ok]
        table = table[good]
    return Checked(when, symbols, table, _repair(table), refused)


def _values(table: np.ndarray) -> np.ndarray:
    """Per row, why its values are refused ("" when they are good)."""
    prices = np.isfinite(table[:, :4]).all(axis=1) & (table[:, :4] > 0).all(axis=1)
    volume = np.isfinite(table[:, 4]) & (table[:, 4] >= 0)
    return np.where(prices, np.where(volume, "", VOLUME), PRICES)


def _repair(table: np.ndarray) -> np.ndarray:
    """Set high and low to bound the body, in place; which rows changed."""
    o, h, lo, c = table[:, 0], table[:, 1], table[:, 2], table[:, 3]
    high = np.maximum(np.maximum(o, h), c)
    low = np.minimum(np.minimum(o, lo), c)
    repaired = (high != h) | (low != lo)
    table[:, 1], table[:, 2] = high, low
    return repaired
