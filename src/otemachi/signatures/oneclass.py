"""One tiny model per person, trained from 1-5 reference embeddings: OC-NN (as in DL4J's
OCNNOutputLayer), a Deep-SVDD-style centre, or SigNet's per-writer SVM. Each packs into 256 bytes
(svdd) to about 2 KB (ocnn) of float16 parameters."""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.svm import LinearSVC

from otemachi.core.errors import InvalidInput

Params = dict[str, np.ndarray]
REVISION = "2"  # bump when a method changes: cached calibrations are rebuilt
NU = 0.04  # OC-NN: the fraction of references allowed below r
HIDDEN = 8  # OC-NN hidden units
OCNN_STEPS = 300
OCNN_LR = 0.01


@dataclass(frozen=True)
class UserModel:
    """A person's verifier: method, float16 parameters, per-user threshold and base version."""

    user_id: str
    method: str
    base_version: str
    params: Params
    threshold: float  # per-user threshold from leave-one-out references; NaN with one reference
    n_refs: int


def layout(method: str, embed: int) -> list[tuple[str, tuple[int, ...]]]:
    """Names and shapes of a method's parameters, in the order they are packed."""
    layouts: dict[str, list[tuple[str, tuple[int, ...]]]] = {
        "ocnn": [
            ("V", (embed, HIDDEN)),
            ("b", (HIDDEN,)),
            ("w", (HIDDEN,)),
            ("r", (1,)),
            ("zn", (2,)),
        ],
        "svdd": [("c", (embed,))],
        "svm": [("w", (embed,)), ("b", (1,))],
    }
    return layouts[method]  # fmt: skip


def pack(method: str, params: Params) -> bytes:
    """A method's parameters as one little-endian float16 blob (no names: the layout is fixed)."""
    return b"".join(np.asarray(params[k], "<f2").tobytes() for k, _ in layout(method, 0))


def unpack(method: str, blob: bytes, embed: int) -> Params:
    """The inverse of ``pack``; a blob of the wrong length is refused."""
    shapes = layout(method, embed)
    sizes = [math.prod(s) for _, s in shapes]
    if len(blob) != 2 * sum(sizes):
        raise InvalidInput(
            f"a {method} record of a {embed}-d base holds {2 * sum(sizes)} bytes, got {len(blob)}"
        )
    flat = np.frombuffer(blob, "<f2").astype(np.float32)
    parts = np.split(flat, np.cumsum(sizes)[:-1])
    return {name: part.reshape(shape) for (name, shape), part in zip(shapes, parts, strict=True)}


def _ocnn_raw(p: Params, x: np.ndarray) -> np.ndarray:
    """y - r; below 0: an anomaly."""
    return (1 / (1 + np.exp(-(x @ p["V"] + p["b"])))) @ p["w"] - p["r"][0]


