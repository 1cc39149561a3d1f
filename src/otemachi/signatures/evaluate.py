"""Evaluation on writers the base never saw: enrol each writer's first r genuine signatures, test on
the rest, on their skilled forgeries and on random forgeries (other writers' genuine); then save
results, DET curves, histograms and example images."""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from otemachi.core.errors import InvalidInput
from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.signatures import augment, classical, oneclass, plots, service
from otemachi.signatures.base import Base, assert_disjoint, embed_views, embed_writers, qualified
from otemachi.signatures.data import FORGERS, SignatureDataset, SynthDataset, open_dataset
from otemachi.signatures.metrics import auc, eer, far_frr
from otemachi.signatures.model import SigNetSmall

Embeddings = dict[str, tuple[np.ndarray, np.ndarray]]  # writer -> (genuine, skilled forgeries)
KEYS = (
    "eer_global",
    "eer_user",
    "auc",
    "far_skilled",
    "far_random",
    "frr",
    "far_shipped",
    "frr_shipped",
)


@dataclass(frozen=True)
class EvalConfig:
    refs: tuple[int, ...] = (1, 2, 5)
    methods: tuple[str, ...] = ("ocnn", "svdd", "svm")
    n_random: int = 10  # random forgeries per writer: one genuine signature of each of n others
    classical: bool = True  # also the HOG + nearest-reference baseline
    augment: bool = False  # also every deep method with augmented views of the references
    seed: int = 0


@dataclass
class Scores:
    """Pooled scores of one method and reference count; ``*_norm`` are minus the user threshold,
    ``*_shipped`` minus the threshold ``verify`` applies (the stricter of global and user)."""

    genuine: list[np.ndarray] = field(default_factory=list)
    skilled: list[np.ndarray] = field(default_factory=list)
    random: list[np.ndarray] = field(default_factory=list)
    genuine_norm: list[np.ndarray] = field(default_factory=list)
    skilled_norm: list[np.ndarray] = field(default_factory=list)
    genuine_shipped: list[np.ndarray] = field(default_factory=list)
    skilled_shipped: list[np.ndarray] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in vars(self).items()}


# A person's verifier for the protocol: references -> (score function, user threshold or NaN,
# the threshold `verify` would apply or NaN when the method has no calibrated one)
Fit = Callable[[str, np.ndarray], tuple[Callable[[np.ndarray], np.ndarray], float, float]]


Views = dict[str, list[np.ndarray]]  # writer -> embeddings of each first genuine's views


def deep_fit(base: Base, method: str, seed: int, views: Views | None = None) -> Fit:
    """With ``views``, each reference also brings ``augment.per_reference(r)`` of its views."""

    def fit(
        writer: str, refs: np.ndarray
    ) -> tuple[Callable[[np.ndarray], np.ndarray], float, float]:
        n = augment.per_reference(len(refs))
        own = None if views is None else [v[:n] for v in views[writer][: len(refs)]]
        model = base.fit_user(writer, refs, method, seed, own)
        return (lambda x: oneclass.score(model, x)), model.threshold, service.threshold(base, model)

    return fit


def classical_fit(
    writer: str, refs: np.ndarray
) -> tuple[Callable[[np.ndarray], np.ndarray], float, float]:
    return (lambda x: classical.nearest(refs, x)), classical.user_threshold(refs), math.nan


def run_protocol(embs: Embeddings, r: int, cfg: EvalConfig, fit: Fit, global_thr: float) -> Scores:
    """Score every writer with at least r + 1 genuine signatures."""
    gen = rng(cfg.seed, "signatures", "random-forgeries", str(r))
    writers = [w for w in sorted(embs) if len(embs[w][0]) > r]
    out = Scores()
    for w in writers:
        genuine, forged = embs[w]
        score, user_thr, shipped = fit(w, genuine[:r])
        thr = global_thr if math.isnan(user_thr) else user_thr
        others = [o for o in writers if o != w]
        picks = gen.choice(len(others), min(cfg.n_random, len(others)), replace=False)
        g, s = score(genuine[r:]), score(forged)
        out.genuine.append(g)
        out.skilled.append(s)
        out.random.append(score(np.stack([embs[others[i]][0][0] for i in picks])))
        out.genuine_norm.append(g - thr)
        out.skilled_norm.append(s - thr)
        out.genuine_shipped.append(g - shipped)
        out.skilled_shipped.append(s - shipped)
    return out


