"""Command line for otemachi.signatures: synthesize corpora, build the base, evaluate."""

import json
from dataclasses import replace
from pathlib import Path

import typer
from rich.table import Table

from otemachi.core import files, options
from otemachi.core.errors import InvalidInput
from otemachi.core.progress import console
from otemachi.signatures import base, bulk, data, evaluate, migrate, oneclass, service, train
from otemachi.signatures.evaluate import KEYS, EvalConfig
from otemachi.signatures.store import open_store

app = typer.Typer(help="Offline signature verification from 1-5 references per person.")
users_app = typer.Typer(help="The enrolled people in a store.")
keys_app = typer.Typer(help="API keys of the HTTP service (only their digests are stored).")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
STORE = typer.Option(
    None, "--store", help="SQLite file or postgresql://...; default: SQLite under OTEMACHI_HOME."
)
JSON = typer.Option(False, "--json", help="Print one JSON object.")
METHOD = typer.Option("svdd", "--method", help="Per-person model: ocnn, svdd or svm.")


@app.command()
def synth(
    writers: int = typer.Option(..., "--writers", min=1, help="Number of writers."),
    genuine: int = typer.Option(10, "--genuine", min=1, help="Genuine signatures per writer."),
    forgeries: int = typer.Option(5, "--forgeries", min=0, help="Skilled forgeries per writer."),
    out: Path = typer.Option(..., "--out", help="Folder to write DIR/<writer>/{genuine,forged}/."),
    seed: int = typer.Option(0, "--seed", min=0, max=options.SEED_MAX, help="Seed of the corpus."),
    generator: str = typer.Option(
        "lognormal",
        "--generator",
        help="lognormal (the one bases learn from) or oscillator (an independent one; "
        "oscillator-freehand, oscillator-traced: with one kind of forgery).",
    ),
) -> None:
    """Write a synthetic corpus in the generic folder layout."""
    kind = options.one(generator, list(data.GENERATORS), "--generator")
    files.output_folder(out)
    corpus = data.SynthDataset(writers, genuine, forgeries, seed, prefix="w", generator=kind)
    console.print(f"wrote {data.write(corpus, out)} images to {out}")


# Which base: the same three options on every command that trains or loads one.
DEV_WRITERS = typer.Option(400, "--dev-writers", min=10, help="Base: development writers.")
CALIB_WRITERS = typer.Option(40, "--calib-writers", min=2, help="Base: calibration writers.")
EPOCHS = typer.Option(12, "--epochs", min=1, help="Base: training epochs.")
WIDE = typer.Option(
    0.0,
    "--wide",
    min=0.0,
    max=1.0,
    help="Base: the share of development writers drawn with wider hands, pens, papers and "
    "scanners than the first generator's.",
)
SCANS = typer.Option(
    base.BaseConfig.scans,
    "--scans",
    help="Base: plain (the first generator's pen, paper and scanner), both (every development "
    "signature also scanned again on wider pens, papers and scanners) or wide (only that).",
)


def _base_config(
    dev_writers: int,
    calib_writers: int,
    epochs: int,
    wide: float = 0.0,
    scans: str = base.BaseConfig.scans,
) -> base.BaseConfig:
    return base.BaseConfig(
        dev_writers=dev_writers, calib_writers=calib_writers, epochs=epochs, wide=wide,
        scans=scans,
    )  # fmt: skip


@app.command("train")
def train_cmd(
    dev_writers: int = DEV_WRITERS,
    calib_writers: int = CALIB_WRITERS,
    epochs: int = EPOCHS,
    wide: float = WIDE,
    scans: str = SCANS,
    seed: int = typer.Option(
        0, "--seed", min=0, max=options.SEED_MAX, help="Seed: another seed, another base."
    ),
    retrain: bool = typer.Option(
        False, "--retrain", help="Train anew and replace the stored base."
    ),
) -> None:
    """Train (or load the stored) base network and calibrate the global thresholds. A base
    built with other settings is stored beside the others, with its own version."""
    cfg = replace(_base_config(dev_writers, calib_writers, epochs, wide, scans), seed=seed)
    b = train.base(cfg, retrain)
    console.print(
        f"base {b.version}: {len(b.seen_writers)} writers used to build it, thresholds calibrated"
    )


