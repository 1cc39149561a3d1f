"""Per-person models for many people at once: one tensor program over a batch of users, with the
references padded to five and masked, instead of one Python loop per user. Each user needs a
full fit plus, with two or more references, one leave-one-out fit per reference (its threshold);
every fit is a row of the batch. Gives the same records as ``oneclass.train_user`` to float16
precision (tested)."""

import math
import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from otemachi.core.errors import InvalidInput
from otemachi.signatures import oneclass
from otemachi.signatures.oneclass import Params, UserModel


def _fits(counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the batch: owner user, left-out reference (-1: the full fit), reference mask."""
    owner, left = [], []
    for u, n in enumerate(counts):
        owner += [u] * (1 + (n if n >= 2 else 0))
        left += [-1] + (list(range(n)) if n >= 2 else [])
    owner_a, left_a = np.array(owner), np.array(left)
    slots = np.arange(k)[None, :]
    mask = (slots < counts[owner_a][:, None]) & (slots != left_a[:, None])
    return owner_a, left_a, mask


def _svdd(x: np.ndarray, mask: np.ndarray, negatives: np.ndarray, seed: int) -> Params:
    m, n = mask.astype(np.float32), mask.sum(1)
    c = np.einsum("fke,fk->fe", x, m) / n[:, None]
    # sum of squared distances to the centre = sum of squared norms - n |c|^2 (no (F, K, E) copy)
    deviation = np.einsum("fke,fke,fk->f", x, x, m) - n * np.einsum("fe,fe->f", c, c)
    return {"c": c, "s": oneclass.svdd_spread(np.maximum(deviation, 0.0), n)[:, None]}


def _svm(x: np.ndarray, mask: np.ndarray, negatives: np.ndarray, seed: int) -> Params:
    """No batched form: LinearSVC per row (kept so every method can be enrolled in bulk)."""
    rows = [oneclass.fit_svm(xi[mi], negatives, seed) for xi, mi in zip(x, mask, strict=True)]
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def _ocnn(
    x: np.ndarray, mask: np.ndarray, negatives: np.ndarray, seed: int, start: Params | None = None
) -> Params:
    """OC-NN rows grouped by their number of references, each group packed to that many slots
    (no padding to train through), in parts on one thread per core: the rows are independent,
    and numpy releases the GIL for each step's array work, so the parts train side by side."""
    slots, order = mask.sum(1), np.argsort(~mask, axis=1, kind="stable")  # references first
    threads = os.cpu_count() or 1
    groups = [np.flatnonzero(slots == n) for n in np.unique(slots)]
    parts = [p for g in groups for p in np.array_split(g, max(1, min(threads, len(g) // 256)))]

    def fit(rows: np.ndarray) -> Params:
        n = int(slots[rows[0]])
        refs = x[rows[:, None], order[rows, :n]]
        return oneclass.fit_ocnn_many(refs, np.ones((len(rows), n)), negatives, seed, start)

    with ThreadPoolExecutor(threads) as pool:
        fits = list(pool.map(fit, parts))
    out = {k: np.empty((len(x), *v.shape[1:]), v.dtype) for k, v in fits[0].items()}
    for rows, f in zip(parts, fits, strict=True):
        for k, v in f.items():
            out[k][rows] = v
    return out


def score(method: str, p: Params, x: np.ndarray) -> np.ndarray:
    """Scores (F, N) of stacked parameters (F, ...) on one set of embeddings per row (F, N, E)."""
    if method == "svdd":
        return -((x - p["c"][:, None, :]) ** 2).sum(-1) / p["s"][:, :1]
    if method == "svm":
        return np.einsum("fne,fe->fn", x, p["w"]) + p["b"][:, :1]
    return oneclass.ocnn_raw(p, x)


FIT = {"ocnn": _ocnn, "svdd": _svdd, "svm": _svm}


def fit_batch(
    refs: list[np.ndarray],
    method: str,
    negatives: np.ndarray,
    seed: int = 0,
    start: Params | None = None,
) -> tuple[Params, np.ndarray]:
    """Every person's parameters as stored (float16 values, stacked (U, ...)) and per-user
    threshold (U,), for references (n, E) each: ``oneclass.train_user`` in one batch."""
    if method not in FIT:
        raise InvalidInput(f"unknown method {method!r}; choose from {list(FIT)}")
    counts = np.array([len(r) for r in refs])
    if len(refs) == 0 or counts.min() < 1 or counts.max() > 5:
        raise InvalidInput("every user needs 1 to 5 reference embeddings")
    x = np.zeros((len(refs), 5, negatives.shape[1]), np.float32)
    for u, r in enumerate(refs):
        x[u, : len(r)] = r
    owner, left, mask = _fits(counts, 5)
    fit = partial(_ocnn, start=start) if method == "ocnn" else FIT[method]
    params = {
        k: np.asarray(v, np.float16).astype(np.float32)
        for k, v in fit(x[owner], mask, negatives, seed).items()
    }
    loo, full = np.flatnonzero(left >= 0), np.flatnonzero(left < 0)
    for k in oneclass.SHARED.get(method, ()):  # as train_user: from the owner's full fit
        params[k][loo] = params[k][full[owner[loo]]]
    held = x[owner[loo], left[loo]][:, None, :]
    loo_scores = score(method, {k: v[loo] for k, v in params.items()}, held)[:, 0]
    thresholds = np.full(len(refs), math.nan)
    np.fmin.at(thresholds, owner[loo], loo_scores)
    return {k: v[full] for k, v in params.items()}, thresholds


def train_users(
    user_ids: list[str],
    refs: list[np.ndarray],
    method: str,
    negatives: np.ndarray,
    base_version: str,
    seed: int = 0,
    start: Params | None = None,
) -> list[UserModel]:
    """``oneclass.train_user`` for every (user id, references (n, E)) pair, in one batch."""
    params, thresholds = fit_batch(refs, method, negatives, seed, start)
    return [
        UserModel(uid, method, base_version, {k: v[i] for k, v in params.items()}, float(t),
                  len(r))
        for i, (uid, t, r) in enumerate(zip(user_ids, thresholds, refs, strict=True))
    ]  # fmt: skip
