"""Where live bars come from: a replay of any dataset, or a synthetic market of N symbols, as bar
messages in time order (the same shape a feed or a bus delivers); or a file of ticks, made into
bars by ``ticks.Aggregator``."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from otemachi.core.errors import InvalidInput
from otemachi.core.seeding import rng
from otemachi.markets import data, synth, ticks
from otemachi.markets.live import OHLCV
from otemachi.markets.stream import FLUSH


def synthetic(n: int, bars: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """``n`` symbols of GARCH(1,1) daily bars on one calendar, each from its own seed stream."""
    index = pd.date_range("2000-01-03", periods=bars, freq="B")
    return {
        f"SYN{i:04d}": synth.garch(bars, rng(seed, "markets", "synthetic", str(i))).bars.set_axis(
            index
        )
        for i in range(n)
    }


def parse(
    source: str, bars: int | None = None, seed: int = 0
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """``replay:NAME|PATH`` (a bundled dataset, or a CSV/Parquet file with one or many symbols)
    or ``synthetic:N`` -> bars per symbol (at most ``bars`` of each), and what validation
    changed, one line per symbol that needed it."""
    kind, _, arg = source.partition(":")
    if kind == "synthetic":
        if not arg.isdigit() or not 1 <= int(arg) <= 100_000:
            raise InvalidInput(f"synthetic:N takes N from 1 to 100000, got {arg!r}")
        return synthetic(int(arg), bars or 500, seed), []
    if kind == "replay" and arg:
        loaded = data.load_all(arg)
        books = {s: frame.iloc[:bars] if bars else frame for s, (frame, _) in loaded.items()}
        notes = [f"{s}: {r.summary()}" for s, (_, r) in loaded.items() if not r.clean]
        return books, notes
    raise InvalidInput(
        f"--source must be replay:NAME|PATH, synthetic:N or ticks:PATH, got {source!r}"
    )


def messages(
    books: dict[str, pd.DataFrame], speed: float | None = None, columnar: bool = False
) -> Iterator[dict[str, Any] | None]:
    """Every bar in time order (symbols in name order within a time), and FLUSH after each bar
    time: one message per bar, or with ``columnar`` one message per bar time holding every
    symbol's bar (the fast path). With ``speed``, that many bar times per second, otherwise as
    fast as they are taken."""
    frames = [b[list(OHLCV)].assign(symbol=s) for s, b in sorted(books.items())]
    merged = pd.concat(frames).rename_axis("time").reset_index()
    merged = merged.sort_values(["time", "symbol"], kind="stable")
    stamps, names = merged["time"].to_numpy(), merged["symbol"].to_numpy()
    values = merged[list(OHLCV)].to_numpy(float)
    starts = np.flatnonzero(np.r_[True, stamps[1:] != stamps[:-1]])
    for k, (a, b) in enumerate(zip(starts, [*starts[1:], len(merged)], strict=True)):
        if speed is not None and k:
            time.sleep(1 / speed)
        when = pd.Timestamp(stamps[a])
        if columnar:
            yield {"time": when, "symbols": names[a:b].tolist(), "ohlcv": values[a:b]}
        else:
            for i in range(a, b):
                yield {"symbol": str(names[i]), "time": when,
                       **dict(zip(OHLCV, values[i].tolist(), strict=True))}  # fmt: skip
        yield FLUSH


def count(books: dict[str, pd.DataFrame], columnar: bool = False) -> int:
    """How many messages ``messages`` yields, FLUSH included."""
    times = len(pd.Index(np.concatenate([b.index.to_numpy() for b in books.values()])).unique())
    return times * 2 if columnar else times + sum(len(b) for b in books.values())


@dataclass(frozen=True)
class Feed:
    """A source opened for streaming."""

    messages: Iterator[Any]
    total: int | None  # how many messages, when known (for the progress bar)
    symbols: int
    notes: list[str]  # what validation changed
    dataset: str | None  # the replayed dataset's short name (its newest model is the default)


def open_feed(
    source: str, bars: int | None, seed: int, pace: float | None, bar: str, grace: str
) -> Feed:
    """``replay:NAME|PATH``, ``synthetic:N`` (bar-time messages) or ``ticks:PATH`` (ticks made
    into bars of ``bar``, late ones allowed within ``grace``)."""
    kind, _, arg = source.partition(":")
    if kind == "ticks" and arg:
        bar_ns, grace_ns = ticks.duration(bar, "--bar"), ticks.duration(grace, "--grace", True)
        rows = tick_rows(arg)
        symbols = len({r["symbol"] for r in rows if isinstance(r["symbol"], str)})
        return Feed(ticks.bar_messages(rows, bar_ns, grace_ns), None, symbols, [], None)
    books, notes = parse(source, bars, seed)
    name = data.short_name(arg) if kind == "replay" else None
    return Feed(
        messages(books, pace, columnar=True), count(books, columnar=True), len(books), notes, name
    )


def tick_rows(path: str) -> list[dict[str, Any]]:
    """The ticks of a CSV or Parquet file (columns symbol, time, price, size), in file order, as
    tick messages; each is checked by the aggregator."""
    table = data.read_table(Path(path))
    missing = [c for c in ticks.FIELDS if c not in table.columns]
    if missing:
        raise InvalidInput(f"{path}: a tick file needs the columns {list(ticks.FIELDS)}, "
                           f"missing {missing}")  # fmt: skip
    return [
        {str(k): v for k, v in row.items()} for row in table[list(ticks.FIELDS)].to_dict("records")
    ]


def speed(text: str) -> float | None:
    """``max`` (None) or a positive number of bar times per second."""
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise InvalidInput(
            f"--speed must be max or a positive number of bars per second, got {text!r}"
        )
    return value