@app.command("evaluate")
def evaluate_cmd(
    data_name: str = typer.Option(
        "synth",
        "--data",
        help="synth (the base's generator), oscillator (an independent one; "
        "oscillator-freehand, oscillator-traced: its writers with one kind of forgery), tune "
        "(writers of the base's generator for choosing settings; tune-wide: the same scanned "
        "on wider pens, papers and scanners; the others are for reporting only), or a folder "
        "(generic or CEDAR layout).",
    ),
    refs: str = typer.Option(
        "1,2,5", "--refs", help="Numbers of references, comma-separated (1-5)."
    ),
    method: str = typer.Option(
        "all",
        "--method",
        help="ocnn, svdd, svm, a comma list, or all (the HOG baseline always runs).",
    ),
    out: Path = typer.Option(
        Path("signatures-eval"), "--out", help="Folder for plots and results.json."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    writers: int = typer.Option(100, "--writers", min=2, help="Synthetic evaluation writers."),
    augment: bool = typer.Option(
        False, "--augment", help="Also each method with augmented views of the references."
    ),
    dev_writers: int = DEV_WRITERS,
    calib_writers: int = CALIB_WRITERS,
    epochs: int = EPOCHS,
    wide: float = WIDE,
    scans: str = SCANS,
) -> None:
    """EER, AUC, FAR and FRR per method and number of references, on writers the base never saw."""
    methods = options.choices(method, list(oneclass.METHODS), "method(s)")
    counts = options.ints(refs, "--refs", 1, base.MAX_REFS)
    files.output_folder(out)
    dataset = evaluate.evaluation_data(data_name, writers)
    b = base.load(_base_config(dev_writers, calib_writers, epochs, wide, scans))
    cfg = EvalConfig(tuple(counts), tuple(methods), augment=augment)
    result, figures = evaluate.run(b, dataset, cfg, out)
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


def _read(paths: list[Path]) -> list[bytes]:
    for p in paths:
        if not p.is_file():
            raise InvalidInput(f"{p}: no such image file")
    return [p.read_bytes() for p in paths]


@app.command()
def enroll(
    user_id: str = typer.Argument(..., help="The person's id (letters, digits, . _ -)."),
    images: list[Path] = typer.Argument(..., help="1-5 genuine reference scans."),
    method: str = METHOD,
    keep_images: bool = typer.Option(
        False, "--keep-images", help="Keep the scans in the store (lets a new base re-fit)."
    ),
    store: str | None = STORE,
    as_json: bool = JSON,
    dev_writers: int = DEV_WRITERS,
    calib_writers: int = CALIB_WRITERS,
    epochs: int = EPOCHS,
) -> None:
    """Enrol (or re-enrol) a person from 1-5 genuine signatures."""
    options.one(method, list(oneclass.METHODS), "--method")
    b = base.load(_base_config(dev_writers, calib_writers, epochs))
    record = service.enroll(b, open_store(store), user_id, _read(images), method, keep_images)
    doc = {"user_id": user_id, "method": method, "n_refs": record.model.n_refs,
           "base_version": b.version}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(doc))
        return
    console.print(f"enrolled {user_id} ({method}, {len(images)} references, base {b.version})")


@app.command()
def verify(
    user_id: str = typer.Argument(..., help="The person's id."),
    image: Path = typer.Argument(..., help="The signature to check."),
    store: str | None = STORE,
    as_json: bool = JSON,
    dev_writers: int = DEV_WRITERS,
    calib_writers: int = CALIB_WRITERS,
    epochs: int = EPOCHS,
) -> None:
    """Genuine or forged: the score against the person's threshold."""
    b = base.load(_base_config(dev_writers, calib_writers, epochs))
    v = service.verify(b, open_store(store), user_id, _read([image])[0], older=base.load_version)
    if as_json:
        typer.echo(json.dumps(v.to_json()))
        return
    word = "GENUINE" if v.genuine else "FORGED"
    console.print(f"{word}: score {v.score:.4f}, threshold {v.threshold:.4f} ({v.method})")


