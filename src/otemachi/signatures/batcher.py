"""Micro-batching for the HTTP service: concurrent verify requests each preprocess their own scan
(a bad scan fails only its own request), then wait while one thread runs the CNN once over every
scan that arrived within a few milliseconds."""

import queue
import threading
import time
from concurrent.futures import Future

import numpy as np
import torch

from otemachi.signatures import model
from otemachi.signatures.base import Base


class Batcher:
    """``embed(scan)`` from any thread; one daemon thread embeds up to ``size`` scans at a time,
    waiting at most ``wait_s`` after the first for others to join."""

    def __init__(self, base: Base, size: int = 32, wait_s: float = 0.002) -> None:
        self.base, self.size, self.wait_s = base, size, wait_s
        self.jobs: queue.Queue[tuple[torch.Tensor, Future[np.ndarray]]] = queue.Queue()
        self.runs = self.scans = 0  # CNN calls and scans embedded (scans / runs: the batch size)
        threading.Thread(target=self._loop, daemon=True, name="signature-batcher").start()

    def embed(self, scan: np.ndarray) -> np.ndarray:
        done: Future[np.ndarray] = Future()
        self.jobs.put((model.prepare([scan], self.base.net.cfg), done))
        return done.result()

    def _loop(self) -> None:
        while True:
            jobs = [self.jobs.get()]
            deadline = time.monotonic() + self.wait_s
            try:
                while len(jobs) < self.size:
                    jobs.append(self.jobs.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                pass
            try:
                embs = model.embed(self.base.net, torch.cat([x for x, _ in jobs]))
            except Exception as exc:  # never leave a request waiting
                for _, done in jobs:
                    done.set_exception(exc)
                continue
            self.runs, self.scans = self.runs + 1, self.scans + len(jobs)
            for (_, done), e in zip(jobs, embs, strict=True):
                done.set_result(e)
