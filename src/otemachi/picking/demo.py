"""picking demo: 20 generated episodes end to end (camera, detector, grounding, questions
answered, the arm), the accuracy table, and a marked image of the first decisions."""

from otemachi.core.report import Report, markdown_table
from otemachi.picking import episodes, evaluate, train
from otemachi.picking.dialog import Picker
from otemachi.picking.plots import accuracy_chart, mark
from otemachi.picking.scenes import Scene

N_EPISODES = 20
SEED = 20261126  # episodes: their own seed stream, never a training one


def demo(report: Report) -> None:
    """Train the models on first use (stored after), then run 20 held-out episodes with the
    robot."""
    folder = report.folder("picking")
    model = train.grounder()
    detector, det_metrics = train.detector()
    eps = episodes.make(N_EPISODES, SEED, frozenset(model.config.holdout))
    result, rows = evaluate.run(eps, model, detector, execute=True)
    table = markdown_table(
        [
            "episode",
            "split",
            "template",
            "instruction",
            "question",
            "right first",
            "right at end",
            "placed",
        ],
        [
            [
                r.id,
                r.split,
                r.template,
                e.instruction,
                r.question or "-",
                _yes(r.first_ok),
                _yes(r.final_ok),
                _yes(bool(r.placed)),
            ]
            for r, e in zip(rows, eps, strict=True)
        ],
    )
    summary = markdown_table(
        ["measure", "value"],
        [[k, f"{v}"] for k, v in result.items() if not isinstance(v, dict)]
        + [["detector mAP@0.5, held-out scenes", f"{det_metrics['map50_heldout']:.3f}"]],
    )
    chart = accuracy_chart(result, folder / "accuracy.png")
    images = []
    for e in eps[:3]:
        with Scene(e.scene) as scene:
            d = Picker(scene, model, detector).instruct(e.instruction)
            path = folder / f"{e.id}.png"
            mark(scene.render().rgb, d.box, d.destination, e.instruction).save(path)
            images.append(report.image(path, f"{e.id}: {e.instruction}"))
    body = "\n\n".join([summary, report.image(chart, "target accuracy"), table, *images])
    report.add(f"picking: {N_EPISODES} episodes end to end", body)


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"
