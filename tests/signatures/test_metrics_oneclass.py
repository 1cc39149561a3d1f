import math

import numpy as np
import pytest

from otemachi.core.errors import InvalidInput
from otemachi.signatures import classical, metrics, oneclass

GENUINE = np.array([0.9, 0.8, 0.7, 0.4])
IMPOSTOR = np.array([0.6, 0.5, 0.3, 0.1])


def test_eer_hand_worked() -> None:
    # Accept when score >= t. At t = 0.6: FAR = 1/4 (0.6), FRR = 1/4 (0.4): they cross.
    assert metrics.eer(GENUINE, IMPOSTOR) == (0.25, 0.6)
    assert metrics.far_frr(GENUINE, IMPOSTOR, 0.5) == (0.5, 0.25)
    assert metrics.auc(GENUINE, IMPOSTOR) == 14 / 16
    t = metrics.threshold_at_far(IMPOSTOR, 0.25)
    assert 0.5 < t <= 0.6 and metrics.far_frr(GENUINE, IMPOSTOR, t)[0] == 0.25


def _toy(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    a, b = unit(r.normal(size=128)), unit(r.normal(size=128))
    near = lambda c, n: unit(c + 0.05 * r.normal(size=(n, 128)))  # noqa: E731
    negatives = unit(r.normal(size=(100, 128)))
    return near(a, 5), near(a, 20), near(b, 20), negatives


@pytest.mark.parametrize("method", list(oneclass.METHODS))
def test_each_method_separates_a_toy_set(method: str) -> None:
    refs, same, other, negatives = _toy(0)
    model = oneclass.train_user("u1", refs, method, negatives, "v1")
    assert metrics.auc(oneclass.score(model, same), oneclass.score(model, other)) > 0.95


@pytest.mark.parametrize("method", list(oneclass.METHODS))
def test_model_size_and_round_trip(method: str) -> None:
    refs, same, _, negatives = _toy(1)
    model = oneclass.train_user("customer-000123", refs, method, negatives, "0123456789abcdef")
    blob = oneclass.pack(method, model.params)
    assert len(blob) + 5 * 128 * 2 <= 4096, len(blob)  # with 5 reference embeddings: <= 4 KB
    params = oneclass.unpack(method, blob, 128)
    again = oneclass.UserModel("c", method, "v", params, model.threshold, 5)
    np.testing.assert_array_equal(oneclass.score(again, same), oneclass.score(model, same))
    assert not math.isnan(model.threshold)


def test_single_reference_has_no_user_threshold_and_bad_input_is_refused() -> None:
    refs, _, _, negatives = _toy(2)
    assert math.isnan(oneclass.train_user("u", refs[:1], "svdd", negatives, "v").threshold)
    with pytest.raises(InvalidInput, match="unknown method"):
        oneclass.train_user("u", refs, "magic", negatives, "v")
    with pytest.raises(InvalidInput, match="holds 258 bytes, got 7"):
        oneclass.unpack("svdd", b"garbage", 128)


def test_the_classical_rule_on_hand_made_vectors() -> None:
    refs = np.array([[1.0, 0.0], [0.6, 0.8]])
    probes = np.array([[0.8, 0.6], [0.0, 1.0]])
    # cosine to the closest reference: (0.8, 0.6) -> max(0.8, 0.96); (0, 1) -> max(0, 0.8)
    np.testing.assert_allclose(classical.nearest(refs, probes), [0.96, 0.8])
    assert classical.user_threshold(refs) == pytest.approx(0.6)  # each reference vs the other
    assert math.isnan(classical.user_threshold(refs[:1]))


def test_ocnn_hidden_units_vary_across_inputs_after_training() -> None:
    """The old OC-NN collapsed: its hidden layer gave every input the same activations."""
    refs, same, other, negatives = _toy(3)
    p = oneclass.fit_ocnn(refs, negatives, seed=0)
    h = lambda x: 1 / (1 + np.exp(-((((x - p["c"]) * p["k"]) ** 2) @ p["V"] + p["b"])))  # noqa: E731
    near, far = h(same), h(np.concatenate([other, negatives]))
    assert near.std(axis=0).max() > 0.01 or far.std(axis=0).max() > 0.01
    assert (near.mean(axis=0) - far.mean(axis=0)).min() > 0.3  # each unit: high near, low far
    assert np.abs(p["V"]).mean() > 1.0  # the decay reshaped V; it did not erase it


def _ocnn_weight_by_weight(refs: np.ndarray, negatives: np.ndarray, seed: int) -> dict:
    """The OC-NN objective and optimiser written plainly, with V (E, H) held whole: Adam with
    one second moment for all of V, per-weight Adam for b, w and r."""
    c, _, q = oneclass.ocnn_inputs(refs[None], np.ones((1, len(refs))), negatives)
    q = q[0].astype(np.float64)
    v = oneclass.ocnn_start(seed, refs.shape[1]).astype(np.float64)
    b, w, r = np.full(8, oneclass.OCNN_B0), np.full(8, 1 / 8), np.zeros(1)
    theta = [v, b, w, r]
    m1 = [np.zeros_like(t) for t in theta]
    m2 = [np.zeros(())] + [np.zeros_like(t) for t in theta[1:]]
    for step in range(1, oneclass.OCNN_STEPS + 1):
        h = 1 / (1 + np.exp(-(q @ v + b)))
        below = (r - h @ w > 0) / (oneclass.NU * len(refs))
        dz = -below[:, None] * w * h * (1 - h)
        grads = [v + q.T @ dz, dz.sum(0), w - below @ h, below.sum(keepdims=True) - 1.0]
        for i, (t, g) in enumerate(zip(theta, grads, strict=True)):
            m1[i] = 0.9 * m1[i] + 0.1 * g
            m2[i] = 0.999 * m2[i] + 0.001 * ((g * g).mean() if i == 0 else g * g)
            m1_hat, m2_hat = m1[i] / (1 - 0.9**step), m2[i] / (1 - 0.999**step)
            t -= oneclass.OCNN_LR * m1_hat / (np.sqrt(m2_hat) + 1e-8)
    return {"c": c[0], "V": v, "b": b, "w": w, "r": r}


def test_ocnn_trains_in_low_rank_form_exactly_as_weight_by_weight() -> None:
    """The fit keeps V as a V0 + q^T A; it must land where training V itself lands."""
    refs, _, _, negatives = _toy(4)
    want = _ocnn_weight_by_weight(refs, negatives, seed=2)
    got = oneclass.fit_ocnn(refs, negatives, seed=2)
    for k, v in want.items():
        np.testing.assert_allclose(got[k], v, rtol=1e-4, atol=1e-4, err_msg=k)
    assert np.abs(want["V"] - oneclass.ocnn_start(2, refs.shape[1])).max() > 0.05  # it trained


def test_records_of_older_layouts_are_told_apart() -> None:
    with pytest.raises(InvalidInput, match=r"older OC-NN .*from the person's centre"):
        oneclass.unpack("ocnn", bytes(2 * (128 * 8 + 8 + 8 + 1 + 2)), 128)
    with pytest.raises(InvalidInput, match=r"older OC-NN .*its own y - r"):  # with standardisation
        oneclass.unpack("ocnn", bytes(2 * (2 * 128 + 128 * 8 + 8 + 8 + 1 + 2)), 128)
    with pytest.raises(InvalidInput, match=r"older svdd .*the person's spread"):
        oneclass.unpack("svdd", bytes(2 * 128), 128)


def test_svdd_measures_distance_in_units_of_the_persons_spread() -> None:
    tight = np.array([[1.0, 0.0], [1.0, 0.2]])  # centre (1, 0.1); squared deviations sum 0.02
    loose = np.array([[1.0, 0.0], [1.0, 2.0]])  # centre (1, 1); they sum to 2
    prior = oneclass.SVDD_PRIOR * oneclass.SVDD_SPREAD
    t = oneclass.fit_svdd(tight, np.zeros((1, 2)), 0)
    lo = oneclass.fit_svdd(loose, np.zeros((1, 2)), 0)
    assert t["s"][0] == pytest.approx((0.02 + prior) / (1 + oneclass.SVDD_PRIOR))
    assert lo["s"][0] == pytest.approx((2.0 + prior) / (1 + oneclass.SVDD_PRIOR))
    one = oneclass.fit_svdd(tight[:1], np.zeros((1, 2)), 0)  # one reference: the prior alone
    assert one["s"][0] == pytest.approx(oneclass.SVDD_SPREAD)
    # one unit of distance from the centre is far for the tight person, near for the loose one
    probe = lambda p: p["c"] + np.array([[0.0, 1.0]])  # noqa: E731
    assert oneclass.score_svdd(t, probe(t))[0] < oneclass.score_svdd(lo, probe(lo))[0]
    assert oneclass.score_svdd(lo, probe(lo))[0] == pytest.approx(-1.0 / lo["s"][0])
