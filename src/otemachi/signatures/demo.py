"""signatures demo: build the base on first use (stored after), evaluate on unseen synthetic
writers, then enrol people in bulk and verify them over HTTP; report."""

from otemachi.core.report import Report, markdown_table
from otemachi.signatures import evaluate, servedemo, train
from otemachi.signatures.evaluate import KEYS, EvalConfig


def demo(report: Report) -> None:
    """EER and friends for every method at 1, 2 and 5 references on 100 unseen writers."""
    b = train.base()
    result, figures = evaluate.run(
        b, evaluate.evaluation_data("synth"), EvalConfig(), report.folder("signatures")
    )
    table = markdown_table(["method", "refs", *KEYS], evaluate.rows(result))
    report.result("signatures.evaluation", {"base": b.version, "by_method": result.results})
    images = "\n\n".join(report.image(p, p.stem) for p in figures)
    report.add(
        "signatures: verification on unseen synthetic writers",
        f"Base network {b.version}; {result.writers} evaluation writers never seen by the base. "
        f"EER uses skilled forgeries.\n\n{table}\n\n{images}",
    )
    servedemo.service_demo(b, report)
