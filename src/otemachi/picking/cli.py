"""Command line for otemachi.picking: render scenes, run the arm, generate datasets."""

import json
from pathlib import Path

import typer
from PIL import Image
from rich.table import Table

from otemachi.core import files
from otemachi.core.errors import InvalidInput
from otemachi.core.options import SEED_MAX
from otemachi.core.progress import console
from otemachi.picking import (
    audio,
    data,
    detect,
    dialog,
    episodes,
    hearing,
    listen,
    model,
    plots,
    scenes,
    speech,
    train,
)  # fmt: skip
from otemachi.picking import evaluate as evaluate_
from otemachi.picking.asr import Transcript
from otemachi.picking.asr import models as asr_models
from otemachi.picking.asr import train as asr_train
from otemachi.picking.world import BOXES

app = typer.Typer(help="A simulated arm picks tabletop objects from spoken or typed instructions.")
IMAGES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")  # what --out images may be saved as


def _spec(spec: Path | None, seed: int | None) -> scenes.SceneSpec:
    if (spec is None) == (seed is None):
        raise InvalidInput("give exactly one of --spec FILE or --seed N")
    if spec is not None:
        return scenes.load_spec(spec)
    return scenes.seeded(seed or 0)


@app.command()
def scene(
    spec: Path = typer.Option(None, "--spec", help="Scene spec JSON."),
    seed: int = typer.Option(
        None, "--seed", min=0, max=SEED_MAX, help="Random scene from this seed."
    ),
    out: Path = typer.Option(Path("scene.png"), "--out", help="PNG to write."),
) -> None:
    """Render a scene from the top-down camera."""
    files.output_file(out, suffixes=IMAGES)
    if seed is not None:  # the random scene's spec is saved beside the image
        files.output_file(out.with_suffix(".json"))
    s = _spec(spec, seed)
    with scenes.Scene(s) as world:
        Image.fromarray(world.render().rgb).save(out)
    if seed is not None:
        out.with_suffix(".json").write_text(json.dumps(s.to_dict(), indent=1))
    console.print(f"rendered {len(s.objects)} objects to {out}")


@app.command()
def pick(
    spec: Path = typer.Option(..., "--spec", help="Scene spec JSON."),
    obj: str = typer.Option(..., "--object", help="Id of the object to move."),
    box: str = typer.Option(..., "--box", help=f"Destination: {', '.join(BOXES)}."),
    out: Path = typer.Option(Path("pick"), "--out", help="Folder for before/after images."),
) -> None:
    """Pick an object with the arm and place it in a box; says whether it worked."""
    box = box.lower()
    if box not in BOXES:
        raise InvalidInput(f"--box must be one of {list(BOXES)}, got {box!r}")
    files.output_folder(out)
    s = scenes.load_spec(spec)
    s.by_id(obj)
    out.mkdir(parents=True, exist_ok=True)
    with scenes.Scene(s, robot=True) as world:
        Image.fromarray(world.render().rgb).save(out / "before.png")
        assert world.robot is not None
        result = world.robot.pick_and_place(world.bodies[obj], box)
        Image.fromarray(world.render().rgb).save(out / "after.png")
        rests = world.box_of(obj)
    verdict = "succeeded" if result.ok else f"FAILED ({result.failure}: {result.detail})"
    console.print(f"pick {obj} -> {box}: {verdict}; it now rests in {rests or 'no box'}")
    console.print(f"images: {out / 'before.png'}, {out / 'after.png'}")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", help="Dataset folder, or the episodes JSONL file."),
    n_scenes: int = typer.Option(None, "--scenes", min=1, help="Write a PFN-PIC-style dataset."),
    n_episodes: int = typer.Option(None, "--episodes", min=1, help="Write an episodes file."),
    holdout: str = typer.Option(
        "",
        "--holdout-templates",
        help="Comma list of templates or phrasings to mark unseen; 'default': those the "
        "grounding model never trained on.",
    ),
    templates: str = typer.Option(
        "all",
        "--templates",
        help=f"Comma list of templates for --episodes, of {', '.join(episodes.TEMPLATES)}; "
        "'all', or 'basic' (the first five).",
    ),
    seed: int = typer.Option(0, "--seed", min=0, max=SEED_MAX, help="Seed."),
) -> None:
    """Generate a PFN-PIC-style dataset (--scenes) or an episodes file (--episodes)."""
    if (n_scenes is None) == (n_episodes is None):
        raise InvalidInput("give exactly one of --scenes N or --episodes N")
    if n_scenes is not None:
        files.output_folder(out)
        counts = data.generate(out, n_scenes, seed)
        console.print(f"wrote {counts} to {out}")
        return
    if holdout.strip() == "default":
        held = frozenset(model.HOLDOUT)
    else:
        held = frozenset(t.strip() for t in holdout.split(",") if t.strip())
    files.output_file(out)
    named = {"all": episodes.TEMPLATES, "basic": episodes.BASIC_TEMPLATES}
    chosen = named.get(templates.strip()) or tuple(t.strip() for t in templates.split(","))
    made = episodes.make(n_episodes, seed, held, chosen)
    episodes.write(made, out)
    unseen = sum(e.split == "unseen" for e in made)
    console.print(f"wrote {len(made)} episodes ({unseen} with held-out phrasing) to {out}")


