"""The bus on Redis Streams: one stream per shard read through one consumer group, a lease per
shard so that one worker at a time owns it, per-symbol state snapshots in a hash per shard, and
each bar time committed in one MULTI/EXEC that also checks the lease (a worker that lost its
shard cannot commit). Run Redis with ``appendonly yes`` and ``appendfsync always`` so that a
restart loses nothing.

A worker renews its leases every third of a lease, also while it works through a batch. One that
stalls for longer than a lease (3 s) between renewing and reading could take entries of a shard
that has meanwhile passed to another worker; they stay in its pending list and are not
forecast. This is not handled.

Keys, under a namespace (``otemachi:markets`` by default): ``config`` (shards), ``bars:{s}``
(stream), ``lease:{s}``, ``state:{s}`` (symbol -> bytes), ``meta:{s}`` (last committed entry, model
version), ``ended`` (shard -> 1), ``forecasts:{s}`` (stream), ``counts`` (bars, repaired,
gaps), ``workers`` (live workers by lease expiry) and ``dead`` (stream: the message and the
reason it was refused). A shard's ``forecasts`` stream holds one entry per bar time: the
``Batch`` in binary columns (``Batch.to_fields``); it and ``dead`` keep about the newest
``KEEP`` entries.
"""

import functools
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import redis

from otemachi.core.errors import InvalidInput
from otemachi.markets.bus import (
    BusDown,
    Commit,
    Entry,
    Kind,
    Snapshot,
    decode,
    encode,
    entries,
    shard_of,
)  # fmt: skip
from otemachi.markets.checks import are_symbols, is_bar_time
from otemachi.markets.stream import Batch

GROUP = "forecasters"
KINDS: dict[bytes, Kind] = {b"flush": "flush", b"end": "end", b"bars": "bars"}  # else a bar
LEASE_MS = 3000
KEEP = 100_000  # entries kept per forecast stream and in the dead letters (approximately)
T = TypeVar("T")

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Write each symbol's snapshot record (all of one width) from one blob: packing one argument is
# much cheaper for the client than one per symbol.
_SNAPSHOT = """
local width, i = tonumber(ARGV[1]), 0
for symbol in string.gmatch(ARGV[2], "[^\\n]+") do
  redis.call('HSET', KEYS[1], symbol, string.sub(ARGV[3], i * width + 1, (i + 1) * width))
  i = i + 1
end
return i
"""
# Hold a lease: 1 if this worker held it and renewed it, 2 if it was free and is now this
# worker's, 0 if another worker holds it.
_HOLD = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2
"""


def connect(url: str) -> Any:
    """A client for ``redis://HOST:PORT[/DB]``; a wrong URL is one line."""
    parsed = urlparse(url)
    if parsed.scheme != "redis" or not parsed.hostname:
        raise InvalidInput(f"--bus must be memory or redis://HOST:PORT, got {url!r}")
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


_DOWN = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


def _lost(e: redis.WatchError) -> Exception | None:
    """The lost connection a WatchError stands for (redis-py's word for one lost while watching
    a key), or None when a watched key really changed."""
    cause = e.__cause__ or e.__context__
    changed = str(e).startswith("Watched variable changed")
    return cause if isinstance(cause, _DOWN) and not changed else None


def _guarded(call: Callable[[], T]) -> T:
    """Run a Redis call; a lost connection becomes BusDown."""
    try:
        return call()
    except _DOWN as e:
        raise BusDown(f"Redis is not reachable: {e}") from e
    except redis.WatchError as e:
        if (cause := _lost(e)) is None:
            raise
        raise BusDown(f"Redis is not reachable: {cause}") from e


