from pathlib import Path

import numpy as np
import torch

from otemachi.core import paths, seeding


def test_named_streams_are_reproducible_and_distinct() -> None:
    a = seeding.rng(7, "train").normal(size=5)
    assert np.array_equal(a, seeding.rng(7, "train").normal(size=5))
    assert not np.array_equal(a, seeding.rng(7, "valid").normal(size=5))


def test_torch_seeded_restores_global_state() -> None:
    before = torch.random.get_rng_state()
    with seeding.torch_seeded(3):
        x = torch.rand(3)
    with seeding.torch_seeded(3):
        y = torch.rand(3)
    assert torch.equal(x, y)
    assert torch.equal(before, torch.random.get_rng_state())


def test_home_follows_env(_isolated_home: Path) -> None:
    assert paths.home() == _isolated_home
    assert paths.artifact_dir("markets", "models").is_dir()
