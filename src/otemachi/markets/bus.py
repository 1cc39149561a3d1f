"""The bus between bar sources and forecasting workers: one interface, two implementations.

Symbols are partitioned into shards (one stream per shard, by a stable hash of the symbol), and
each shard is read by one worker at a time, so every symbol's bars reach its hidden state in order.
A bar time ends with a ``flush`` entry in every shard, and a finite source ends with ``end``.

- ``MemoryBus``: in-process queues, for one worker in the producer's process. Needs no server.
- ``RedisBus`` (in ``redis_bus``): Redis Streams with a consumer group, shard leases, per-symbol
  state snapshots and transactional commits, for many worker processes.

Workers share the shards fairly: each takes at most its share (shards / live workers, rounded
up), and a worker holding more than its share gives shards up at their next commit.

A worker commits a shard at each flush: the forecasts and dead letters of the bar time, the new
state of every symbol it advanced, the id of the flush entry and the acknowledgement of every
entry since the last commit, all or nothing. A worker that takes over a shard loads its snapshot
and replays the entries after it, so every bar is forecast exactly once (see ``redis_bus`` for
the one known gap).
"""

import json
import time
import zlib
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, Protocol

import numpy as np

from otemachi.core.errors import OtemachiError
from otemachi.markets.checks import is_bar_time
from otemachi.markets.stream import FLUSH, Batch, DeadLetter

Kind = Literal["bar", "bars", "flush", "end"]  # bars: a list of bar messages


class BusDown(OtemachiError):
    """The bus's server cannot be reached; workers wait for it and resume from the snapshots."""

    http_status = 503


@dataclass(frozen=True)
class Entry:
    """One stream entry as a worker reads it."""

    shard: int
    id: str
    kind: Kind
    message: Any = None  # the decoded bar message, or the raw text when it is not JSON
    sent_ns: int = 0  # wall-clock time the producer sent it (ns since the epoch)


@dataclass
class Snapshot:
    """What a shard's last commit left: each symbol's state and the network that made it."""

    records: dict[str, bytes] = field(default_factory=dict)
    model_version: str | None = None


@dataclass(frozen=True)
class Commit:
    """Everything one bar time of one shard produced, written all or nothing."""

    shard: int
    ids: list[str]  # every entry taken since the last commit, the flush or end last
    published: list[Batch]
    dead: list[DeadLetter]
    records: dict[str, bytes]  # new state of each symbol advanced
    model_version: str
    ended: bool
    counts: dict[str, int]  # bars, repaired and gaps since the last commit
    release: bool = False  # give the shard up after this commit (for a worker that has too many)


class Bus(Protocol):
    shards: int
    renew_s: float  # how often a worker renews its leases and looks for free shards

    def send(self, messages: Iterable[Any]) -> int: ...
    def end(self) -> None: ...
    def acquire(self, worker: str, owned: set[int]) -> tuple[list[int], list[int], int]: ...
    def release(self, worker: str, shard: int) -> None: ...
    def snapshot(self, shard: int) -> Snapshot: ...
    def reclaim(self, worker: str, shard: int) -> list[Entry]: ...
    def read(self, worker: str, shards: set[int], count: int, block_ms: int) -> list[Entry]: ...
    def commit(self, worker: str, c: Commit) -> bool: ...
    def all_ended(self) -> bool: ...


@lru_cache(maxsize=1 << 16)
def _shard(symbol: str, shards: int) -> int:
    return zlib.crc32(symbol.encode()) % shards


def shard_of(message: Any, shards: int) -> int:
    """A symbol's shard (the same in every process); a message without a symbol goes to 0."""
    symbol = message.get("symbol") if isinstance(message, dict) else None
    return _shard(symbol, shards) if isinstance(symbol, str) else 0


