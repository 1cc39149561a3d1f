"""Command line for otemachi.signatures: synthesize corpora, build the base, evaluate."""

import json
from pathlib import Path

import typer
from rich.table import Table

from otemachi.core import files, options
from otemachi.core.progress import console
from otemachi.signatures import base, data, evaluate, oneclass, train
from otemachi.signatures.evaluate import KEYS, EvalConfig

app = typer.Typer(help="Offline signature verification from 1-5 references per person.")


@app.command()
def synth(
    writers: int = typer.Option(..., "--writers", min=1, help="Number of writers."),
    genuine: int = typer.Option(10, "--genuine", min=1, help="Genuine signatures per writer."),
    forgeries: int = typer.Option(5, "--forgeries", min=0, help="Skilled forgeries per writer."),
    out: Path = typer.Option(..., "--out", help="Folder to write DIR/<writer>/{genuine,forged}/."),
    seed: int = typer.Option(0, "--seed", min=0, max=options.SEED_MAX, help="Seed of the corpus."),
) -> None:
    """Write a synthetic corpus in the generic folder layout."""
    files.output_folder(out)
    corpus = data.SynthDataset(writers, genuine, forgeries, seed, prefix="w")
    console.print(f"wrote {data.write(corpus, out)} images to {out}")


# Which base: the same three options on every command that trains or loads one.
DEV_WRITERS = typer.Option(400, "--dev-writers", min=10, help="Base: development writers.")
CALIB_WRITERS = typer.Option(40, "--calib-writers", min=2, help="Base: calibration writers.")
EPOCHS = typer.Option(12, "--epochs", min=1, help="Base: training epochs.")


def _base_config(dev_writers: int, calib_writers: int, epochs: int) -> base.BaseConfig:
    return base.BaseConfig(dev_writers=dev_writers, calib_writers=calib_writers, epochs=epochs)


@app.command("train")
def train_cmd(
    dev_writers: int = DEV_WRITERS,
    calib_writers: int = CALIB_WRITERS,
    epochs: int = EPOCHS,
    retrain: bool = typer.Option(
        False, "--retrain", help="Train anew and replace the stored base."
    ),
) -> None:
    """Train (or load the stored) base network and calibrate the global thresholds."""
    b = train.base(_base_config(dev_writers, calib_writers, epochs), retrain)
    console.print(
        f"base {b.version}: {len(b.seen_writers)} development writers, thresholds calibrated"
    )


@app.command("evaluate")
def evaluate_cmd(
    data_name: str = typer.Option(
        "synth", "--data", help="synth, or a folder (generic or CEDAR layout)."
    ),
    refs: str = typer.Option(
        "1,2,5", "--refs", help="Numbers of references, comma-separated (1-5)."
    ),
    method: str = typer.Option("all", "--method", help="ocnn, svdd, svm, a comma list, or all."),
    out: Path = typer.Option(
        Path("signatures-eval"), "--out", help="Folder for plots and results.json."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    writers: int = typer.Option(100, "--writers", min=2, help="Synthetic evaluation writers."),
    dev_writers: int = DEV_WRITERS,
    calib_writers: int = CALIB_WRITERS,
    epochs: int = EPOCHS,
) -> None:
    """EER, AUC, FAR and FRR per method and number of references, on writers the base never saw."""
    methods = options.choices(method, list(oneclass.METHODS), "method(s)")
    counts = options.ints(refs, "--refs", 1, base.MAX_REFS)
    files.output_folder(out)
    dataset = evaluate.evaluation_data(data_name, writers)
    b = base.load(_base_config(dev_writers, calib_writers, epochs))
    result, figures = evaluate.run(b, dataset, EvalConfig(tuple(counts), tuple(methods)), out)
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    table = Table(
        "method", "refs", *KEYS, title=f"{result.writers} unseen writers (skilled forgeries)"
    )
    for row in evaluate.rows(result):
        table.add_row(*row)
    console.print(table)
    for path in [*figures, out / "results.json"]:
        console.print(f"saved {path}")