def summarise(sc: dict[str, np.ndarray], thr: float) -> dict[str, float]:
    """The metric keys for one method and reference count; those at an operating point are NaN
    for a method without a calibrated global threshold ``thr``."""
    out = {
        "eer_global": eer(sc["genuine"], sc["skilled"])[0],
        "eer_user": eer(sc["genuine_norm"], sc["skilled_norm"])[0],
        "auc": auc(sc["genuine"], sc["skilled"]),
    }
    if math.isnan(thr):
        return out | dict.fromkeys(KEYS[3:], math.nan)
    far_s, frr = far_frr(sc["genuine"], sc["skilled"], thr)
    # the decision exactly as `verify` makes it: score >= max(global, per-user threshold)
    far_ship, frr_ship = far_frr(sc["genuine_shipped"], sc["skilled_shipped"], 0.0)
    return out | {
        "far_skilled": far_s,
        "far_random": far_frr(sc["genuine"], sc["random"], thr)[0],
        "frr": frr,
        "far_shipped": far_ship,
        "frr_shipped": frr_ship,
    }


@dataclass
class Evaluation:
    writers: int
    results: dict[str, dict[str, dict[str, float]]]  # method -> refs -> metrics
    scores: dict[str, dict[str, dict[str, np.ndarray]]]  # method -> refs -> pooled scores
    writer_eers: dict[str, dict[str, np.ndarray]]  # method -> refs -> each writer's own EER

    def to_json(self) -> dict[str, object]:
        """Results as JSON: a metric a method does not have is null; each writer's own EER
        (genuine vs skilled forgeries of that writer) summarised by its quartiles and worst."""
        clean = {m: {r: {k: None if math.isnan(v) else v for k, v in ms.items()}
                     for r, ms in by.items()} for m, by in self.results.items()}  # fmt: skip
        spread = {
            m: {r: dict(zip(("p25", "median", "p75", "max"),
                            np.percentile(e, [25, 50, 75, 100]).round(4).tolist(), strict=True))
                for r, e in by.items()}
            for m, by in self.writer_eers.items()
        }  # fmt: skip
        return {"writers": self.writers, "methods": clean, "writer_eer": spread}


def evaluate(
    base: Base,
    embs: Embeddings,
    cfg: EvalConfig = EvalConfig(),
    hog: Embeddings | None = None,
    views: Views | None = None,
) -> Evaluation:
    """Every method at every reference count on the same writers; with ``hog`` (the classical
    features of the same images), the classical baseline too; with ``views`` (``writer_views``),
    every deep method again as ``<method>+aug``, each reference joined by its views (the global
    thresholds are calibrated without views, so only threshold-free metrics are reported)."""
    bad = [m for m in cfg.methods if m not in oneclass.METHODS]
    if bad:
        raise InvalidInput(f"unknown method(s) {bad}; choose from {list(oneclass.METHODS)}")
    usable = [w for w in embs if len(embs[w][0]) > max(cfg.refs) and len(embs[w][1]) > 0]
    if len(usable) < 2:
        raise InvalidInput(
            f"need at least 2 writers with more than {max(cfg.refs)} genuine signatures and some "
            f"forgeries; found {len(usable)}"
        )
    embs = {w: embs[w] for w in usable}
    results: dict[str, dict[str, dict[str, float]]] = {}
    scores: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    writer_eers: dict[str, dict[str, np.ndarray]] = {}
    runs = [(m, r) for m in cfg.methods for r in cfg.refs]
    runs += [(f"{m}{AUGMENTED}", r) for m in cfg.methods for r in cfg.refs] if views else []
    runs += [(classical.NAME, r) for r in cfg.refs] if hog is not None else []
    for method, r in track(runs, "evaluating"):
        thr = math.nan
        if method == classical.NAME:
            assert hog is not None
            feats = {w: hog[w] for w in usable}
            raw = run_protocol(feats, r, cfg, classical_fit, 0.0)  # 0: scores unshifted
        elif method.endswith(AUGMENTED):
            fit = deep_fit(base, method.removesuffix(AUGMENTED), cfg.seed, views)
            raw = run_protocol(embs, r, cfg, fit, 0.0)
        else:
            thr = base.thresholds[method][str(r)]
            raw = run_protocol(embs, r, cfg, deep_fit(base, method, cfg.seed), thr)
        sc = raw.arrays()
        scores.setdefault(method, {})[str(r)] = sc
        results.setdefault(method, {})[str(r)] = summarise(sc, thr)
        own = [eer(g, f)[0] for g, f in zip(raw.genuine, raw.skilled, strict=True)]
        writer_eers.setdefault(method, {})[str(r)] = np.array(own)
    return Evaluation(len(embs), results, scores, writer_eers)


