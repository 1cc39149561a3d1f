"""markets live latency, in-process: from a bar time's close (its first bar message taken) to its
forecasts published, for 1, 100, 1,000 and 10,000 symbols. Beside it, in the same run: a plain
windowed GRU of the same size re-run over each symbol's last 64 bars at every bar (batched the
same way), and darts' RNNModel (a GRU of the same size, 64-bar input chunks) appending each
symbol's new value and predicting n=1 for all symbols in one call.

Run: .venv/bin/python benchmarks/markets_latency.py (darts comes with `pip install -e '.[bench]'`)
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
DARTS_TIMES = {1: 10, 100: 10, 1_000: 5, 10_000: 2}  # darts is slow: fewer bar times


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


def darts_model(n: int) -> tuple[np.ndarray, str]:
    """Per bar time: ms for darts to append every symbol's new close and predict n=1."""
    try:
        import logging
        import warnings

        from darts import TimeSeries
        from darts.models import RNNModel
    except ImportError:
        return np.array([np.nan]), "not installed"
    warnings.filterwarnings("ignore")
    logging.getLogger("darts").setLevel(logging.ERROR)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    times = DARTS_TIMES[n]
    books = sources.synthetic(min(n, 100), 2 * WINDOW + times, seed=1)
    logs = [np.log(b["close"].to_numpy(np.float32))[:, None] for b in books.values()]
    index = next(iter(books.values())).index
    start = [log[: 2 * WINDOW] for log in logs]
    series = [TimeSeries.from_times_and_values(index[: 2 * WINDOW], start[i % len(logs)])
              for i in range(n)]  # fmt: skip
    trainer = {"accelerator": "cpu", "enable_progress_bar": False, "enable_model_summary": False,
               "logger": False}  # fmt: skip
    model = RNNModel(model="GRU", input_chunk_length=WINDOW, training_length=WINDOW + 1,
                     hidden_dim=32, n_rnn_layers=2, n_epochs=1,
                     pl_trainer_kwargs=trainer)  # fmt: skip
    model.fit(series[: min(n, 4)], verbose=False)
    out = []
    for t in range(2 * WINDOW, 2 * WINDOW + times):
        t0 = time.perf_counter()
        series = [s.append_values(logs[i % len(logs)][t : t + 1]) for i, s in enumerate(series)]
        model.predict(n=1, series=series, verbose=False)
        out.append((time.perf_counter() - t0) * 1e3)
    return np.array(out), f"{times} bar times"


def main() -> None:
    torch.set_num_threads(1)
    with torch_seeded(0):
        net = RNNForecaster(RNNConfig()).eval()  # the default 2x32 GRU
    print(f"machine: {platform.machine()}, 1 torch thread; {date.today()}")
    print("| symbols | messages | live p50 ms | live p99 ms | bars/s | windowed GRU p50 ms "
          "| ratio | darts p50 ms | ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for n in SIZES:
        win = np.percentile(windowed(net, n), 50)
        darts, note = darts_model(n)
        dp50 = np.percentile(darts, 50)
        for columnar in (False, True):
            lat, rate = live(net, n, columnar)
            p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
            kind = "one per bar time" if columnar else "one per bar"
            print(f"| {n:,} | {kind} | {p50:.2f} | {p99:.2f} | {rate:,.0f} | {win:.2f} "
                  f"| {win / p50:.1f}x | {dp50:,.1f} ({note}) | {dp50 / p50:,.0f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