RETRAIN = typer.Option(False, "--retrain", help="Train anew and replace the stored model.")
ASR_DEFAULT = asr_train.ASRConfig()
ASR = typer.Option(
    None, "--asr", help="Speech recogniser: rnn or pocketsphinx (default: the better one)."
)


@app.command("train-detector")
def train_detector(
    train_scenes: int = typer.Option(240, "--train-scenes", min=1, help="Training scenes."),
    epochs: int = typer.Option(12, "--epochs", min=1, help="Training epochs."),
    seed: int = typer.Option(0, "--seed", min=0, max=SEED_MAX, help="Seed."),
    retrain: bool = RETRAIN,
) -> None:
    """Train (or load the stored) SSD detector and report its mAP@0.5 on held-out scenes."""
    cfg = detect.DetectorConfig(train_scenes=train_scenes, epochs=epochs, seed=seed)
    _, metrics = train.detector(cfg, retrain)
    console.print(
        f"detector mAP@0.5 on {cfg.test_scenes} held-out scenes: {metrics['map50_heldout']:.3f}"
    )


def _models(oracle: bool) -> tuple[model.Grounder, detect.SSD | None]:
    """The stored models; a missing one is an error naming `otemachi picking train`."""
    return model.load(), None if oracle else detect.load()[0]


@app.command("train")
def train_all(retrain: bool = RETRAIN) -> None:
    """Train (or load the stored) detector and grounding model; print their held-out metrics."""
    _, det = train.detector(retrain=retrain)
    grounder = train.grounder(retrain=retrain)
    console.print(f"detector mAP@0.5 held out: {det['map50_heldout']:.3f}")
    for k, v in sorted(grounder.metrics.items()):
        console.print(f"grounder {k}: {v:.3f}")


@app.command("train-asr")
def train_asr(
    utterances: int = typer.Option(
        ASR_DEFAULT.utterances, "--utterances", min=10, help="Training utterances."
    ),
    epochs: int = typer.Option(ASR_DEFAULT.epochs, "--epochs", min=1, help="Training epochs."),
    sentences: int = typer.Option(
        ASR_DEFAULT.sentences, "--sentences", min=10, help="Scenes the corpus and LM come from."
    ),
    checks: int = typer.Option(
        ASR_DEFAULT.checks, "--checks", min=5, help="Held-back test sentences."
    ),
    seed: int = typer.Option(0, "--seed", min=0, max=SEED_MAX, help="Seed."),
    retrain: bool = RETRAIN,
) -> None:
    """Build the domain language model and train the recurrent recogniser (or load the stored
    ones); print both backends' WER on held-out voices at 20 dB SNR."""
    cfg = asr_train.ASRConfig(
        sentences=sentences, utterances=utterances, checks=checks, epochs=epochs, seed=seed
    )
    metrics = asr_train.train_asr(cfg, retrain)
    table = Table("backend", "WER", "p50 ms", "p95 ms", "real-time factor")
    for name, m in metrics["heldout_20db"].items():
        table.add_row(name, f"{m['wer']:.3f}", f"{m['ms_p50']}", f"{m['ms_p95']}", f"{m['rtf']}")
    console.print(table)
    console.print(f"default backend: {metrics['default']} (lower WER on held-out voices)")


@app.command()
def transcribe(
    paths: list[Path] = typer.Argument(..., help="Audio files: WAV, FLAC or OGG."),
    asr: str = ASR,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per file."),
) -> None:
    """Print what the speech recogniser hears in each file, with confidences."""
    recogniser = asr_models.load(asr)
    for path in paths:
        got = recogniser.transcribe(audio.read(path))
        if as_json:
            print(json.dumps({"file": str(path), **got.to_dict()}))
        else:
            console.print(f'{path}: "{got.text}" ({got.confidence:.2f}, {got.ms:.0f} ms)')