class RedisBus:
    def __init__(
        self, client: Any, shards: int | None = None, namespace: str = "otemachi:markets",
        lease_ms: int = LEASE_MS, keep: int = KEEP,
    ) -> None:  # fmt: skip
        self.r, self.ns, self.lease_ms, self.keep = client, namespace, lease_ms, keep
        self.renew_s = lease_ms / 3e3
        stored = _guarded(lambda: self.r.hget(self._k("config"), "shards"))
        if shards is None and stored is None:
            raise InvalidInput(f"no stream has been started under {namespace!r} on this Redis")
        self.shards = int(stored) if shards is None else shards
        self._hold = self.r.register_script(_HOLD)
        self._release = self.r.register_script(_RELEASE)
        self._snapshot = self.r.register_script(_SNAPSHOT)

    @classmethod
    def url(cls, url: str, shards: int | None = None, **kw: Any) -> "RedisBus":
        return cls(connect(url), shards, **kw)

    def _k(self, *parts: object) -> str:
        return ":".join([self.ns, *map(str, parts)])

    def reset(self) -> None:
        """Start a new run: remove the namespace's streams and state and create the shards.
        Refused while a worker holds a lease (a run is going on)."""

        def go() -> None:
            if any(self.r.exists(self._k("lease", s)) for s in range(self.shards)):
                raise InvalidInput(f"a stream is running on this Redis under {self.ns!r}")
            keys = list(self.r.scan_iter(match=self._k("*"), count=1000))
            if keys:
                self.r.delete(*keys)
            self.r.hset(self._k("config"), "shards", self.shards)
            for s in range(self.shards):
                self.r.xgroup_create(self._k("bars", s), GROUP, id="0", mkstream=True)

        _guarded(go)

    # producer
    def send(self, messages: Iterable[Any]) -> int:
        """Send bar messages, sent when the source flushes: a bar time in columns as one binary
        ``cols`` entry per shard, other messages of a shard together as one ``bars`` entry (a
        JSON list)."""
        n = 0
        pipe = self.r.pipeline(transaction=False)
        held: dict[int, list[Any]] = {}

        def put_held() -> None:
            for shard, bars in held.items():
                group: list[Any] = []
                for message in bars:
                    fields = _columns(message)
                    if fields is None:
                        group.append(message)
                        continue
                    if group:
                        self._add(pipe, shard, "bars", encode(group))
                        group = []
                    pipe.xadd(self._k("bars", shard), {**fields, "t": time.time_ns()})
                if group:
                    self._add(pipe, shard, "bars", encode(group))
            held.clear()

        for shard, kind, message in entries(messages, self.shards):
            if shard is not None:
                held.setdefault(shard, []).append(message)
                n += 1
                continue
            put_held()
            self._add(pipe, None, kind, "")
            _guarded(pipe.execute)
        put_held()
        _guarded(pipe.execute)
        return n

    def end(self) -> None:
        pipe = self.r.pipeline(transaction=False)
        self._add(pipe, None, "end", "")
        _guarded(pipe.execute)

    def _add(self, pipe: Any, shard: int | None, kind: Kind, payload: str) -> None:
        fields = {"k": kind, "m": payload, "t": time.time_ns()}
        for s in range(self.shards) if shard is None else (shard,):
            pipe.xadd(self._k("bars", s), fields)

    # worker
    def acquire(self, worker: str, owned: set[int]) -> tuple[list[int], list[int], int]:
        """Say this worker is alive, renew the leases of ``owned`` and take free, unfinished
        shards up to its share: (taken, lost, share)."""

        def hold(s: int) -> int:
            return int(self._hold(keys=[self._k("lease", s)], args=[worker, self.lease_ms]))

        def go() -> tuple[list[int], list[int], int]:
            seconds, micros = self.r.time()
            now = seconds * 1000 + micros // 1000
            alive = self._k("workers")
            self.r.zadd(alive, {worker: now + self.lease_ms})
            self.r.zremrangebyscore(alive, "-inf", now)
            share = -(-self.shards // max(self.r.zcard(alive), 1))
            held = {s: hold(s) for s in owned}
            # 2 on a shard this worker thought it held: the lease ran out (another worker may
            # have forecast it meanwhile) and was taken again: start it afresh from its snapshot
            lost = [s for s, code in held.items() if code != 1]
            taken = [s for s, code in held.items() if code == 2]
            ended = self.r.hmget(self._k("ended"), list(range(self.shards)))
            for s in range(self.shards):
                if len(owned) - len(lost) + len(taken) >= share:
                    break
                if s not in owned and not ended[s] and hold(s):
                    taken.append(s)
            return taken, lost, share

        return _guarded(go)

    def release(self, worker: str, shard: int) -> None:
        """Give up a shard that has nothing uncommitted."""
        _guarded(lambda: self._release(keys=[self._k("lease", shard)], args=[worker]))

    def snapshot(self, shard: int) -> Snapshot:
        records, meta = _guarded(
            lambda: (
                self.r.hgetall(self._k("state", shard)),
                self.r.hgetall(self._k("meta", shard)),
            )
        )
        version = meta.get(b"model_version")
        return Snapshot({k.decode(): v for k, v in records.items()},
                        version.decode() if version else None)  # fmt: skip

    def reclaim(self, worker: str, shard: int) -> list[Entry]:
        """Every entry of the shard taken but not committed by an earlier owner (or by this
        worker before a reconnect), in stream order, now this worker's."""
        out: list[Entry] = []
        key = self._k("bars", shard)

        def claim(start: str | bytes) -> Callable[[], list[Any]]:
            return lambda: self.r.xautoclaim(key, GROUP, worker, 0, start_id=start, count=1000)

        start: str | bytes = "0-0"
        while True:
            start, got, *_ = _guarded(claim(start))
            out += [self._entry(shard, i, f) for i, f in got]
            if start in (b"0-0", "0-0"):
                return out

    def read(self, worker: str, shards: set[int], count: int, block_ms: int) -> list[Entry]:
        if not shards:
            time.sleep(block_ms / 1e3)
            return []
        streams = {self._k("bars", s): ">" for s in sorted(shards)}
        got = _guarded(
            lambda: self.r.xreadgroup(GROUP, worker, streams, count=count, block=block_ms or None)
        )
        by_key = {self._k("bars", s): s for s in shards}
        return [
            self._entry(by_key[key.decode()], i, f) for key, items in got or [] for i, f in items
        ]

    def _entry(self, shard: int, entry_id: bytes, fields: dict[bytes, bytes]) -> Entry:
        """An entry as sent; anything else written to the stream is a malformed bar."""
        kind = KINDS.get(fields.get(b"k", b""), "bar")
        sent = fields.get(b"t", b"")
        if fields.get(b"k") == b"cols":
            message = _from_columns(fields)
        elif kind in ("bar", "bars"):
            message = decode(fields.get(b"m", b"").decode(errors="replace"))
        else:
            message = None
        stamp = int(sent) if sent.isdigit() and len(sent) <= 19 else 0
        return Entry(shard, entry_id.decode(), kind, message, stamp)

    def commit(self, worker: str, c: Commit) -> bool:
        """Write the commit if this worker still holds the shard; False if it does not."""
        lease = self._k("lease", c.shard)

        def go() -> bool:
            with self.r.pipeline() as pipe:
                pipe.watch(lease)
                if pipe.get(lease) != worker.encode():
                    return False
                pipe.multi()
                for batch in c.published:
                    fields = batch.to_fields()
                    pipe.xadd(self._k("forecasts", c.shard), fields, maxlen=self.keep)
                for d in c.dead:
                    dead = {"reason": d.reason, "message": encode(d.message)}
                    pipe.xadd(self._k("dead"), dead, maxlen=self.keep)
                if c.records:
                    width = len(next(iter(c.records.values())))
                    args = [width, "\n".join(c.records), b"".join(c.records.values())]
                    self._snapshot(keys=[self._k("state", c.shard)], args=args, client=pipe)
                meta = {"last_id": c.ids[-1], "model_version": c.model_version}
                pipe.hset(self._k("meta", c.shard), mapping=meta)
                for name, n in c.counts.items():
                    pipe.hincrby(self._k("counts"), name, n)
                pipe.xack(self._k("bars", c.shard), GROUP, *c.ids)
                if c.ended:
                    pipe.hset(self._k("ended"), c.shard, 1)
                if c.ended or c.release:
                    pipe.delete(lease)
                try:
                    pipe.execute()
                except redis.WatchError as e:
                    if _lost(e) is not None:
                        raise
                    return False  # the lease changed hands since it was read
                return True

        return _guarded(go)

    def live_workers(self) -> int:
        """Workers whose last word is younger than a lease."""
        seconds, micros = _guarded(self.r.time)
        now = seconds * 1000 + micros // 1000
        return int(_guarded(lambda: self.r.zcount(self._k("workers"), now, "+inf")))

    def all_ended(self) -> bool:
        return _guarded(lambda: self.r.hlen(self._k("ended"))) == self.shards

    # readers
    def batches(self) -> list[Batch]:
        """Every published batch still kept, by bar time (then shard)."""
        got = [(s, self._range(self._k("forecasts", s))) for s in range(self.shards)]
        out = [(b.time, s, n, b) for s, items in got for n, b in enumerate(items)]
        return [b for *_, b in sorted(out, key=lambda t: t[:3])]

    def _range(self, key: str) -> list[Batch]:
        return [Batch.from_fields(f) for _, f in _guarded(lambda: self.r.xrange(key))]

    def follow(self, last: dict[int, str], block_ms: int) -> list[Batch]:
        """Batches published after the ids in ``last`` (shard -> stream id, updated in place),
        waiting up to ``block_ms`` for one. An empty ``last`` is set to now (and nothing is
        read), so that nothing published between two calls is missed."""
        keys = {self._k("forecasts", s): s for s in range(self.shards)}
        if not last:
            for key, s in keys.items():
                newest = _guarded(functools.partial(self.r.xrevrange, key, count=1))
                last[s] = newest[0][0].decode() if newest else "0-0"
            return []
        streams = {k: last[s] for k, s in keys.items()}
        got = _guarded(lambda: self.r.xread(streams, block=block_ms or None, count=100))
        out = []
        for key, items in got or []:
            last[keys[key.decode()]] = items[-1][0].decode()
            out += [Batch.from_fields(f) for _, f in items]
        return out

    def forecasts(self) -> list[dict[str, Any]]:
        """Every published forecast still kept, by bar time."""
        return [doc for b in self.batches() for doc in b.docs()]

    def dead_letters(self) -> list[tuple[str, str]]:
        got = _guarded(lambda: self.r.xrange(self._k("dead")))
        return [(f[b"reason"].decode(), f[b"message"].decode()) for _, f in got]

    def counts(self) -> dict[str, int]:
        got = _guarded(lambda: self.r.hgetall(self._k("counts")))
        return {k.decode(): int(v) for k, v in got.items()}

    def latest(self, symbol: str, search: int = 1000) -> dict[str, Any] | None:
        """The newest forecast of ``symbol`` among the last ``search`` batches of its shard,
        or None. Reads only the symbol lists until it finds it."""
        key, top = self._k("forecasts", shard_of({"symbol": symbol}, self.shards)), "+"
        for _ in range(0, search, 50):
            ids = _guarded(functools.partial(self.r.xrevrange, key, max=top, count=50))
            for _, fields in ids:
                symbols = fields[b"symbols"].decode().split("\n")
                if symbol in symbols:
                    return Batch.from_fields(fields).docs()[symbols.index(symbol)]
            if len(ids) < 50:
                return None
            top = "(" + ids[-1][0].decode()
        return None


def _columns(message: Any) -> dict[str, bytes | str] | None:
    """A well-formed bar time in columns as binary fields, or None (sent as JSON instead)."""
    if not is_bar_time(message):
        return None
    symbols, table, when = message.get("symbols"), message.get("ohlcv"), message.get("time")
    if not are_symbols(symbols):
        return None
    if not (isinstance(table, np.ndarray) and table.shape == (len(symbols), 5)):
        return None
    if not isinstance(when, pd.Timestamp | str):
        return None
    return {"k": "cols", "time": when.isoformat() if isinstance(when, pd.Timestamp) else when,
            "symbols": "\n".join(symbols), "ohlcv": table.astype("<f8").tobytes()}  # fmt: skip


def _from_columns(fields: dict[bytes, bytes]) -> Any:
    """``_columns`` read back (a damaged entry becomes a message the pipeline refuses)."""
    try:
        symbols = fields[b"symbols"].decode().split("\n")
        table = np.frombuffer(fields[b"ohlcv"], dtype="<f8").reshape(len(symbols), 5)
        return {"time": fields[b"time"].decode(), "symbols": symbols, "ohlcv": table}
    except (KeyError, ValueError, UnicodeDecodeError) as e:
        return f"damaged bar-time entry ({e})"