def split(message: dict[str, Any], shards: int) -> list[tuple[int, dict[str, Any]]]:
    """A bar time's columns cut into one message per shard (whole, to shard 0, when its
    symbols or table are not lists of the same length: the worker refuses it)."""
    symbols, table = message.get("symbols"), message.get("ohlcv")
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        return [(0, message)]
    if not isinstance(table, list | np.ndarray) or len(table) != len(symbols):
        return [(0, message)]
    rows: dict[int, list[int]] = {}
    for i, s in enumerate(symbols):
        rows.setdefault(_shard(s, shards), []).append(i)
    if len(rows) == 1:
        return [(next(iter(rows)), message)]

    def part(idx: list[int]) -> dict[str, Any]:
        cut = table[np.array(idx)] if isinstance(table, np.ndarray) else [table[i] for i in idx]
        return {**message, "symbols": [symbols[i] for i in idx], "ohlcv": cut}

    return [(shard, part(idx)) for shard, idx in rows.items()]


def encode(message: Any) -> str:
    """A bar message as JSON text; anything that is not JSON-ready is sent as its text, and a
    message JSON cannot hold (nested too deep, say) as the start of its text."""
    try:
        return json.dumps(message, default=_plain)
    except (RecursionError, ValueError, TypeError):
        return json.dumps(repr(message)[:1000])


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else str(value)


def decode(text: str) -> Any:
    """The message, or the raw text (which the pipeline refuses as malformed)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text[:1000]


def entries(messages: Iterable[Any], shards: int) -> Iterable[tuple[int | None, Kind, Any]]:
    """(shard, or None for every shard; kind; message) for each message."""
    for message in messages:
        if message is FLUSH:
            yield None, "flush", None
        elif is_bar_time(message):
            for shard, part in split(message, shards):
                yield shard, "bar", part
        else:
            yield shard_of(message, shards), "bar", message


class MemoryBus:
    """Queues in this process, for one worker. Commits are counted (the newest dead letters
    kept); the forecasts go to the worker's ``on_commit``."""

    renew_s = 0.0

    def __init__(self, shards: int = 1) -> None:
        self.shards = shards
        self._queues: list[deque[Entry]] = [deque() for _ in range(shards)]
        self._ended = [False] * shards
        self._seq = 0
        self.dead: deque[DeadLetter] = deque(maxlen=10_000)
        self.dead_letters = 0
        self.counts: Counter[str] = Counter()

    def send(self, messages: Iterable[Any]) -> int:
        n = 0
        for shard, kind, message in entries(messages, self.shards):
            self._put(shard, kind, message)
            n += kind == "bar"
        return n

    def end(self) -> None:
        self._put(None, "end", None)

    def _put(self, shard: int | None, kind: Kind, message: Any) -> None:
        for s in range(self.shards) if shard is None else (shard,):
            self._seq += 1
            self._queues[s].append(Entry(s, str(self._seq), kind, message, time.time_ns()))

    def acquire(self, worker: str, owned: set[int]) -> tuple[list[int], list[int], int]:
        free = [s for s in range(self.shards) if s not in owned and not self._ended[s]]
        return free, [], self.shards

    def release(self, worker: str, shard: int) -> None:
        pass

    def snapshot(self, shard: int) -> Snapshot:
        return Snapshot()

    def reclaim(self, worker: str, shard: int) -> list[Entry]:
        return []

    def read(self, worker: str, shards: set[int], count: int, block_ms: int) -> list[Entry]:
        if block_ms and not any(self._queues[s] for s in shards):
            time.sleep(block_ms / 1e3)
        out: list[Entry] = []
        for s in sorted(shards):
            q = self._queues[s]
            while q and len(out) < count:
                out.append(q.popleft())
        return out

    def commit(self, worker: str, c: Commit) -> bool:
        self.dead.extend(c.dead)
        self.dead_letters += len(c.dead)
        self.counts.update(c.counts)
        self._ended[c.shard] = c.ended
        return True

    def all_ended(self) -> bool:
        return all(self._ended)
