"""The live terminal view of a stream: bars and forecasts per second, latency percentiles, dead
letters, and the latest forecast of a few symbols, redrawn a few times a second."""

import time
from collections import deque
from typing import Any

import numpy as np
from rich.console import Group
from rich.live import Live
from rich.table import Table

from otemachi.core.progress import console
from otemachi.markets.bus import Commit

SHOWN = 6  # symbols whose latest forecast is shown
REDRAW_S = 0.25


class LiveView:
    """Feed it every commit (``add``); it redraws itself at most every ``REDRAW_S``."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.bars = self.dead = 0
        self.latency: deque[float] = deque(maxlen=10_000)  # the newest forecasts'
        self.latest: dict[str, dict[str, Any]] = {}
        self._live = Live(self.render(), console=console, auto_refresh=False)
        self._drawn = 0.0

    def __enter__(self) -> "LiveView":
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.update(self.render(), refresh=True)
        self._live.__exit__(None, None, None)
        console.line()

    def add(self, c: Commit) -> None:
        self.dead += len(c.dead)
        for batch in c.published:
            self.bars += len(batch)
            self.latency.extend(batch.latency_ms.tolist())
            for s in batch.symbols[: SHOWN - len(self.latest)]:
                self.latest.setdefault(s, {})  # the first symbols seen are the ones shown
            rows = [i for i, s in enumerate(batch.symbols) if s in self.latest]
            if rows:
                docs = batch.docs()
                for i in rows:
                    self.latest[batch.symbols[i]] = docs[i]
        if time.perf_counter() - self._drawn >= REDRAW_S:
            self._drawn = time.perf_counter()
            self._live.update(self.render(), refresh=True)

    def render(self) -> Group:
        seconds = max(time.perf_counter() - self.start, 1e-9)
        lat = np.asarray(self.latency) if self.latency else np.zeros(1)
        stats = Table.grid(padding=(0, 3))
        stats.add_row(
            f"bars/s [bold]{self.bars / seconds:,.0f}[/]",
            f"forecasts [bold]{self.bars:,}[/]",
            f"latency p50 [bold]{np.percentile(lat, 50):.2f}[/] ms "
            f"p99 [bold]{np.percentile(lat, 99):.2f}[/] ms",
            f"dead letters [bold]{self.dead}[/]",
        )
        table = Table("symbol", "bar time", "P(up)", "median", "80% interval", "model",
                      caption="next bar: log return quantiles")  # fmt: skip
        for s, d in sorted(self.latest.items()):
            if not d:
                continue
            q = d["ret_q"][0]
            table.add_row(s, d["time"].replace("T00:00:00", ""), f"{d['p_up'][0]:.3f}",
                          f"{q[len(q) // 2]:+.4f}", f"{q[0]:+.4f} .. {q[-1]:+.4f}",
                          d["model_version"][:8])  # fmt: skip
        return Group(stats, table)
