"""Batched fitting gives the records the one-user path gives, to float16 precision."""

import math

import numpy as np
import pytest

from otemachi.core.errors import InvalidInput
from otemachi.signatures import batchfit, oneclass


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("method", list(oneclass.METHODS))
def test_batched_records_match_one_user_at_a_time(method: str) -> None:
    r = np.random.default_rng(3)
    negatives = _unit(np.abs(r.normal(size=(60, 128))))
    refs = [_unit(np.abs(r.normal(size=(n, 128)))) for n in (1, 2, 3, 5, 4, 5)]
    ids = [f"user{i}" for i in range(len(refs))]
    many = batchfit.train_users(ids, refs, method, negatives, "v1")
    for uid, rf, got in zip(ids, refs, many, strict=True):
        want = oneclass.train_user(uid, rf, method, negatives, "v1")
        assert (got.user_id, got.n_refs, got.method, got.base_version) == (
            uid,
            len(rf),
            method,
            "v1",
        )
        for k, v in want.params.items():
            np.testing.assert_allclose(got.params[k], v, rtol=2e-3, atol=2e-3, err_msg=k)
        if len(rf) == 1:
            assert math.isnan(got.threshold) and math.isnan(want.threshold)
        else:
            assert got.threshold == pytest.approx(want.threshold, rel=2e-3, abs=2e-3)
        probe = _unit(np.abs(r.normal(size=(4, 128))))
        np.testing.assert_allclose(
            oneclass.score(got, probe), oneclass.score(want, probe), rtol=5e-3, atol=5e-3
        )


def test_batched_fitting_refuses_bad_batches() -> None:
    neg = _unit(np.ones((4, 8)))
    with pytest.raises(InvalidInput, match="1 to 5"):
        batchfit.train_users(["a"], [neg[:0]], "svdd", neg, "v")
    with pytest.raises(InvalidInput, match="unknown method"):
        batchfit.train_users(["a"], [neg[:1]], "magic", neg, "v")
