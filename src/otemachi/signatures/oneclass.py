"""One tiny model per person, trained from 1-5 reference embeddings: OC-NN (as in DL4J's
OCNNOutputLayer), a Deep-SVDD-style centre, or SigNet's per-writer SVM. Each packs into 258 bytes
(svdd, svm) to about 2.6 KB (ocnn) of float16 parameters."""

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.special import expit
from sklearn.svm import LinearSVC

from otemachi.core.errors import InvalidInput

Params = dict[str, np.ndarray]
REVISION = "8"  # bump when a method changes: cached calibrations are rebuilt
NU = 0.04  # OC-NN: the fraction of references allowed below r
HIDDEN = 8  # OC-NN hidden units
OCNN_STEPS = 50  # chosen on 40 tuning writers (neither the base's nor the evaluation's)
OCNN_LEARNED_STEPS = 10  # the same, from a start learned across writers (``prior``)
OCNN_LR = 0.01
OCNN_V0, OCNN_B0 = -4.0, 2.0  # start: h = sigmoid(2 - 4 d), falling with the distance d
# svdd: a person's squared distances are measured in units of their own spread, shrunk towards
# the population's: a genuine signature's mean squared distance to its writer's centre, 0.133 on
# the 40 calibration writers of the first base of 2026-11-27, counted as 2 references' worth.
# The base trained with the metric loss has 0.102 there; on the 40 tuning writers 0.10 and 0.13
# give the same global EER, so the constant stays.
SVDD_SPREAD, SVDD_PRIOR = 0.13, 2.0


@dataclass(frozen=True)
class UserModel:
    """A person's verifier: method, float16 parameters, per-user threshold and base version."""

    user_id: str
    method: str
    base_version: str
    params: Params
    threshold: float  # per-user threshold from leave-one-out references; NaN with one reference
    n_refs: int


def older(method: str, embed: int) -> dict[int, str]:
    """Lengths (float16 values) of records made by earlier revisions of a method, and what made
    them: such a record is refused with a message saying to enrol the person again."""
    ocnn = 2 * embed + embed * HIDDEN + 2 * HIDDEN + 1
    made = {
        "ocnn": {
            ocnn - 2 * embed + 2: "before its inputs were measured from the person's centre",
            ocnn + 2: "before its score was its own y - r, not standardised on others",
        },
        "svdd": {embed: "before its distances were measured in units of the person's spread"},
    }.get(method, {})
    name = {"ocnn": "OC-NN"}.get(method, method)
    return {n: f"{name} ({why})" for n, why in made.items()}


def layout(method: str, embed: int) -> list[tuple[str, tuple[int, ...]]]:
    """Names and shapes of a method's parameters, in the order they are packed."""
    layouts: dict[str, list[tuple[str, tuple[int, ...]]]] = {
        "ocnn": [
            ("c", (embed,)),
            ("k", (embed,)),
            ("V", (embed, HIDDEN)),
            ("b", (HIDDEN,)),
            ("w", (HIDDEN,)),
            ("r", (1,)),
        ],
        "svdd": [("c", (embed,)), ("s", (1,))],
        "svm": [("w", (embed,)), ("b", (1,))],
    }
    return layouts[method]  # fmt: skip


def pack(method: str, params: Params) -> bytes:
    """A method's parameters as one little-endian float16 blob (no names: the layout is fixed)."""
    return pack_many(method, {k: np.asarray(v)[None] for k, v in params.items()})[0]


def pack_many(method: str, stacked: Params) -> list[bytes]:
    """``pack`` for the parameters of many people, stacked (U, ...)."""
    names = [k for k, _ in layout(method, 0)]
    rows = len(stacked[names[0]])
    flat = [np.asarray(stacked[k], "<f2").reshape(rows, -1) for k in names]
    return [row.tobytes() for row in np.concatenate(flat, axis=1)]


