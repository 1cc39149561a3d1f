"""A stream run from a source to its forecasts: in this process over the in-memory bus, or over
Redis with N worker processes (``otemachi markets worker``), which may also run on other hosts."""

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from otemachi.core.errors import OtemachiError
from otemachi.core.progress import console, track
from otemachi.markets.bus import Commit, MemoryBus
from otemachi.markets.display import LiveView
from otemachi.markets.model import RNNForecaster
from otemachi.markets.redis_bus import RedisBus
from otemachi.markets.registry import Follow
from otemachi.markets.worker import Worker


def in_process(
    messages: Iterable[Any],
    total: int | None,
    net: RNNForecaster,
    version: str,
    sink: IO[str] | None,
    follow: Follow | None = None,
    view: bool = False,
) -> tuple[list[float], dict[str, int], int]:
    """Each message onto the in-memory bus and through one worker as it comes: (latencies,
    counts, dead letters). With ``view``, the live terminal view instead of a progress bar.
    Ctrl-C stops taking messages; everything taken is still forecast."""
    bus = MemoryBus()
    latencies: list[float] = []
    with contextlib.ExitStack() as stack:
        live = stack.enter_context(LiveView()) if view else None

        def publish(c: Commit) -> None:
            for batch in c.published:
                latencies.extend(batch.latency_ms.tolist())
                if sink is not None:
                    sink.writelines(json.dumps(d) + "\n" for d in batch.docs())
            if live is not None:
                live.add(c)

        worker = Worker(bus, net, version, on_commit=publish, follow=follow)
        feed = messages if view else track(messages, "streaming messages", total)
        with _interrupts() as stop:
            for message in _until(feed, stop):
                bus.send([message])
                worker.poll()
        if stop.is_set():
            console.print("[yellow]interrupted: forecasting the bars already taken[/yellow]")
        bus.end()
        worker.run()
    return latencies, dict(bus.counts), bus.dead_letters


def over_redis(
    url: str, messages: Iterable[Any], total: int | None, model: Path | None, workers: int,
    shards: int, sink: IO[str] | None,
) -> tuple[list[float], dict[str, int], int]:  # fmt: skip
    """Start a run on Redis, ``workers`` worker processes (on ``model``, or following the
    champion), send every message, wait for the workers to finish: (latencies, counts, dead
    letters)."""
    bus = RedisBus.url(url, shards)
    bus.reset()
    procs = [spawn_worker(url, model) for _ in range(workers)]
    try:
        wait_for_workers(bus, procs)
        with _interrupts() as stop:
            bus.send(_until(track(messages, "sending messages", total), stop))
        if stop.is_set():
            console.print("[yellow]interrupted: the workers finish the bars already sent[/yellow]")
        bus.end()
        for p in procs:
            if p.wait() != 0:
                raise OtemachiError(f"a worker failed (exit {p.returncode}); its error is above")
    finally:
        for p in procs:
            p.kill()
    forecasts = bus.forecasts()
    if sink is not None:
        sink.writelines(json.dumps(f) + "\n" for f in forecasts)
    return [f["latency_ms"] for f in forecasts], bus.counts(), len(bus.dead_letters())


def wait_for_workers(bus: RedisBus, procs: list[subprocess.Popen[bytes]]) -> None:
    """Wait (up to a minute) until as many workers as started here have said they are alive."""
    deadline = time.monotonic() + 60
    with console.status(f"starting {len(procs)} worker(s)"):
        while bus.live_workers() < len(procs):
            if any(p.poll() is not None for p in procs):
                raise OtemachiError("a worker exited at start; its error is above")
            if time.monotonic() > deadline:
                raise OtemachiError("the workers did not start within a minute")
            time.sleep(0.05)


def spawn_worker(url: str, model: Path | None, *extra: str) -> subprocess.Popen[bytes]:
    """An ``otemachi markets worker`` process on this machine."""
    pinned = ["--model", str(model)] if model is not None else []
    args = ["markets", "worker", "--bus", url, *pinned, *extra]
    # its own session: a Ctrl-C in the terminal reaches the producer, which ends the stream
    # cleanly, and not the workers, which finish what was sent
    return subprocess.Popen([sys.executable, "-m", "otemachi.cli", *args], start_new_session=True)


@contextlib.contextmanager
def _interrupts() -> Iterator[threading.Event]:
    """An event set by Ctrl-C (SIGINT) while inside, so that a stream stops between two
    messages rather than in the middle of one."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _until(messages: Iterable[Any], stop: threading.Event) -> Iterator[Any]:
    """The messages until ``stop`` is set (or the source itself is interrupted)."""
    it = iter(messages)
    while not stop.is_set():
        try:
            yield next(it)
        except StopIteration:
            return
        except KeyboardInterrupt:
            stop.set()
