"""Evaluation on writers the base never saw: enrol each writer's first r genuine signatures, test on
the rest, on their skilled forgeries and on random forgeries (other writers' genuine); then save
results, DET curves, histograms and example images."""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from otemachi.core.errors import InvalidInput
from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.signatures import oneclass, plots, service
from otemachi.signatures.base import Base, assert_disjoint, embed_writers, qualified
from otemachi.signatures.data import SignatureDataset, SynthDataset, open_dataset
from otemachi.signatures.metrics import auc, eer, far_frr

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


def run_protocol(base: Base, embs: Embeddings, method: str, r: int, cfg: EvalConfig) -> Scores:
    """Score every writer with at least r + 1 genuine signatures."""
    gen = rng(cfg.seed, "signatures", "random-forgeries", str(r))
    writers = [w for w in sorted(embs) if len(embs[w][0]) > r]
    global_thr = base.thresholds[method][str(r)]
    out = Scores()
    for w in writers:
        genuine, forged = embs[w]
        model = oneclass.train_user(w, genuine[:r], method, base.negatives, base.version, cfg.seed)
        thr = global_thr if math.isnan(model.threshold) else model.threshold
        others = [o for o in writers if o != w]
        picks = gen.choice(len(others), min(cfg.n_random, len(others)), replace=False)
        g, s = oneclass.score(model, genuine[r:]), oneclass.score(model, forged)
        out.genuine.append(g)
        out.skilled.append(s)
        out.random.append(oneclass.score(model, np.stack([embs[others[i]][0][0] for i in picks])))
        out.genuine_norm.append(g - thr)
        out.skilled_norm.append(s - thr)
        shipped = service.threshold(base, model)
        out.genuine_shipped.append(g - shipped)
        out.skilled_shipped.append(s - shipped)
    return out


def summarise(base: Base, sc: dict[str, np.ndarray], method: str, r: int) -> dict[str, float]:
    """The metric keys for one method and reference count."""
    thr = base.thresholds[method][str(r)]
    far_s, frr = far_frr(sc["genuine"], sc["skilled"], thr)
    # the decision exactly as `verify` makes it: score >= max(global, per-user threshold)
    far_ship, frr_ship = far_frr(sc["genuine_shipped"], sc["skilled_shipped"], 0.0)
    return {
        "eer_global": eer(sc["genuine"], sc["skilled"])[0],
        "eer_user": eer(sc["genuine_norm"], sc["skilled_norm"])[0],
        "auc": auc(sc["genuine"], sc["skilled"]),
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

    def to_json(self) -> dict[str, object]:
        return {"writers": self.writers, "methods": self.results}


def evaluate(base: Base, embs: Embeddings, cfg: EvalConfig = EvalConfig()) -> Evaluation:
    """Every method at every reference count on the same writers."""
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
    for method, r in track([(m, r) for m in cfg.methods for r in cfg.refs], "evaluating"):
        sc = run_protocol(base, embs, method, r, cfg).arrays()
        scores.setdefault(method, {})[str(r)] = sc
        results.setdefault(method, {})[str(r)] = summarise(base, sc, method, r)
    return Evaluation(len(embs), results, scores)


EVAL_SEED = 1_000_003  # synthetic evaluation writers: a seed the base's corpora never use


def evaluation_data(data: str, writers: int = 100) -> SignatureDataset:
    """``synth`` (unseen synthetic writers) or a folder in the generic or CEDAR layout."""
    if data == "synth":
        return SynthDataset(writers, n_genuine=10, n_forgeries=5, seed=EVAL_SEED, prefix="eval")
    return open_dataset(Path(data))


def run(
    base: Base, data: SignatureDataset, cfg: EvalConfig, out: Path
) -> tuple[Evaluation, list[Path]]:
    """Evaluate on writers the base never saw, then write results.json and plots into ``out``."""
    writers = data.writers()
    assert_disjoint(base.seen_writers, qualified(data, writers))
    result = evaluate(base, embed_writers(base.net, data, writers), cfg)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result.to_json(), indent=2))
    first = writers[0]
    figures = [
        plots.det_curves(result, out / "det_curves.png"),
        plots.histograms(result, out / "score_histograms.png"),
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
            vals = [f"{m[k]:.3f}" if k == "auc" else f"{100 * m[k]:.1f}%" for k in KEYS]
            out.append([method, refs, *vals])
    return out