def unpack(method: str, blob: bytes, embed: int) -> Params:
    """The inverse of ``pack``; a blob of the wrong length is refused."""
    shapes = layout(method, embed)
    sizes = [math.prod(s) for _, s in shapes]
    if len(blob) != 2 * sum(sizes):
        made_by = older(method, embed).get(len(blob) // 2)
        if made_by is not None:
            raise InvalidInput(
                f"this {method} record was made by an older {made_by}; enrol the person again, "
                "or enrol them with another method"
            )
        raise InvalidInput(
            f"a {method} record of a {embed}-d base holds {2 * sum(sizes)} bytes, got {len(blob)}"
        )
    flat = np.frombuffer(blob, "<f2").astype(np.float32)
    parts = np.split(flat, np.cumsum(sizes)[:-1])
    return {name: part.reshape(shape) for (name, shape), part in zip(shapes, parts, strict=True)}


def ocnn_raw(p: Params, x: np.ndarray) -> np.ndarray:
    """y - r of stacked OC-NNs (F, ...) on x: (N, E) shared, or (F, N, E) one set per row; below
    0 is an anomaly. The input is each dimension's squared deviation from the person's centre,
    in units of ``k``."""
    d = ((x[None] if x.ndim == 2 else x) - p["c"][:, None, :]) * p["k"][:, None, :]
    h = expit(np.einsum("fne,feh->fnh", d * d, p["V"]) + p["b"][:, None, :])
    return np.einsum("fnh,fh->fn", h, p["w"]) - p["r"][:, :1]


def ocnn_inputs(
    x: np.ndarray, m: np.ndarray, negatives: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For references x (F, K, E) under mask m (F, K): each row's centre c (F, E), per-dimension
    scale (F, E), and the inputs q (F, K, E) the OC-NN trains on (``fit_ocnn_many``).

    The scale is how far development writers lie from c in each dimension, times the person's
    own spread relative to the population's (as svdd measures it): a loose signer's model is
    wider. On the 40 tuning writers (base with the metric loss) that took the OC-NN's global EER
    at 1 / 2 / 5 references from 12.5 / 8.1 / 5.0% to 12.5 / 6.5 / 4.5%."""
    n = m.sum(1)
    c = (x * m[..., None]).sum(1) / n[:, None]
    # mean over development signatures n of (n - c)^2, per dimension, for every row's centre
    moment = (negatives**2).mean(0) - 2 * c * negatives.mean(0) + c**2
    spread = np.maximum(moment, 0) * x.shape[2]
    # a dimension development writers hardly use must not dominate q (nor k leave float16)
    spread = np.maximum(spread, 0.01 * spread.mean(1, keepdims=True) + 1e-8)
    square = (x - c[:, None, :]) ** 2  # (F, K, E)
    spread *= (svdd_spread((square.sum(2) * m).sum(1), n) / SVDD_SPREAD)[:, None]
    return c, spread, square / spread[:, None, :] * m[..., None]


def ocnn_start(seed: int, embed: int) -> np.ndarray:
    """V0, where every person's first layer starts (E, H)."""
    gen = np.random.default_rng(seed)
    return (OCNN_V0 + gen.normal(0, 0.5, (embed, HIDDEN))).astype(np.float32)


def fit_ocnn_many(
    x: np.ndarray, mask: np.ndarray, negatives: np.ndarray, seed: int, start: Params | None = None
) -> Params:
    """OC-NN as DL4J's OCNNOutputLayer, for F sets of references at once (x: (F, K, E), mask:
    (F, K)): 1/2|w|^2 + 1/2|V|^2 + (1/nu) mean(relu(r - y)) - r over V, w, r (and the hidden
    bias), with y = sigmoid(qV + b) . w.

    ``start`` (V, b, w), when given, is where every person's model starts: one learned across
    writers (``prior.learn_start``), trained for OCNN_LEARNED_STEPS steps. Without it, the
    fixed start below and OCNN_STEPS steps.

    What keeps it from collapsing to a constant (it did with the embedding itself as input: the
    1/2|V|^2 term drives V to zero when nothing in the data pulls against it):

    - the input q is each dimension's squared deviation from the person's reference centre c,
      relative to how far development writers lie from c in it (so q sums to about 1 for another
      writer's signature, and to 0 at the centre);
    - V starts at V0 = -4 (plus noise, the same for everybody) and b at 2, so every hidden unit
      starts high at the centre and low a writer away: the model starts from "a genuine cluster
      is a neighbourhood of its references", and training shapes it (which directions the
      references vary in);
    - 50 steps, so the decay reshapes the start rather than erasing it.

    The optimiser is Adam; V's second moment is one number per person (the mean square of its
    whole gradient) rather than one per weight. Then V's gradient V + q^T dz, Adam's first moment
    and V itself all stay of the form a V0 + q^T A, with a scalar a and A of size (K, H), and
    training runs in that form: a step costs K x H, not E x H, per person. On the 40 tuning
    writers the person-wise second moment gave the per-weight one's EER at 100 steps (15.0 /
    11.9 / 10.5% at 1 / 2 / 5 references), and 50 steps gave 14.5 / 11.5 / 10.5%.

    A record holds c, k (1 / the per-dimension scale), V, b, w and r; the score is DL4J's own
    y - r (below 0: an anomaly). r, the nu-quantile of the person's own training scores, puts
    people on one scale: on the 40 tuning writers a further standardisation on development
    writers' signatures took the global EER at 1 / 2 / 5 references from 14.5 / 9.4 / 5.5% to
    14.5 / 11.5 / 10.5%."""
    negatives = negatives.astype(np.float32)
    m = mask.astype(np.float32)
    c, spread, q = ocnn_inputs(x.astype(np.float32), m, negatives)
    f, e = len(x), x.shape[2]
    scale = NU * m.sum(1, keepdims=True)
    v0 = ocnn_start(seed, e) if start is None else start["V"].astype(np.float32)
    p0, gram = q @ v0, q @ q.transpose(0, 2, 1)  # (F, K, H), (F, K, K)
    a, a1, s2 = (np.full((f, 1, 1), v, np.float32) for v in (1.0, 0.0, 0.0))  # V = a V0 + q^T A
    big_a, big_a1 = np.zeros_like(p0), np.zeros_like(p0)
    gram_a, gram_a1 = np.zeros_like(p0), np.zeros_like(p0)  # gram @ A and gram @ A's moment
    if start is None:
        theta = [np.full((f, HIDDEN), v, np.float32) for v in (OCNN_B0, 1 / HIDDEN)]
    else:
        theta = [np.tile(start[k].astype(np.float32), (f, 1)) for k in ("b", "w")]
    theta.append(np.zeros((f, 1), np.float32))
    moments = [(np.zeros_like(t), np.zeros_like(t)) for t in theta]
    v0_sq = float((v0 * v0).sum())
    for step in range(1, (OCNN_STEPS if start is None else OCNN_LEARNED_STEPS) + 1):
        b, w, r = theta
        h = expit(a * p0 + gram_a + b[:, None, :])  # (F, K, H)
        below = (r - (h * w[:, None, :]).sum(2) > 0) * m / scale  # -dL/dy per reference
        dz = -below[..., None] * w[:, None, :] * h * (1 - h)
        coef = big_a + dz  # V's gradient: a V0 + q^T coef
        gram_coef = gram_a + gram @ dz
        sq = a * a * v0_sq + ((2 * a * p0 + gram_coef) * coef).sum((1, 2), keepdims=True)
        a1[...] = 0.9 * a1 + 0.1 * a
        big_a1[...], gram_a1[...] = 0.9 * big_a1 + 0.1 * coef, 0.9 * gram_a1 + 0.1 * gram_coef
        s2[...] = 0.999 * s2 + 0.001 * sq / (e * HIDDEN)
        rate = OCNN_LR / (1 - 0.9**step) / (np.sqrt(s2 / (1 - 0.999**step)) + 1e-8)
        a -= rate * a1
        big_a -= rate * big_a1
        gram_a -= rate * gram_a1
        grads = [dz.sum(1), w - (below[..., None] * h).sum(1), below.sum(1, keepdims=True) - 1.0]
        for t, g, (m1, m2) in zip(theta, grads, moments, strict=True):  # Adam
            m1[...] = 0.9 * m1 + 0.1 * g
            m2[...] = 0.999 * m2 + 0.001 * g * g
            t -= OCNN_LR * (m1 / (1 - 0.9**step)) / (np.sqrt(m2 / (1 - 0.999**step)) + 1e-8)
    b, w, r = theta
    v = a * v0 + q.transpose(0, 2, 1) @ big_a
    # k is stored apart from V, so float16 holds both
    return {"c": c, "k": 1 / np.sqrt(spread), "V": v, "b": b, "w": w, "r": r}


def fit_ocnn(
    refs: np.ndarray, negatives: np.ndarray, seed: int, start: Params | None = None
) -> Params:
    """One person's OC-NN (``fit_ocnn_many`` with one row)."""
    stacked = fit_ocnn_many(refs[None], np.ones((1, len(refs))), negatives, seed, start)
    return {k: v[0] for k, v in stacked.items()}


def score_ocnn(p: Params, x: np.ndarray) -> np.ndarray:
    return ocnn_raw({k: v[None] for k, v in p.items()}, x)[0]


def fit_svdd(refs: np.ndarray, negatives: np.ndarray, seed: int) -> Params:
    """Deep-SVDD-style: the centre of the references on the embedding hypersphere, and the
    person's spread around it (``svdd_spread``)."""
    c = refs.mean(axis=0)
    return {"c": c, "s": svdd_spread(((refs - c) ** 2).sum(), len(refs))}


def svdd_spread(deviation: np.ndarray | float, n: np.ndarray | int) -> np.ndarray:
    """(sum of squared distances of n references to their centre + the population's spread
    counted SVDD_PRIOR times) / (n - 1 + SVDD_PRIOR): the person's own spread with two or more
    references, shrunk towards the population's; the population's alone with one."""
    return np.atleast_1d((deviation + SVDD_PRIOR * SVDD_SPREAD) / (np.asarray(n) - 1 + SVDD_PRIOR))


def score_svdd(p: Params, x: np.ndarray) -> np.ndarray:
    """Minus the squared distance to the centre, in units of the person's spread."""
    return -((x - p["c"]) ** 2).sum(axis=1) / p["s"][0]


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


SHARED = {"svdd": ("s",)}  # parameters a leave-one-out fit takes from the full fit


def _half(p: Params) -> Params:
    """Parameters as stored (float16), so scores match the serialised record exactly."""
    return {k: np.asarray(v, np.float16).astype(np.float32) for k, v in p.items()}


def fitter(
    method: str, start: Params | None = None
) -> Callable[[np.ndarray, np.ndarray, int], Params]:
    """``method``'s fit(refs, negatives, seed); OC-NN's trains from ``start`` when given."""
    return partial(fit_ocnn, start=start) if method == "ocnn" else METHODS[method][0]


def _fit(
    method: str, refs: np.ndarray, negatives: np.ndarray, seed: int, start: Params | None
) -> Params:
    return _half(fitter(method, start)(refs, negatives, seed))


def train_user(
    user_id: str,
    refs: np.ndarray,
    method: str,
    negatives: np.ndarray,
    base_version: str,
    seed: int = 0,
    views: list[np.ndarray] | None = None,
    start: Params | None = None,
) -> UserModel:
    """Fit one person's model on reference embeddings (n, E), and on the embeddings of each
    reference's augmented views when given (``views[i]``: (V_i, E)); derive a per-user threshold
    as the lowest leave-one-out score of a reference (its views left out with it; NaN with a
    single reference). ``start``: OC-NN's learned start (the base's), if any."""
    if method not in METHODS:
        raise InvalidInput(f"unknown method {method!r}; choose from {list(METHODS)}")
    if refs.ndim != 2 or len(refs) < 1:
        raise InvalidInput("enrolment needs at least one reference signature")
    if views is not None and len(views) != len(refs):
        raise InvalidInput(f"views for {len(views)} references, but {len(refs)} references")
    parts = [refs[i : i + 1] if views is None else np.vstack([refs[i : i + 1], views[i]])
             for i in range(len(refs))]  # fmt: skip
    params = _fit(method, np.vstack(parts), negatives, seed, start)
    threshold = math.nan
    if len(refs) >= 2:
        # svdd's left-out scores are measured in the full model's units (its spread), the units
        # the threshold is applied in
        keep = {k: params[k] for k in SHARED.get(method, ())}
        loo = [
            _score(method, {**_fit(method, np.vstack(parts[:i] + parts[i + 1 :]), negatives,
                                   seed, start), **keep}, refs[i : i + 1])[0]
            for i in range(len(refs))
        ]  # fmt: skip
        threshold = float(min(loo))
    return UserModel(user_id, method, base_version, params, threshold, len(refs))


def _score(method: str, params: Params, x: np.ndarray) -> np.ndarray:
    return METHODS[method][1](params, x)


def score(model: UserModel, x: np.ndarray) -> np.ndarray:
    """Scores (N,) of embeddings (N, E): higher means more like the person's references."""
    return _score(model.method, model.params, x)