@app.command("bulk-enroll")
def bulk_enroll(
    source: Path = typer.Argument(
        ..., help="Parquet of (user_id, image_path) or (user_id, embedding), a row per reference."
    ),
    method: str = METHOD,
    engine: str = typer.Option("local", "--engine", help="local (multiprocessing) or spark."),
    master: str = typer.Option("local[*]", "--master", help="Spark master URL (--engine spark)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Local worker processes."),
    batch: int = typer.Option(2000, "--batch", min=1, max=100_000, help="People per batch."),
    store: str | None = STORE,
    as_json: bool = JSON,
    dev_writers: int = DEV_WRITERS,
    calib_writers: int = CALIB_WRITERS,
    epochs: int = EPOCHS,
) -> None:
    """Enrol many people at once; a re-run resumes where a killed run stopped."""
    options.one(method, list(oneclass.METHODS), "--method")
    options.one(engine, ["local", "spark"], "--engine")
    cfg = _base_config(dev_writers, calib_writers, epochs)
    b = base.load(cfg)
    job, users = bulk.job_for(b, cfg, method), open_store(store)
    if engine == "spark":
        session = bulk.spark_session(master)
        try:
            summary = bulk.run_spark(source, users, job, session, batch)
        finally:
            session.stop()
    else:
        summary = bulk.run_local(bulk.read_input(source), users, job, batch, workers)
    doc = {"enrolled": summary.enrolled, "skipped": summary.skipped,
           "rejected": len(summary.rejected), "seconds": round(summary.seconds, 2)}  # fmt: skip
    if as_json:
        typer.echo(json.dumps({**doc, "reasons": summary.rejected}))
        return
    console.print(", ".join(f"{k} {v}" for k, v in doc.items()))
    for uid, reason in list(summary.rejected.items())[:5]:
        console.print(f"  rejected {uid}: {reason}", highlight=False)


@app.command()
def bases() -> None:
    """The stored bases: version and the settings that built each."""
    for version, cfg in base.stored().items():
        console.print(f"{version}  dev_writers={cfg.dev_writers} calib_writers={cfg.calib_writers} "
                      f"epochs={cfg.epochs} views={cfg.views} seed={cfg.seed}",
                      highlight=False)  # fmt: skip


@app.command("migrate")
def migrate_cmd(
    to: str = typer.Option(..., "--to", help="Version of the new base (see `bases`)."),
    batch: int = typer.Option(256, "--batch", min=1, max=100_000, help="People per transaction."),
    store: str | None = STORE,
    as_json: bool = JSON,
) -> None:
    """Re-fit everyone on another base onto base VERSION from their kept images; list those
    who must enrol again (no images kept)."""
    result = migrate.migrate(open_store(store), base.load_version(to), batch)
    if as_json:
        typer.echo(json.dumps(vars(result)))
        return
    console.print(f"migrated {result.migrated} to base {to}; "
                  f"{len(result.needs_enrolment)} need re-enrolment (no images kept), "
                  f"{len(result.failed)} failed")  # fmt: skip
    for uid in result.needs_enrolment[:20]:
        console.print(f"  re-enrol {uid}", highlight=False)


@users_app.command("list")
def users_list(
    after: str = typer.Option("", "--after", help="List ids after this one."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="How many ids."),
    store: str | None = STORE,
    as_json: bool = JSON,
) -> None:
    """Enrolled user ids in order."""
    s = open_store(store)
    ids = s.users(after, limit)
    if as_json:
        typer.echo(json.dumps({"users": ids, "total": s.count()}))
        return
    console.print("\n".join(ids) or "no users", highlight=False)
    console.print(f"{len(ids)} shown of {s.count()} enrolled in {s.where}")


@users_app.command("show")
def users_show(user_id: str, store: str | None = STORE) -> None:
    """A person's record: method, references, threshold, base version, enrolment time."""
    typer.echo(json.dumps(service.describe(open_store(store), user_id)))


@users_app.command("delete")
def users_delete(user_id: str, store: str | None = STORE) -> None:
    """Remove a person's record and images."""
    service.delete(open_store(store), user_id)
    console.print(f"deleted {user_id}")


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument(..., help="Who the key is for."), store: str | None = STORE
) -> None:
    """Make an API key. It is printed once: the store keeps only its digest."""
    typer.echo(open_store(store).create_key(name))


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="The key's id (from `keys list`)."),
                store: str | None = STORE) -> None:  # fmt: skip
    """Revoke an API key at once."""
    open_store(store).revoke_key(key_id)
    console.print(f"revoked {key_id}")


@keys_app.command("list")
def keys_list(store: str | None = STORE) -> None:
    """Key ids, names, and when they were made or revoked."""
    typer.echo(json.dumps(open_store(store).api_keys()))
