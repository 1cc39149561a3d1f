"""markets speed: feature paths side by side, step-mode latency, and the S&P 500 backtest per model.

Run: .venv/bin/python benchmarks/markets_speed.py [--quick]
"""

import platform
import sys
import time
from datetime import date

import torch

from otemachi.markets import data, evaluate, features
from otemachi.markets.model import RNNConfig, RNNForecaster


def timed(fn, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main(quick: bool) -> None:
    bars, _ = data.load("sp500")
    n = len(bars)
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {torch.get_num_threads()} torch threads; {date.today()}")
    offline = timed(lambda: features.compute(bars), repeat=20)

    def online() -> None:
        f = features.OnlineFeatures()
        for ts, r in zip(bars.index, bars.itertuples(index=False), strict=True):
            f.update(ts, r.open, r.high, r.low, r.close, r.volume)

    per_bar = timed(online) / n
    print(f"features offline (vectorised): {n / offline:,.0f} bars/s")
    print(f"features online (bar by bar): {1 / per_bar:,.0f} bars/s ({per_bar * 1e6:.1f} us)")
    print(f"  offline is {per_bar * n / offline:.0f}x the online throughput")
    net = RNNForecaster(RNNConfig()).eval()
    x = torch.randn(1, net.cfg.n_features)
    with torch.no_grad():
        state = None
        step = timed(lambda: net.step(x, state), repeat=500)
    print(f"GRU step mode: {step * 1e3:.3f} ms per bar per asset")
    if quick:
        return
    total = 0.0
    print("S&P 500 walk-forward backtest, horizons 1,5,20, per model:")
    for model in ("rw", "ewma", "garch", "gbm", "gru"):
        seconds = timed(lambda m=model: evaluate.run(bars, [m], (1, 5, 20)))
        total += seconds
        print(f"  {model:6s} {seconds:7.1f} s")
    print(f"  total  {total:7.1f} s (rw is run inside each model's backtest as the reference)")


if __name__ == "__main__":
    main("--quick" in sys.argv)
