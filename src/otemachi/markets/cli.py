"""Command line for otemachi.markets: bundled data, walk-forward backtests, training, streaming."""

import contextlib
import json
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from otemachi.core import files, options
from otemachi.core.errors import InvalidInput
from otemachi.core.progress import console
from otemachi.markets import (
    challenger,
    data,
    evaluate,
    panel,
    redis_bus,
    registry,
    runner,
    sources,
    stream,
    train,
)
from otemachi.markets.model import RNNConfig
from otemachi.markets.worker import Worker

app = typer.Typer(help="Probabilistic multi-horizon market forecasts from streaming bars.")
data_app = typer.Typer(help="Bundled datasets.")
app.add_typer(data_app, name="data")
models_app = typer.Typer(help="Stored forecasters and the champion that streams use.")
app.add_typer(models_app, name="models")

ALL = [m for m in evaluate.MODELS if m not in ("lstm", "gru-ens", "gru-anchored")]
PANEL_ALL = ["global", "global-mix", "ewma", "garch", "garch-t"]  # a panel backtest's "all"
# Options shared by the commands that read a series and fit networks on it.
DATA = typer.Option(..., "--data", help=f"{', '.join(data.DATASETS)} or a CSV/Parquet path.")
SYMBOL = typer.Option(None, "--symbol", help="Symbol to pick when the file has a symbol column.")
HORIZONS = typer.Option("1,5,20", "--horizons", help="Horizons in bars, comma-separated.")
SEED = typer.Option(0, "--seed", min=0, max=options.SEED_MAX, help="Seed for network training.")


def _bars(data_name: str, symbol: str | None) -> pd.DataFrame:
    """The validated bars, with what validation changed said in one line."""
    bars, report = data.load(data_name, symbol)
    if not report.clean:
        console.print(f"[yellow]validation:[/yellow] {report.summary()}")
    return bars


def _names(data_name: str) -> list[str]:
    """The series named by --data (one, or a comma list), each once."""
    names = [n.strip() for n in data_name.split(",") if n.strip()]
    if len(set(names)) < len(names):
        raise InvalidInput(f"--data names a series twice: {data_name}")
    return names


@data_app.command("list")
def data_list() -> None:
    """Show the datasets bundled offline inside installed packages, with their date ranges."""
    table = Table("name", "frequency", "bars", "first", "last", "description")
    for name, ds in data.DATASETS.items():
        bars, _ = data.load(name)
        first, last = (f"{t:%Y-%m-%d}" for t in (bars.index[0], bars.index[-1]))
        table.add_row(name, ds.frequency, f"{len(bars):,}", first, last, ds.description)
    console.print(table)


