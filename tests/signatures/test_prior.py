"""OC-NN's start learned across writers: it learns what tells a writer's own signatures from
forgeries, is seeded, and every way of fitting a person uses it alike."""

import numpy as np

from otemachi.signatures import batchfit, metrics, oneclass, prior

E = 32


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _writers(n: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Writers (unit embeddings, as the base's) whose genuine signatures vary a little in every
    dimension and whose forgers get only the first eight dimensions wrong, by about as much in
    all: distance from the references tells them apart poorly, the dimensions it lies in well."""
    r = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        centre = _unit(r.normal(size=E))
        forged = np.tile(centre, (5, 1))
        forged[:, :8] += 0.15 * r.normal(size=(5, 8))
        out[f"w{i}"] = (_unit(centre + 0.056 * r.normal(size=(10, E))), _unit(forged))
    return out


def _auc(start: oneclass.Params | None, writers: dict, negatives: np.ndarray) -> float:
    genuine, forged = [], []
    for gen, forg in writers.values():
        model = oneclass.train_user("u", gen[:2], "ocnn", negatives, "v", start=start)
        genuine.append(oneclass.score(model, gen[2:]))
        forged.append(oneclass.score(model, forg))
    return metrics.auc(np.concatenate(genuine), np.concatenate(forged))


def test_the_learned_start_tells_forgeries_a_distance_cannot() -> None:
    negatives = _unit(np.random.default_rng(9).normal(size=(100, E)))
    start = prior.learn_start(_writers(30, 0), negatives, seed=0)
    assert {k: v.shape for k, v in start.items()} == {
        "V": (E, oneclass.HIDDEN), "b": (oneclass.HIDDEN,), "w": (oneclass.HIDDEN,)
    }  # fmt: skip
    unseen = _writers(15, 1)
    assert _auc(None, unseen, negatives) < 0.8  # the fixed start: distance alone (0.69)
    assert _auc(start, unseen, negatives) > 0.9  # (0.96)
    again = prior.learn_start(_writers(30, 0), negatives, seed=0)
    for k, v in start.items():
        np.testing.assert_array_equal(again[k], v)


def test_batched_fits_use_the_start_as_one_user_fits_do() -> None:
    r = np.random.default_rng(4)
    negatives = r.normal(size=(60, E)).astype(np.float32)
    start = {
        "V": oneclass.ocnn_start(1, E) + r.normal(0, 1, (E, oneclass.HIDDEN)),
        "b": r.normal(2, 0.5, oneclass.HIDDEN),
        "w": r.uniform(0.05, 0.3, oneclass.HIDDEN),
    }
    refs = [r.normal(size=(n, E)).astype(np.float32) for n in (1, 3, 5)]
    ids = ["a", "b", "c"]
    many = batchfit.train_users(ids, refs, "ocnn", negatives, "v", start=start)
    plain = batchfit.train_users(ids, refs, "ocnn", negatives, "v")
    for uid, rf, got, other in zip(ids, refs, many, plain, strict=True):
        want = oneclass.train_user(uid, rf, "ocnn", negatives, "v", start=start)
        for k, v in want.params.items():
            np.testing.assert_allclose(got.params[k], v, rtol=2e-3, atol=2e-3, err_msg=k)
        assert not np.allclose(got.params["V"], other.params["V"], atol=1e-2)
