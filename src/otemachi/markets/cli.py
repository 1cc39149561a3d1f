"""Command line for otemachi.markets."""

import typer

app = typer.Typer(help="Probabilistic multi-horizon market forecasts from streaming bars.")