@app.command("backtest")
def backtest_cmd(
    data_name: str = DATA,
    symbol: str = SYMBOL,
    model: str = typer.Option(
        "all",
        "--model",
        help="gru, gru-anchored, gru-ens (3 seeds), lstm, rw, ewma, garch, garch-t, gbm, a comma "
        "list, or all (all but lstm, gru-anchored and gru-ens). With several --data: also "
        "global, global-anchored, transfer, global-mix and transfer-mix (the network and the "
        "series' GARCH-t averaged in quantile space), global with one part added for an ablation "
        "(global-sched: the learning rate halves after a stale epoch; global-vol: GARCH-t's "
        "volatility as inputs; global-emb: a learned vector per series; global-ens: 3 seeds) "
        "or all of them (global-all); there all is global,global-mix,ewma,garch,garch-t.",
    ),
    horizons: str = HORIZONS,
    out: Path = typer.Option(
        Path("markets-backtest"), "--out", help="Folder for plots and results.json."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    seed: int = SEED,
) -> None:
    """Walk-forward backtest: every model refit on the same folds, scored out of sample.
    Several --data (a,b,c): one calendar fold schedule for every series, global models fit on
    all of them at once, each series scored on its own and the means over series."""
    hs = options.ints(horizons, "--horizons")
    names = _names(data_name)
    if len(names) > 1:
        _panel_backtest(names, symbol, model, hs, out, as_json, seed)
        return
    several = set(panel.NAMES) - set(evaluate.MODELS)  # the models fit on several series
    if found := [m.strip() for m in model.split(",") if m.strip() in several]:
        raise InvalidInput(f"{', '.join(found)}: fit on several series; give several --data a,b")
    models = options.choices(model, list(evaluate.MODELS), "model(s)", ALL)
    files.output_folder(out)
    bars = _bars(data_name, symbol)
    bt = evaluate.run(bars, models, hs, seed=seed)
    saved = evaluate.save(bt, data_name, out)
    if as_json:
        typer.echo(json.dumps(evaluate.to_json(bt, data_name)))
        return
    table = Table(
        "h",
        "model",
        *evaluate.HEADERS,
        title=f"{data_name}: {len(bt.origins)} out-of-sample origins",
    )
    for row in evaluate.rows(bt):
        table.add_row(*row)
    console.print(table)
    for line in evaluate.verdicts(bt.scores):
        console.print(line)
    for path in [*saved["figures"], *saved["results"], *saved["checkpoints"]]:
        console.print(f"saved {path}")


def _panel_backtest(
    names: list[str],
    symbol: str | None,
    model: str,
    hs: tuple[int, ...],
    out: Path,
    as_json: bool,
    seed: int,
) -> None:
    models = options.choices(model, panel.NAMES, "model(s)", PANEL_ALL)
    files.output_folder(out)
    result = panel.run({n: _bars(n, symbol) for n in names}, models, hs, seed=seed)
    saved = panel.save(result, out)
    if as_json:
        typer.echo(json.dumps(panel.to_json(result)))
        return
    for name, bt in result.backtests.items():
        table = Table("h", "model", *evaluate.HEADERS,
                      title=f"{name}: {len(bt.origins)} out-of-sample origins")  # fmt: skip
        for row in evaluate.rows(bt):
            table.add_row(*row)
        console.print(table)
    mean = Table("h", "model", "crps / rw", "crps bp", "cov80", "cov50",
                 title=f"mean over {len(result.backtests)} series")  # fmt: skip
    for h, scores in result.mean_scores().items():
        for m, s in scores.items():
            mean.add_row(str(h), m, f"{s['crps_vs_rw']:.4f}", f"{1e4 * s['crps']:.1f}",
                         f"{s['coverage80']:.3f}", f"{s['coverage50']:.3f}")  # fmt: skip
    console.print(mean)
    for path in saved:
        console.print(f"saved {path}")


@app.command("train")
def train_cmd(
    data_name: str = DATA,
    symbol: str = SYMBOL,
    cell: str = typer.Option("gru", "--model", help="gru or lstm."),
    horizons: str = HORIZONS,
    seed: int = SEED,
    retrain: bool = typer.Option(False, "--retrain", help="Train anew and replace a stored one."),
) -> None:
    """Train the forecaster on every bar of a series and store it (the live path loads it).
    Several --data (a,b,c): one global network on all of them, stored as global-<cell>."""
    cell = options.one(cell, ["gru", "lstm"], "--model")
    names = _names(data_name)
    cfg = RNNConfig(cell=cell, horizons=options.ints(horizons, "--horizons"))
    if len(names) > 1:
        many = {data.short_name(n): _bars(n, symbol) for n in names}
        if len(many) < len(names):
            raise InvalidInput(f"--data names two series with the same short name: {data_name}")
        setup = train.Setup(cfg, replace(train.GLOBAL_TRAIN, seed=seed))
        path, trained = train.train(many, "global", setup, retrain)
    else:
        setup = train.Setup(cfg, train.TrainConfig(seed=seed))
        path, trained = train.train(
            _bars(data_name, symbol), data.short_name(data_name), setup, retrain
        )
    console.print(f"{'trained and stored' if trained else 'already stored'}: {path}")


@app.command("stream")
def stream_cmd(
    source: str = typer.Option(
        "synthetic:50",
        "--source",
        help="replay:NAME|PATH (one or many symbols), synthetic:N symbols or ticks:PATH "
        "(CSV/Parquet: symbol, time, price, size).",
    ),
    model: Path = typer.Option(
        None, "--model", help="A forecaster checkpoint; default: the champion, or the newest."
    ),
    bars: int = typer.Option(None, "--bars", min=1, help="Stop after N bars per symbol."),
    speed: str = typer.Option("max", "--speed", help="Bar times per second, or max."),
    bar: str = typer.Option("1min", "--bar", help="Bar length for ticks: 1min, 5s, 1h..."),
    grace: str = typer.Option("0s", "--grace", help="How late a tick may come (ticks)."),
    bus: str = typer.Option(
        "memory", "--bus", help="memory (in this process) or redis://HOST:PORT."
    ),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes (Redis)."),
    shards: int = typer.Option(
        None, "--shards", min=1, max=1024, help="Symbol shards (Redis); default 2 per worker."
    ),
    out: Path = typer.Option(None, "--out", help="Write every forecast to this JSONL file."),
    as_json: bool = typer.Option(False, "--json", help="Print one summary object at the end."),
    retrain_every: int = typer.Option(
        None,
        "--retrain-every",
        min=1,
        help="Every N bars per symbol (at least 32), fine-tune a challenger on the bars seen "
        "(in the background) and promote it if it beats the champion on the newest ones.",
    ),
    seed: int = SEED,
) -> None:
    """Run the live pipeline: bars in, one calibrated forecast per bar out."""
    pace = sources.speed(speed)
    if bus != "memory":
        redis_bus.connect(bus)  # checks the URL before anything is loaded
    elif workers != 1:
        raise InvalidInput("--workers needs --bus redis://HOST:PORT; the memory bus has one")
    if out is not None:
        files.output_file(out, suffixes=(".jsonl",))
    feed = sources.open_feed(source, bars, seed, pace, bar, grace)
    for note in feed.notes:
        console.print(f"[yellow]validation:[/yellow] {note}", highlight=False)
    chosen = files.input_file(model, "checkpoint") if model is not None else None
    if chosen is not None and retrain_every is not None:
        raise InvalidInput("--retrain-every promotes new champions, which a stream pinned to "
                           "--model never uses: leave out one of them")  # fmt: skip
    path = chosen or registry.default_model(feed.dataset)
    net, version = train.load_version(path)
    messages, trainer = feed.messages, None
    if retrain_every is not None:
        trainer = challenger.Challenger(retrain_every, path)
        messages = trainer.tap(messages)
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if trainer is not None:  # on Ctrl-C or an error: stop a running contest
            stack.callback(trainer.close, False)
        sink = stack.enter_context(out.open("w")) if out is not None else None
        follow = None if chosen else registry.follow  # unpinned: swap to a new champion
        if bus == "memory":
            run = runner.in_process(
                messages, feed.total, net, version, sink, follow, view=not as_json
            )
        else:
            # workers follow the champion when there is one, else run this stream's model
            pinned = chosen or (None if registry.history() else path)
            run = runner.over_redis(
                bus, messages, feed.total, pinned, workers, shards or 2 * workers, sink
            )
    summary = stream.summary(*run, time.perf_counter() - start, feed.symbols, version)
    if trainer is not None:
        summary["challengers"] = len(trainer.contests)
        summary["promoted"] = sum(c.promoted for c in trainer.contests)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    for key, value in summary.items():
        console.print(f"{key}: {value}")


@app.command("worker")
def worker_cmd(
    bus: str = typer.Option(..., "--bus", help="redis://HOST:PORT of a running stream."),
    model: Path = typer.Option(
        None, "--model", help="The stream's forecaster; default: the champion, or the newest."
    ),
    name: str = typer.Option(None, "--name", help="Consumer name; default: host-pid."),
) -> None:
    """Forecast a Redis stream's shards until the stream ends; run several to scale out."""
    chosen = files.input_file(model, "checkpoint") if model is not None else None
    net, version = train.load_version(chosen or registry.default_model(None))
    follow = None if chosen else registry.follow  # unpinned: swap to a new champion
    Worker(redis_bus.RedisBus.url(bus), net, version, name, follow=follow).run()


@models_app.command("list")
def models_list(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """Every stored forecaster, newest first; the champion is marked."""
    found, past = registry.versions(), registry.history()
    champion = past[-1] if past else None
    if as_json:
        rows = [{"version": v.version, "champion": v.version == champion, "data": v.data,
                 "cell": v.cell, "horizons": v.horizons, "bars": v.bars, "last_bar": v.last_bar,
                 "path": str(v.path)} for v in found]  # fmt: skip
        typer.echo(json.dumps(rows))
        return
    table = Table("version", "champion", "data", "cell", "horizons", "bars", "last bar")
    for v in found:
        mark = "*" if v.version == champion else ""
        horizons = ",".join(map(str, v.horizons))
        table.add_row(
            v.version, mark, v.data, v.cell, horizons, str(v.bars or ""), v.last_bar or ""
        )
    console.print(table if found else f"no stored forecaster; run `{registry.TRAIN}`")


@models_app.command("promote")
def models_promote(version: str = typer.Argument(..., help="A version (4-12 hex digits).")) -> None:
    """Make a stored forecaster the champion: streams started from now on use it."""
    v = registry.promote(version)
    console.print(f"champion: {v.version} ({v.data}, {v.cell})")


@models_app.command("rollback")
def models_rollback() -> None:
    """Return to the champion before the current one."""
    v = registry.rollback()
    console.print(f"champion: {v.version} ({v.data}, {v.cell})")
