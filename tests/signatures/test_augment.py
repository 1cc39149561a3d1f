"""Augmented views of a reference: seeded, different from the scan, and a person's training set
really changes with them."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from otemachi.core.errors import InvalidInput
from otemachi.signatures import augment, base, evaluate, model, oneclass, train
from otemachi.signatures.data import SynthDataset
from otemachi.signatures.evaluate import EvalConfig
from otemachi.signatures.model import CNNConfig
from otemachi.signatures.preprocess import preprocess


@pytest.fixture(scope="module")
def scans() -> list[np.ndarray]:
    data = SynthDataset(1, n_genuine=2, n_forgeries=0, seed=31, prefix="aug")
    return list(data.iter_genuine(data.writers()[0]))


def test_views_are_seeded_and_differ_from_the_scan_and_each_other(scans: list[np.ndarray]) -> None:
    one = augment.views(scans[0], 3, np.random.default_rng(1))
    again = augment.views(scans[0], 3, np.random.default_rng(1))
    other = augment.views(scans[0], 3, np.random.default_rng(2))
    assert all(np.array_equal(a, b) for a, b in zip(one, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(one, other, strict=True))
    assert all(v.shape == scans[0].shape and v.dtype == np.uint8 for v in one)
    assert not np.array_equal(one[0], one[1])
    ink = (scans[0] < 128).mean()
    for v in one:  # still a signature: changed, with about as much ink, and preprocessable
        assert np.abs(v.astype(int) - scans[0]).mean() > 1
        assert 0.4 * ink < (v < 128).mean() < 2.5 * ink
        assert preprocess(v).max() > 0.5


def test_prepared_views_are_seeded_batched_and_still_the_signature(
    scans: list[np.ndarray],
) -> None:
    x = model.prepare(scans, CNNConfig(n_writers=2))
    one = augment.prepared_views(x, [3, 2], np.random.default_rng(1))
    again = augment.prepared_views(x, [3, 2], np.random.default_rng(1))
    other = augment.prepared_views(x, [3, 2], np.random.default_rng(2))
    assert one.shape == (5, *x.shape[1:]) and one.dtype == x.dtype
    assert torch.equal(one, again) and not torch.equal(one, other)
    assert float(one.min()) >= 0 and float(one.max()) <= 1
    for view, source in zip(one, [0, 0, 0, 1, 1], strict=True):
        ref = x[source]
        assert float((view - ref).abs().mean()) > 1e-3  # changed ...
        assert 0.5 < float(view.sum() / ref.sum()) < 2.0  # ... with about as much ink
        assert float(torch.cosine_similarity(view.ravel(), ref.ravel(), 0)) > 0.5
    alone = augment.prepared_views(x[1:], [2], np.random.default_rng(0))
    assert (
        alone.shape[0] == 2
        and augment.prepared_views(x, [0, 0], np.random.default_rng(0)).shape[0] == 0
    )
    with pytest.raises(ValueError, match="prepared images"):
        augment.prepared_views(x[:, 0], [1, 1], np.random.default_rng(0))


def test_views_per_reference_make_about_the_same_number_of_points() -> None:
    assert [augment.per_reference(n) for n in (1, 2, 5)] == [23, 11, 3]
    assert all((n * (augment.per_reference(n) + 1)) <= augment.POINTS for n in range(1, 6))
    with pytest.raises(ValueError, match="grayscale"):
        augment.views(np.zeros((4, 4, 3)), 1, np.random.default_rng(0))


@pytest.mark.slow
def test_a_persons_model_learns_from_the_views(
    tiny_base: base.Base, scans: list[np.ndarray]
) -> None:
    refs = tiny_base.embed(scans)
    views = base.embed_views(tiny_base.net, scans, [4, 2], np.random.default_rng(5))
    same = base.embed_views(tiny_base.net, scans, [4, 2], np.random.default_rng(5))
    assert [v.shape for v in views] == [(4, refs.shape[1]), (2, refs.shape[1])]
    assert all(np.array_equal(a, b) for a, b in zip(views, same, strict=True))
    for ref, v in zip(refs, views, strict=True):  # spread around their own reference
        assert np.allclose(v.mean(0), ref, atol=1e-5) and v.std(0).sum() > 0
    args = (tiny_base.negatives, tiny_base.version)
    for method in oneclass.METHODS:
        plain = oneclass.train_user("u", refs, method, *args)
        seen = oneclass.train_user("u", refs, method, *args, views=views)
        assert any(not np.allclose(plain.params[k], seen.params[k]) for k in plain.params)
        assert np.isfinite(seen.threshold)  # leave-one-out leaves each reference's views out
    with pytest.raises(InvalidInput, match="views for 1 references"):
        oneclass.train_user("u", refs, "svdd", *args, views=views[:1])


@pytest.mark.slow
def test_the_evaluation_compares_every_method_with_and_without_views(
    tiny_base: base.Base, tmp_path: Path
) -> None:
    data = evaluate.evaluation_data("synth", writers=8)
    cfg = EvalConfig(refs=(1, 2), methods=("ocnn", "svm"), classical=False, augment=True)
    result, _ = evaluate.run(tiny_base, data, cfg, tmp_path)
    assert set(result.results) == {"ocnn", "svm", "ocnn+aug", "svm+aug"}
    for refs, m in result.results["ocnn+aug"].items():
        assert m["auc"] > 0.5 and 0 <= m["eer_global"] < 0.5, (refs, m)
        assert math.isnan(m["far_skilled"])  # thresholds are calibrated without views
    assert (
        result.scores["svm+aug"]["2"]["genuine"].shape == result.scores["svm"]["2"]["genuine"].shape
    )


def test_the_base_learns_from_views_labelled_as_their_scans() -> None:
    data = SynthDataset(2, n_genuine=2, n_forgeries=1, seed=3, prefix="dev")
    cfg = CNNConfig(n_writers=2)
    plain = train.collect(data, data.writers(), cfg)
    widened = train.collect(data, data.writers(), cfg, views=2, gen=np.random.default_rng(0))
    assert len(widened["x"]) == 3 * len(plain["x"]) == 18
    assert widened["writer"].tolist() == [0] * 9 + [1] * 9
    assert widened["forged"].tolist() == ([0.0] * 6 + [1.0] * 3) * 2
    assert np.array_equal(widened["x"][0], plain["x"][0])  # each scan first, then its views
    assert not np.array_equal(widened["x"][1], plain["x"][0])
