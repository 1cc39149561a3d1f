"""Command line for otemachi.signatures (commands arrive with the system's library)."""

import typer

app = typer.Typer(
    help="Offline signature verification from 1-5 references per person. Not built yet."
)


@app.command()
def status() -> None:
    """Say what this system can do so far."""
    typer.echo("signatures: not built yet; no models or commands are available.")
