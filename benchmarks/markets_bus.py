"""markets over the bus: a replay of 1,000 synthetic symbols (one message per bar time) through
the in-process bus and through Redis Streams with 1 and 2 worker processes, on a redis-server
started here. Two runs each: paced at 5 bar times per second for latency (bar time sent to its
forecasts committed, p50/p99), and as fast as possible for sustained bars per second.

Run: .venv/bin/python benchmarks/markets_bus.py
"""

import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.services

from otemachi.core.seeding import torch_seeded
from otemachi.markets import runner, sources, train
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.markets.redis_bus import RedisBus
from tests.services import RedisServer

SYMBOLS = 1_000
PACED = (40, 5.0)  # bar times, bar times per second
FLAT_OUT = 150  # bar times
SHARDS_PER_WORKER = 2


def run(bus: str, net: RNNForecaster, path: Path, bars: int, speed: float | None,
        workers: int) -> tuple[np.ndarray, float]:  # fmt: skip
    """Latencies (ms) of every forecast and bars per second from first send to last commit
    (the workers started and ready before)."""
    books = sources.synthetic(SYMBOLS, bars, seed=1)
    msgs = sources.messages(books, speed, columnar=True)
    total = sources.count(books, columnar=True)
    if bus == "memory":
        start = time.perf_counter()
        lat, counts, _ = runner.in_process(msgs, total, net, "bench", None)
        return np.array(lat), counts["bars"] / (time.perf_counter() - start)
    redis_bus = RedisBus.url(bus, shards=SHARDS_PER_WORKER * workers)
    redis_bus.reset()
    procs = [runner.spawn_worker(bus, path) for _ in range(workers)]
    try:
        runner.wait_for_workers(redis_bus, procs)
        start = time.perf_counter()
        redis_bus.send(msgs)
        redis_bus.end()
        for p in procs:
            p.wait()
        seconds = time.perf_counter() - start
    finally:
        for p in procs:
            p.kill()
    lat = [f["latency_ms"] for f in redis_bus.forecasts()]
    return np.array(lat), redis_bus.counts()["bars"] / seconds


def main() -> None:
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"  # the worker processes too
    home = tempfile.mkdtemp()
    os.environ["OTEMACHI_HOME"] = home
    with torch_seeded(0):
        net = RNNForecaster(RNNConfig()).eval()  # the default 2x32 GRU
    model = train.RNNModel(net.cfg, train.TrainConfig())
    model.net = net
    path = train.save_model(model, "bench", "none", {})
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, 1 torch thread per "
          f"process; {date.today()}; {SYMBOLS:,} symbols")  # fmt: skip
    print("| bus | workers | p50 ms | p99 ms (paced) | bars/s (flat out) |")
    print("|---|---|---|---|---|")
    for bus, workers in [("memory", 1), ("redis", 1), ("redis", 2)]:
        # A fresh redis-server for each: the append-only file of an earlier run (hundreds of MB
        # of snapshots) would be rewritten at a random moment of this one.
        server = None if bus == "memory" else RedisServer(Path(tempfile.mkdtemp(dir=home)))
        try:
            url = server.url if server else bus
            lat, _ = run(url, net, path, PACED[0], PACED[1], workers)
            _, rate = run(url, net, path, FLAT_OUT, None, workers)
        finally:
            if server:
                server.stop()
        name = "in-process" if bus == "memory" else "Redis Streams"
        p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
        print(f"| {name} | {workers} | {p50:.2f} | {p99:.2f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
