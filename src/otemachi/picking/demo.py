"""picking demo: 20 generated episodes end to end (camera, detector, grounding, questions
answered, the arm), the accuracy table, and a marked image of the first decisions; the
hand-written instructions by phenomenon; then the same episodes spoken by voices the recogniser
never heard: transcripts, the questions spoken as WAV files, and typed vs spoken accuracy."""

from pathlib import Path
from typing import Any

from otemachi.core.report import Report, markdown_table
from otemachi.picking import episodes, evaluate, speech, train
from otemachi.picking.asr import models as asr_models
from otemachi.picking.asr import train as asr_train
from otemachi.picking.dialog import Picker
from otemachi.picking.hearing import Ears
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
    report.result("picking.episodes", result)
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
        [
            [k, f"{v}"]
            for k, v in result.items()
            if not isinstance(v, dict) and k != "person_answers"  # no person in the robot's run
        ]
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
    handwritten(report, model, detector)
    spoken(report, folder, eps, model, detector)


# Written by hand, never trained on (see their READMEs); in the source tree only. The first four
# were read while the reader's constructions were built (the third and the fourth after each had
# been measured once as a test); the fifth and sixth have been measured but never read; the
# seventh is the test.
HAND = Path(__file__).parents[3] / "benchmarks" / "data" / "picking"
HANDWRITTEN = HAND / "handwritten.jsonl"
FRESH = HAND / "fresh" / "handwritten.jsonl"
THIRD = HAND / "third" / "handwritten.jsonl"
FOURTH = HAND / "fourth" / "handwritten.jsonl"
FIFTH = HAND / "fifth" / "handwritten.jsonl"
SIXTH = HAND / "sixth" / "handwritten.jsonl"
SEVENTH = HAND / "seventh" / "handwritten.jsonl"
HAND_SETS = {  # result key: (title, episodes)
    "handwritten": ("first set, read while building", HANDWRITTEN),
    "handwritten_fresh": ("fresh set, read while building", FRESH),
    "handwritten_third": ("third set, read while building", THIRD),
    "handwritten_fourth": ("fourth set, read while building", FOURTH),
    "handwritten_fifth": ("fifth set, scores only", FIFTH),
    "handwritten_sixth": ("sixth set, scores only", SIXTH),
    "handwritten_seventh": ("seventh set, test only", SEVENTH),
}


def handwritten(report: Report, model: Any, detector: Any) -> None:
    """Accuracy on the hand-written instructions, by phenomenon, for each set."""
    keys = ("episodes", "target_accuracy", "target_accuracy_clarified", "questions_asked")
    for key, (name, path) in HAND_SETS.items():
        title = f"picking: hand-written instructions, {name}"
        if not path.exists():
            report.add(title, f"{path} is not here to run.")
            continue
        result, _ = evaluate.run(list(episodes.read(path)), model, detector)
        report.result(f"picking.{key}", result)
        parts = [*result["by_template"].items(), ("all", result)]
        table = markdown_table(
            ["phenomenon", *keys], [[k, *(f"{v[x]}" for x in keys)] for k, v in parts]
        )
        text = (
            f"{result['episodes']} instructions written by hand over ten fixed scenes "
            f"(`{path.relative_to(HAND.parents[2])}`), detector boxes, questions answered as "
            f"written:\n\n{table}"
        )
        report.add(title, text)


SNR = 20.0  # dB of white noise under the speech


def spoken(
    report: Report,
    folder: Path,
    eps: list[episodes.Episode],
    model: Any,
    detector: Any,
) -> None:
    """The same episodes spoken by the held-out test voices at 20 dB SNR and transcribed by the
    default recogniser (trained on first use) beside them typed, all without the arm (a little of it
    shows in the camera's image when it runs); the system's questions saved as speech."""
    metrics = asr_train.train_asr()
    recogniser = asr_models.load()
    ears = Ears(recogniser, speech.HELD_OUT_VOICES, SNR)
    heard, rows = evaluate.run(eps, model, detector, ears=ears)
    lines = []
    for r, e in zip(rows, eps, strict=True):
        assert r.heard is not None
        wav = "-"
        if r.question:
            path = speech.save(r.question, folder / f"{e.id}-question.wav")
            wav = f"[{path.name}]({path.relative_to(report.out).as_posix()})"
        lines.append([e.id, r.heard.voice, e.instruction, r.heard.instruction, wav,
                      _yes(r.final_ok)])  # fmt: skip
    table = markdown_table(
        ["episode", "voice", "said", "heard", "question (WAV)", "right at end"], lines
    )
    said = [dict(zip(("episode", "voice", "said", "heard"), line, strict=False)) for line in lines]
    report.result("picking.spoken", {**heard, "transcripts": said})
    keys = ("target_accuracy", "target_accuracy_clarified", "destination_accuracy")
    runs = [
        ("typed", evaluate.run(eps, model, detector)[0]),
        (f"spoken ({recogniser.name})", heard),
        ("typed, a person answers", evaluate.run(eps, model, detector, person=True)[0]),
        (f"spoken ({recogniser.name}), a person answers",
         evaluate.run(eps, model, detector, ears=ears, person=True)[0]),
    ]  # fmt: skip
    compare = markdown_table(
        ["input", *keys, "lost: unanswered question / decided wrongly", "WER",
         "recognition p50 ms", "real-time factor"],
        [
            [name, *(f"{r[k]:.3f}" for k in keys), f"{r['lost_unanswered']} / {r['lost_decided']}",
             *_speech(r)]
            for name, r in runs
        ],
    )  # fmt: skip
    held = markdown_table(
        ["backend", "WER", "p50 ms", "real-time factor"],
        [[k, f"{v['wer']:.3f}", f"{v['ms_p50']}", f"{v['rtf']}"]
         for k, v in metrics["heldout_20db"].items()],
    )  # fmt: skip
    text = (
        f"The same {len(eps)} episodes, spoken by voices the recogniser never heard "
        f"({', '.join(speech.HELD_OUT_VOICES)}) with white noise at {SNR:.0f} dB SNR. Both "
        f"recognisers on the held-out check set of `train-asr`:\n\n{held}\n\n{compare}\n\n"
        "Most generated episodes carry no answer, so a question they raise goes unanswered; in "
        "the rows where a person answers, a simulated person who knows the target answers every "
        f"such question (aloud, in the episode's voice, when the episode is spoken).\n\n{table}"
    )
    report.add("picking: spoken instructions", text)


def _speech(r: dict[str, Any]) -> tuple[str, str, str]:
    """WER, recognition p50 and real-time factor of a heard run; dashes for a typed one."""
    if "wer" not in r:
        return ("-", "-", "-")
    return f"{r['wer']:.3f}", f"{r['asr_ms_p50']}", f"{r['rtf']}"


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"