AUGMENTED = "+aug"


def writer_views(
    net: SigNetSmall, data: SignatureDataset, writers: list[str], refs: tuple[int, ...], seed: int
) -> Views:
    """Embeddings of augmented views of each writer's first genuine signatures: as many of the
    i-th as the largest reference count that uses it needs (``augment.per_reference``)."""
    counts = [max([augment.per_reference(r) for r in refs if r > i], default=0)
              for i in range(max(refs))]  # fmt: skip
    out = {}
    for w in track(writers, "augmenting references"):
        genuine = list(data.iter_genuine(w))[: len(counts)]
        out[w] = embed_views(net, genuine, counts[: len(genuine)], rng(seed, "views", w))
    return out


EVAL_SEED = 1_000_003  # synthetic evaluation writers: a seed the base's corpora never use
# Tuning writers: the base's generator under a seed neither the base's corpora nor the
# evaluation writers use. Settings are chosen on them, never on the evaluation sets.
TUNE_SEED = 777_001


def evaluation_data(data: str, writers: int = 100) -> SignatureDataset:
    """``synth`` (unseen writers of the generator the base learnt from), ``oscillator`` (writers
    of the second, independent generator; ``oscillator-freehand`` and ``oscillator-traced``: the
    same writers with one kind of forgery), ``tune`` (writers for choosing settings) or a folder
    in the generic or CEDAR layout."""
    if data in ("tune", "tune-wide"):
        scans = "wide" if data == "tune-wide" else "plain"
        return SynthDataset(writers, 10, 5, TUNE_SEED, prefix="tune", scans=scans)
    if data == "synth" or data in FORGERS:
        kind = "lognormal" if data == "synth" else data
        return SynthDataset(writers, 10, 5, EVAL_SEED, prefix="eval", generator=kind)
    return open_dataset(Path(data))


def run(
    base: Base, data: SignatureDataset, cfg: EvalConfig, out: Path
) -> tuple[Evaluation, list[Path]]:
    """Evaluate on writers the base never saw, then write results.json and plots into ``out``."""
    writers = data.writers()
    assert_disjoint(base.seen_writers, qualified(data, writers))
    hog = classical.writers(data, writers) if cfg.classical else None
    views = writer_views(base.net, data, writers, cfg.refs, cfg.seed) if cfg.augment else None
    result = evaluate(base, embed_writers(base.net, data, writers), cfg, hog, views)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result.to_json(), indent=2))
    first = writers[0]
    figures = [
        plots.det_curves(result, out / "det_curves.png"),
        plots.histograms(result, out / "score_histograms.png"),
        plots.writer_eers(result, out / "writer_eer.png"),
        plots.examples(
            list(data.iter_genuine(first))[:4],
            list(data.iter_forgery(first))[:4],
            out / "examples.png",
        ),
    ]
    return result, figures


def rows(result: Evaluation) -> list[list[str]]:
    """Table rows: method, refs, then the metric keys as percentages (AUC as a fraction)."""
    out = []
    for method, by_refs in result.results.items():
        for refs, m in by_refs.items():
            vals = [
                "n/a" if math.isnan(m[k]) else f"{m[k]:.3f}" if k == "auc" else f"{100 * m[k]:.1f}%"
                for k in KEYS
            ]
            out.append([method, refs, *vals])
    return out
