"""Command line for otemachi.markets: bundled data and walk-forward backtests."""

import json
from pathlib import Path

import typer
from rich.table import Table

from otemachi.core import options
from otemachi.core.progress import console
from otemachi.markets import backtest, data, outputs

app = typer.Typer(help="Probabilistic multi-horizon market forecasts from streaming bars.")
data_app = typer.Typer(help="Bundled datasets.")
app.add_typer(data_app, name="data")

ALL = [m for m in backtest.MODELS if m != "lstm"]


@data_app.command("list")
def data_list() -> None:
    """Show the datasets bundled offline inside installed packages."""
    table = Table("name", "frequency", "description")
    for name, ds in data.DATASETS.items():
        table.add_row(name, ds.frequency, ds.description)
    console.print(table)


@app.command("backtest")
def backtest_cmd(
    data_name: str = typer.Option(
        ..., "--data", help=f"{', '.join(data.DATASETS)} or a CSV/Parquet path."
    ),
    symbol: str = typer.Option(
        None, "--symbol", help="Symbol to pick when the file has a symbol column."
    ),
    model: str = typer.Option(
        "all",
        "--model",
        help="gru, lstm, rw, ewma, garch, gbm, a comma list, or all (all but lstm).",
    ),
    horizons: str = typer.Option("1,5,20", "--horizons", help="Horizons in bars, comma-separated."),
    out: Path = typer.Option(
        Path("markets-backtest"), "--out", help="Folder for plots and results.json."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    seed: int = typer.Option(0, "--seed", help="Seed for network training."),
) -> None:
    """Walk-forward backtest: every model refit on the same folds, scored out of sample."""
    hs = options.ints(horizons, "--horizons")
    models = options.choices(model, list(backtest.MODELS), "model(s)", ALL)
    bars, report = data.load(data_name, symbol)
    if not report.clean:
        console.print(f"[yellow]validation:[/yellow] {report.summary()}")
    bt = backtest.run(bars, models, hs, seed=seed)
    saved = outputs.save(bt, data_name, out)
    if as_json:
        typer.echo(json.dumps(backtest.to_json(bt, data_name)))
        return
    table = Table(
        "h",
        "model",
        *outputs.HEADERS,
        title=f"{data_name}: {len(bt.origins)} out-of-sample origins",
    )
    for row in outputs.rows(bt):
        table.add_row(*row)
    console.print(table)
    for line in backtest.verdicts(bt.scores):
        console.print(line)
    for path in [*saved["figures"], *saved["results"], *saved["checkpoints"]]:
        console.print(f"saved {path}")
