"""markets live latency, in-process: from a bar time's close (its first bar message taken) to its
forecasts published, for 1, 100, 1,000 and 10,000 symbols, beside a plain windowed GRU of the
same size re-run over each symbol's last 64 bars at every bar (batched the same way).

Run: .venv/bin/python benchmarks/markets_latency.py
"""

import platform
import time
from datetime import date

import numpy as np
import torch

from otemachi.core.seeding import torch_seeded
from otemachi.markets import sources, stream
from otemachi.markets.features import build_series
from otemachi.markets.live import LiveState
from otemachi.markets.model import RNNConfig, RNNForecaster

WINDOW = 64
TIMES = 30  # bar times measured, after WINDOW bars of warm-up
SIZES = (1, 100, 1_000, 10_000)


def live(net: RNNForecaster, n: int, columnar: bool) -> tuple[np.ndarray, float]:
    """Per bar time: ms from its first message taken to its forecasts published; and bars per
    second over the whole run. Messages are one per bar, or one per bar time (columnar)."""
    books = sources.synthetic(n, WINDOW + TIMES, seed=1)
    msgs = list(sources.messages(books, columnar=columnar))
    pipeline = stream.Pipeline(LiveState(net, capacity=n), "bench")
    per_time: list[float] = []
    first = None
    start = time.perf_counter()
    for m in msgs:
        if m is stream.FLUSH:
            pipeline.flush()
            per_time.append((time.perf_counter() - first) * 1e3)
            first = None
            continue
        first = first or time.perf_counter()
        pipeline.feed(m)
    seconds = time.perf_counter() - start
    return np.array(per_time[WINDOW:]), n * (WINDOW + TIMES) / seconds


def windowed(net: RNNForecaster, n: int) -> np.ndarray:
    """Per bar time: ms to re-run the network over every symbol's last WINDOW bars of features."""
    books = sources.synthetic(min(n, 100), WINDOW + TIMES, seed=1)
    feats = [build_series(b, net.cfg.horizons).features for b in books.values()]
    x = torch.tensor(np.stack([feats[i % len(feats)] for i in range(n)]), dtype=torch.float32)
    out = []
    with torch.no_grad():
        for t in range(WINDOW, WINDOW + TIMES):
            t0 = time.perf_counter()
            net(x[:, t - WINDOW + 1 : t + 1])
            out.append((time.perf_counter() - t0) * 1e3)
    return np.array(out)


def main() -> None:
    torch.set_num_threads(1)
    with torch_seeded(0):
        net = RNNForecaster(RNNConfig()).eval()  # the default 2x32 GRU
    print(f"machine: {platform.machine()}, 1 torch thread; {date.today()}")
    print(
        "| symbols | messages | live p50 ms | live p99 ms | bars/s | windowed GRU p50 ms | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in SIZES:
        win = np.percentile(windowed(net, n), 50)
        for columnar in (False, True):
            lat, rate = live(net, n, columnar)
            p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
            kind = "one per bar time" if columnar else "one per bar"
            print(f"| {n:,} | {kind} | {p50:.2f} | {p99:.2f} | {rate:,.0f} | {win:.2f} "
                  f"| {win / p50:.1f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
