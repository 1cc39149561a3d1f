"""Explicit randomness: generators derived from a seed, never global state."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


def derive_seed(seed: int, *names: str) -> int:
    """Derive an independent 63-bit seed for a named stream (e.g. ``derive_seed(7, "valid")``)."""
    text = ":".join([str(seed), *names]).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") >> 1


def rng(seed: int, *names: str) -> np.random.Generator:
    """A NumPy generator for the named stream of ``seed``."""
    return np.random.default_rng(derive_seed(seed, *names) if names else seed)


@contextmanager
def torch_seeded(seed: int) -> Iterator[None]:
    """Run a block with torch's RNG seeded, restoring the caller's RNG state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