@app.command()
def evaluate(
    path: Path = typer.Option(..., "--episodes", help="Episodes JSONL file."),
    no_clarify: bool = typer.Option(False, "--no-clarify", help="Never ask a question."),
    oracle: bool = typer.Option(False, "--oracle-boxes", help="Ground-truth boxes, no detector."),
    execute: bool = typer.Option(False, "--execute", help="Run the robot on every decision."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object only."),
    asr: str = ASR,
    speak: str = typer.Option(
        "",
        "--speak",
        help="Comma list of espeak-ng voices that speak episodes without audio "
        "('test': the voices speech recognition never trained on).",
    ),
    snr: float = typer.Option(None, "--snr", help="Add white noise at this SNR (dB) to speech."),
    person: bool = typer.Option(
        False,
        "--person",
        help="A simulated person who knows the target answers the questions an episode has no "
        "answer to (spoken in the episode's voice when it is heard).",
    ),
) -> None:
    """Run the whole pipeline on every episode of a file and report accuracy and latency. Episodes
    with audio, or any with --speak, are heard through speech recognition."""
    eps = list(episodes.read(path))
    if not eps:
        raise InvalidInput(f"{path} holds no episodes")
    voices = speech.voices(speak)
    ears = None
    if voices or any(hearing.has_audio(e) for e in eps):
        ears = hearing.Ears(asr_models.load(asr), voices, snr)
    elif asr is not None or snr is not None:
        raise InvalidInput("--asr and --snr apply to speech: add --speak VOICES, or give "
                           "episodes with audio")  # fmt: skip
    grounder, det = _models(oracle)
    result, _ = evaluate_.run(eps, grounder, det, not no_clarify, execute, ears, person)
    if as_json:
        print(json.dumps(result))
        return
    table = Table("measure", *result["by_split"], "all")
    for key in ("target_accuracy", "target_accuracy_clarified", "destination_accuracy"):
        table.add_row(
            key, *(f"{s[key]:.3f}" for s in result["by_split"].values()), f"{result[key]:.3f}"
        )
    console.print(table)
    console.print(
        f"{result['episodes']} episodes, {result['questions_asked']} questions asked; lost "
        f"{result['lost_unanswered']} after a question with no answer, "
        f"{result['lost_decided']} decided wrongly; "
        + (f"{result['person_answers']} answers by the simulated person; " if person else "")
        + f"latency p50 {result['latency_ms_p50']} ms, p95 {result['latency_ms_p95']} ms"
        + (f", pick-and-place {result['pick_place_success']:.3f}" if execute else "")
    )
    if ears is not None:
        console.print(
            f"speech: WER {result['wer']}, answers {result['wer_clarification']}, recognition "
            f"p50 {result['asr_ms_p50']} ms, real-time factor {result['rtf']}"
        )


@app.command()
def run(
    instruction: str = typer.Argument(None, help='e.g. "move the red cup to the top left box"'),
    said: Path = typer.Option(None, "--audio", help="The instruction spoken: WAV, FLAC or OGG."),
    asr: str = ASR,
    spec: Path = typer.Option(None, "--spec", help="Scene spec JSON."),
    seed: int = typer.Option(
        None, "--seed", min=0, max=SEED_MAX, help="Random scene from this seed."
    ),
    execute: bool = typer.Option(False, "--execute", help="Run the robot on the decision."),
    interactive: bool = typer.Option(False, "--interactive", help="Keep taking instructions."),
    oracle: bool = typer.Option(False, "--oracle-boxes", help="Ground-truth boxes, no detector."),
    out: Path = typer.Option(Path("decision.png"), "--out", help="Image with the decision marked."),
) -> None:
    """Decide what an instruction (typed, or spoken with --audio) means in a scene, asking on the
    terminal when unsure. Questions are also spoken into a WAV beside --out. With --interactive,
    each turn and each answer may be typed text or the path of an audio file."""
    if (instruction is None) == (said is None):
        raise InvalidInput("give exactly one of an instruction or --audio FILE")
    files.output_file(out, suffixes=IMAGES)
    s = _spec(spec, seed)
    ears = listen.Listener(asr, out.with_suffix(".question.wav"))
    samples = None
    if said is not None:  # a bad file or a missing recogniser is named before the scene is built
        samples = audio.read(said)
        ears.recogniser()
    grounder, det = _models(oracle)
    with scenes.Scene(s, robot=execute) as world:
        picker = dialog.Picker(world, grounder, det, oracle)
        hints = picker.hints()
        if samples is None:
            got: Transcript | None = Transcript.typed(instruction)
        else:
            got = ears.transcribe(samples, hints)
            if not got.text.strip():
                raise InvalidInput(f"nothing was heard in {said}; say what to move and where")
        while got is not None:
            if got.doubtful:
                console.print("the transcript is doubtful: the robot asks before it acts")
            picker.instruct(got.text, doubtful=got.doubtful, readings=got.readings)
            d = picker.clarify(lambda q: ears.said(ears.ask(q, _prompt), hints))
            plots.mark(world.render().rgb, d.box, d.destination, got.text).save(out)
            console.print(
                f"target {d.target} (p={d.confidence:.2f}) -> {d.destination}; image: {out}"
            )
            if execute:
                result = picker.execute()
                console.print("placed" if result.ok else f"FAILED ({result.failure})")
            turn = _prompt("next instruction (empty to stop)") if interactive else ""
            got = ears.said(turn, hints) if turn.strip() else None
            if got is not None and not got.text.strip():
                raise InvalidInput(f"nothing was heard in {turn.strip()}")


def _prompt(question: str) -> str:
    """A line from the terminal; end of input counts as an empty line."""
    try:
        return str(typer.prompt(question, default="", show_default=False))
    except typer.Abort:
        return ""
