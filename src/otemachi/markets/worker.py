"""A forecasting worker on a bus: it takes shards, advances each shard's symbols through its own
pipeline, and commits each bar time (forecasts, dead letters, state snapshot, acknowledgements)
in one step. It resumes a shard from its last snapshot, so a worker killed at any point loses
nothing and no bar is forecast twice."""

import functools
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from otemachi.core.errors import OtemachiError
from otemachi.markets.bus import Bus, BusDown, Commit, Entry
from otemachi.markets.live import LiveState
from otemachi.markets.model import RNNForecaster
from otemachi.markets.stream import Batch, Pipeline

log = logging.getLogger(__name__)
FOLLOW_S = 1.0  # how often a following worker looks for a new champion


@dataclass
class ShardRun:
    """One owned shard: its pipeline and what it produced since its last commit."""

    pipeline: Pipeline
    ids: list[str] = field(default_factory=list)
    published: list[tuple[Batch, int]] = field(default_factory=list)  # and when its bar time
    sent_ns: int = 0  # when the first bar of the bar time being taken was sent (ns)
    full: bool = False  # snapshot every symbol at the next commit (the network changed)
    counted: dict[str, int] = field(default_factory=dict)  # counters at the last commit

    def counts(self) -> dict[str, int]:
        """Bars, repairs and gaps since the last commit."""
        c = self.pipeline.counters
        now = {"bars": c.bars, "repaired": c.repaired, "gaps": c.gaps}
        delta = {k: v - self.counted.get(k, 0) for k, v in now.items()}
        self.counted = now
        return delta

    def add(self, batches: list[Batch]) -> None:
        if batches:
            self.published += [(b, self.sent_ns) for b in batches]
            self.sent_ns = 0


