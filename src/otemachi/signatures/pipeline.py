"""End to end: pick the data, check it is disjoint from the base's writers, embed, evaluate, and
save results, DET curves, histograms and example images."""

import json
from pathlib import Path

from otemachi.signatures import plots
from otemachi.signatures.base import Base, assert_disjoint, embed_writers, qualified
from otemachi.signatures.datasets import SignatureDataset, SynthDataset, open_dataset
from otemachi.signatures.evaluate import KEYS, EvalConfig, Evaluation, evaluate

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
