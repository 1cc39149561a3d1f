"""The base's metric loss on hand-made embeddings, and the batches it needs."""

import numpy as np
import pytest
import torch

from otemachi.signatures.train import TrainConfig, _by_writer, metric_loss


def test_metric_loss_pushes_a_writers_forgeries_beyond_their_genuine_signatures() -> None:
    writer = torch.tensor([0, 0, 0, 1, 1])
    forged = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0])
    g0, g0b = [1.0, 0.0, 0.0], [0.99, 0.14, 0.0]  # writer 0's two genuine: squared distance 0.02
    g1, g1b = [0.0, 0.0, 1.0], [0.0, 0.14, 0.99]
    close = torch.tensor([g0, g0b, [0.98, 0.0, 0.2], g1, g1b])  # the forgery at 0.04 from g0
    far = torch.tensor([g0, g0b, [0.0, 1.0, 0.0], g1, g1b])  # the forgery 2.0 away
    assert metric_loss(close, writer, forged, 0.2).item() > 0.05  # writer 0: about 0.17 each
    assert metric_loss(far, writer, forged, 0.2).item() == pytest.approx(0.0)
    # another writer's genuine signature is a negative too
    crowded = torch.tensor([g0, g0b, [0.0, 1.0, 0.0], [0.99, 0.0, 0.14], g1])
    assert metric_loss(crowded, writer, forged, 0.2).item() > 0.0
    # no genuine pair in the batch: nothing to learn, and no NaN
    alone = metric_loss(far[[0, 2, 3]], writer[[0, 2, 3]], forged[[0, 2, 3]], 0.2)
    assert alone.item() == 0.0


def test_metric_batches_cover_every_image_once_in_runs_of_one_writer() -> None:
    writer = torch.tensor(np.repeat(np.arange(10), 18))
    tc = TrainConfig(batch=32, per_writer=8)
    batches = _by_writer(writer, tc, np.random.default_rng(0))
    seen = torch.cat(batches).sort().values
    assert torch.equal(seen, torch.arange(len(writer)))
    assert all(len(b) <= 4 * 9 for b in batches)
    pairs = sum(int((writer[b][:, None] == writer[b][None, :]).sum()) - len(b) for b in batches)
    assert pairs > len(writer) * 5  # each image meets several others of its writer