class Worker:
    """Forecasts the bars of the shards it holds; ``poll`` does one round, ``run`` until the
    source has ended."""

    def __init__(
        self,
        bus: Bus,
        net: RNNForecaster,
        version: str,
        name: str | None = None,
        batch: int = 2000,
        on_commit: Callable[[Commit], None] | None = None,
        follow: Callable[[str], tuple[RNNForecaster, str] | None] | None = None,
    ) -> None:
        self.bus, self.net, self.version, self.batch = bus, net, version, batch
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.runs: dict[int, ShardRun] = {}
        self.on_commit = on_commit
        self.follow = follow  # given the version in use, a new network and version to swap to
        self._follow_at = 0.0
        self._renew_at = 0.0
        self._renewing = False
        self.share = bus.shards  # how many shards this worker may hold

    def run(self, block_ms: int = 100) -> None:
        """Poll until every shard has ended; reconnect (and resume from the snapshots) when the
        bus goes down."""
        delay = 0.05
        while True:
            try:
                if not self.poll(block_ms) and self.bus.all_ended():
                    return
                delay = 0.05
            except BusDown as e:
                log.warning("bus down (%s); resuming from the snapshots when it is back", e)
                self.runs.clear()  # uncommitted work is replayed from the snapshots
                self._renew_at = 0.0
                time.sleep(delay)
                delay = min(2 * delay, 2.0)

    def poll(self, block_ms: int = 0) -> int:
        """Take free shards, read and process one batch of entries; the number read."""
        if time.monotonic() >= self._renew_at:
            self._renew()
        if self.follow is not None and time.monotonic() >= self._follow_at:
            self._follow_at = time.monotonic() + FOLLOW_S
            try:
                new = self.follow(self.version)
            except OtemachiError as e:
                log.warning("cannot load the new champion, keeping %s: %s", self.version, e)
                new = None
            if new is not None:
                log.info("swapping to model %s", new[1])
                self.swap(*new)
        got = self.bus.read(self.name, set(self.runs), self.batch, block_ms)
        self._process(got)
        return len(got)

    def _process(self, entries: list[Entry]) -> None:
        for entry in entries:
            self._handle(entry)
            if time.monotonic() >= self._renew_at:  # a long batch: keep the leases
                self._renew()

    def swap(self, net: RNNForecaster, version: str) -> None:
        """Forecast every shard with ``net`` from its next bar time on."""
        for run in self.runs.values():
            run.pipeline.swap(net, version)
            run.full = True
        self.net, self.version = net, version

    def _renew(self) -> None:
        """Renew the leases, give up lost shards and those beyond this worker's share that have
        nothing uncommitted, and take free ones (a lost shard taken again starts afresh from
        its snapshot)."""
        if self._renewing:  # taking a shard replays entries, which may ask to renew
            return
        self._renewing = True
        try:
            taken, lost, self.share = self.bus.acquire(self.name, set(self.runs))
            self._renew_at = time.monotonic() + self.bus.renew_s
            for shard in lost:
                log.warning("lost the lease of shard %d; giving it up", shard)
                del self.runs[shard]
            for shard in taken:
                self._take(shard)
            idle = [s for s, run in self.runs.items() if not run.ids]
            for shard in idle[: max(len(self.runs) - self.share, 0)]:
                self.bus.release(self.name, shard)  # leave it to a worker with fewer
                del self.runs[shard]
        finally:
            self._renewing = False

    def _take(self, shard: int) -> None:
        """Start a shard from its snapshot, and replay what its last owner took but did not
        commit."""
        snap = self.bus.snapshot(shard)
        same = snap.model_version in (None, self.version)
        if not same:
            log.info("shard %d was forecast by %s; warming %s on its recent bars", shard,
                     snap.model_version, self.version)  # fmt: skip
        pipeline = Pipeline(LiveState(self.net, capacity=max(len(snap.records), 64)), self.version)
        pipeline.restore(snap.records, same_model=same)
        pipeline.counters.unsent = []
        self.runs[shard] = ShardRun(pipeline, full=not same)
        self._process(self.bus.reclaim(self.name, shard))

    def _handle(self, e: Entry) -> None:
        run = self.runs.get(e.shard)
        if run is None:  # a shard given up earlier in this batch
            return
        run.ids.append(e.id)
        if e.kind in ("bar", "bars"):
            many = e.kind == "bars" and isinstance(e.message, list)
            for message in e.message if many else [e.message]:
                run.add(self._guarded(run, message, functools.partial(run.pipeline.feed, message)))
                if not run.sent_ns and run.pipeline.pending:
                    run.sent_ns = e.sent_ns
            return
        run.add(self._guarded(run, e.kind, run.pipeline.flush))
        self._commit(e.shard, run, ended=e.kind == "end")

    @staticmethod
    def _guarded(run: ShardRun, message: Any, step: Callable[[], list[Batch]]) -> list[Batch]:
        """A pipeline step; a failure becomes a dead letter, never a dead worker."""
        try:
            return step()
        except Exception as e:  # a bug must not stop the service: log it, keep serving
            log.exception("a message could not be processed")
            run.pipeline.counters.refuse(message, f"internal error: {type(e).__name__}: {e}")
            return []

    def _commit(self, shard: int, run: ShardRun, ended: bool) -> None:
        now = time.time_ns()
        published = [b.measured((now - (sent or now)) / 1e6) for b, sent in run.published]
        advanced = {s for b in published for s in b.symbols}
        symbols = sorted(run.pipeline.state.slots if run.full else advanced)
        dead = run.pipeline.counters.unsent or []
        records = run.pipeline.export(symbols)
        release = len(self.runs) > self.share
        commit = Commit(
            shard, run.ids, published, list(dead), records, self.version, ended, run.counts(),
            release,
        )  # fmt: skip
        if not self.bus.commit(self.name, commit):
            log.warning("shard %d was taken over by another worker; giving it up", shard)
            del self.runs[shard]
            return
        run.ids, run.published, run.full = [], [], False
        dead.clear()
        if ended or release:
            del self.runs[shard]
        if self.on_commit is not None:
            self.on_commit(commit)
