"""Command line for otemachi.picking (commands arrive with the system's library)."""

import typer

app = typer.Typer(
    help="Language-guided pick-and-place in a simulated tabletop world. Not built yet."
)


@app.command()
def status() -> None:
    """Say what this system can do so far."""
    typer.echo("picking: not built yet; no models or commands are available.")
