"""The root command line: mounts each system's CLI, plus demo, serve and version."""

import sys
import time
from pathlib import Path

import typer
from rich.markup import escape

from otemachi import __version__
from otemachi.core import files
from otemachi.core.errors import OtemachiError
from otemachi.core.progress import console
from otemachi.core.report import Report
from otemachi.markets.cli import app as markets_app
from otemachi.picking.cli import app as picking_app
from otemachi.signatures.cli import app as signatures_app
from otemachi.systems import SYSTEMS

app = typer.Typer(
    help="otemachi: market forecasting, language-guided picking and signature verification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(markets_app, name="markets")
app.add_typer(picking_app, name="picking")
app.add_typer(signatures_app, name="signatures")


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """otemachi: three production deep-learning systems."""


@app.command()
def version() -> None:
    """Print the otemachi version."""
    typer.echo(__version__)


@app.command()
def demo(
    out: Path = typer.Option(Path("otemachi-report"), "--out", help="Report folder."),
    only: list[str] = typer.Option(
        [], "--only", help=f"Run only these systems ({', '.join(SYSTEMS)})."
    ),
) -> None:
    """Run every system's demo in turn and write a report folder."""
    unknown = sorted(set(only) - set(SYSTEMS))
    if unknown:
        raise OtemachiError(f"unknown system(s) {unknown}; choose from {list(SYSTEMS)}")
    files.output_folder(out)
    report = Report(out)
    for name, system in SYSTEMS.items():
        if only and name not in only:
            continue
        run = system.demo()
        if run is None:
            report.add(name, f"*{system.summary}* This system has no demo yet.")
            console.print(f"[yellow]{name}: no demo yet[/yellow]")
            continue
        console.rule(f"[bold]{name}")
        start = time.perf_counter()
        run(report)
        console.print(f"{name} demo finished in {time.perf_counter() - start:.1f}s")
    report.benchmarks(Path("benchmarks/out"))  # what `make bench` printed, when it has run
    console.print(f"report written to {report.write()}")
    console.print("serve the app: otemachi serve (then open http://127.0.0.1:8000/)")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
) -> None:
    """Serve the HTTP API, the docs (/docs) and each system's pages."""
    import uvicorn

    from otemachi.server import create_app

    uvicorn.run(create_app(), host=host, port=port)


def _error(message: str, hint: str = "") -> int:
    """Print one line on stderr; return exit status 2."""
    line = " ".join(message.split())
    console.print(
        f"[red]error:[/red] {escape(line)}{escape(hint)}", highlight=False, soft_wrap=True
    )
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit status 2."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = app(args=args, prog_name="otemachi", standalone_mode=False)
    except typer.Abort:
        console.print("aborted")
        return 130
    except typer.TyperException as exc:  # Typer's usage errors: bad option, missing value, ...
        if debug:
            raise
        message = exc.format_message().strip()
        if not message or message.startswith("Usage:"):  # no command given: the help, shown
            if message:  # (Typer's rich help prints itself and leaves the message empty)
                typer.echo(message, err=True)
            return 2
        ctx = getattr(exc, "ctx", None)
        return _error(message, f" (see '{ctx.command_path} --help')" if ctx is not None else "")
    except OtemachiError as exc:
        if debug:
            raise
        return _error(str(exc))
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