def fold(v: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The standardisation folded into the first layer, zV = x(V/sd) - (mu/sd)V, so a record
    needs no copy of the development statistics. ``v``: (E, H), or stacked (F, E, H)."""
    return v / sd[:, None], -(mu / sd) @ v


def fit_ocnn(refs: np.ndarray, negatives: np.ndarray, seed: int) -> Params:
    """OC-NN as DL4J's OCNNOutputLayer, trained jointly over V, w and r with Adam:
    1/2|w|^2 + 1/2|V|^2 + (1/nu) mean(relu(r - y)) - r, with y = sigmoid(zV) . w. The input z is
    the embedding standardised by development writers' statistics: on raw unit-norm embeddings the
    1/2|V|^2 term drives V to zero and the model becomes a constant. Its y - r is Z-normalised on
    other writers' signatures so that people share one scale."""
    gen = np.random.default_rng(seed)
    mu, sd = negatives.mean(axis=0), negatives.std(axis=0) + 1e-3
    z = (refs - mu) / sd
    n, e = z.shape
    theta = [gen.normal(0, e**-0.5, (e, HIDDEN)), gen.normal(0, HIDDEN**-0.5, HIDDEN), np.zeros(1)]
    moments = [(np.zeros_like(t), np.zeros_like(t)) for t in theta]
    for step in range(1, OCNN_STEPS + 1):
        v, w, r = theta
        h = 1 / (1 + np.exp(-(z @ v)))  # (n, HIDDEN)
        below = (r[0] - h @ w > 0) / (NU * n)  # -dL/dy per reference
        dh = -below[:, None] * w[None, :]
        grads = [v + z.T @ (dh * h * (1 - h)), w - below @ h, np.array([below.sum() - 1.0])]
        for t, g, (m1, m2) in zip(theta, grads, moments, strict=True):
            m1[...] = 0.9 * m1 + 0.1 * g
            m2[...] = 0.999 * m2 + 0.001 * g * g
            t -= OCNN_LR * (m1 / (1 - 0.9**step)) / (np.sqrt(m2 / (1 - 0.999**step)) + 1e-8)
    v, w, r = theta
    big_v, b = fold(v, mu, sd)
    params = {"V": big_v, "b": b, "w": w, "r": r}
    neg = _ocnn_raw(params, negatives)
    params["zn"] = np.array([neg.mean(), max(float(neg.std()), 1e-6)])
    return params


def score_ocnn(p: Params, x: np.ndarray) -> np.ndarray:
    return (_ocnn_raw(p, x) - p["zn"][0]) / p["zn"][1]


def fit_svdd(refs: np.ndarray, negatives: np.ndarray, seed: int) -> Params:
    """Deep-SVDD-style: the centre of the references on the embedding hypersphere."""
    return {"c": refs.mean(axis=0)}


def score_svdd(p: Params, x: np.ndarray) -> np.ndarray:
    return -((x - p["c"]) ** 2).sum(axis=1)


def fit_svm(refs: np.ndarray, negatives: np.ndarray, seed: int) -> Params:
    """SigNet's writer-dependent SVM: references against random forgeries (other writers)."""
    x = np.concatenate([refs, negatives])
    y = np.r_[np.ones(len(refs)), np.zeros(len(negatives))]
    svm = LinearSVC(C=1.0, class_weight="balanced", random_state=seed).fit(x, y)
    return {"w": svm.coef_[0], "b": svm.intercept_}


def score_svm(p: Params, x: np.ndarray) -> np.ndarray:
    return x @ p["w"] + p["b"][0]


METHODS: dict[
    str,
    tuple[
        Callable[[np.ndarray, np.ndarray, int], Params], Callable[[Params, np.ndarray], np.ndarray]
    ],
] = {
    "ocnn": (fit_ocnn, score_ocnn),
    "svdd": (fit_svdd, score_svdd),
    "svm": (fit_svm, score_svm),
}


def _half(p: Params) -> Params:
    """Parameters as stored (float16), so scores match the serialised record exactly."""
    return {k: np.asarray(v, np.float16).astype(np.float32) for k, v in p.items()}


def _fit(method: str, refs: np.ndarray, negatives: np.ndarray, seed: int) -> Params:
    return _half(METHODS[method][0](refs, negatives, seed))


def train_user(
    user_id: str,
    refs: np.ndarray,
    method: str,
    negatives: np.ndarray,
    base_version: str,
    seed: int = 0,
) -> UserModel:
    """Fit one person's model on reference embeddings (n, E); derive a per-user threshold as the
    lowest leave-one-out score of a reference (NaN with a single reference)."""
    if method not in METHODS:
        raise InvalidInput(f"unknown method {method!r}; choose from {list(METHODS)}")
    if refs.ndim != 2 or len(refs) < 1:
        raise InvalidInput("enrolment needs at least one reference signature")
    params = _fit(method, refs, negatives, seed)
    threshold = math.nan
    if len(refs) >= 2:
        loo = [
            _score(
                method, _fit(method, np.delete(refs, i, axis=0), negatives, seed), refs[i : i + 1]
            )[0]
            for i in range(len(refs))
        ]
        threshold = float(min(loo))
    return UserModel(user_id, method, base_version, params, threshold, len(refs))


def _score(method: str, params: Params, x: np.ndarray) -> np.ndarray:
    return METHODS[method][1](params, x)


def score(model: UserModel, x: np.ndarray) -> np.ndarray:
    """Scores (N,) of embeddings (N, E): higher means more like the person's references."""
    return _score(model.method, model.params, x)
