"""The demo report: one folder with an HTML page (and the same in Markdown), the tables, plots
and sounds of every system, and ``results.json`` with the numbers behind them."""

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

STYLE = """body{margin:0 auto;max-width:1100px;padding:1rem 1.5rem 3rem;font:15px/1.5 system-ui,
sans-serif;color:#1d2430}h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;
border-bottom:1px solid #d9dee7;padding-bottom:.3rem}table{border-collapse:collapse;
margin:.8rem 0;font-variant-numeric:tabular-nums;font-size:.9rem}th,td{padding:.2rem .55rem;
border-bottom:1px solid #d9dee7;text-align:right}th:first-child,td:first-child{text-align:left}
img{max-width:100%;border:1px solid #d9dee7;margin:.4rem 0}code{background:#eef1f6;
padding:0 .2rem;border-radius:3px}"""


@dataclass
class Report:
    """Collects sections and results from each system's demo and writes ``index.html``,
    ``README.md`` and ``results.json`` into ``out``."""

    out: Path
    sections: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def result(self, key: str, value: Any) -> None:
        """Keep the numbers behind a section (JSON-ready; numpy scalars become floats)."""
        self.results[key] = value

    def folder(self, system: str) -> Path:
        """The folder where ``system`` saves its files."""
        path = self.out / system
        path.mkdir(parents=True, exist_ok=True)
        return path

    def add(self, title: str, markdown: str) -> None:
        """Append a section with a ``##`` heading."""
        self.sections.append(f"## {title}\n\n{markdown.strip()}\n")

    def image(self, path: Path, caption: str) -> str:
        """Markdown for an image saved under the report folder."""
        return f"![{caption}]({path.relative_to(self.out).as_posix()})"

    def benchmarks(self, folder: Path) -> None:
        """A section with the tables the last ``make bench`` printed (``folder/*.txt``), each
        with the time it was written; nothing when there are none."""
        runs = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        if not runs:
            return
        parts = []
        for run in runs:
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.stat().st_mtime))
            parts.append(f"**{run.stem}** ({when})\n\n```\n{run.read_text().strip()}\n```")
        self.add("benchmarks (the last `make bench` on this machine)", "\n\n".join(parts))

    def write(self) -> Path:
        """Write the page, its Markdown and ``results.json``; return the page's path."""
        self.out.mkdir(parents=True, exist_ok=True)
        text = "# otemachi demo report\n\n" + "\n".join(self.sections)
        (self.out / "README.md").write_text(text)
        (self.out / "results.json").write_text(json.dumps(_plain(self.results), indent=2))
        body = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
        page = self.out / "index.html"
        page.write_text(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>otemachi demo report</title><style>{STYLE}</style>"
            f"</head><body>{body}</body></html>"
        )
        return page


def _plain(value: Any) -> Any:
    """``value`` as strict JSON holds it: numpy values as numbers and lists, NaN and infinities
    as null, anything else as its text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _plain(value.tolist())  # a numpy scalar or array
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # a time stamp, a path...


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """Render a simple Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def save_figure(fig: Any, path: Path, dpi: int = 110) -> Path:
    """Save a matplotlib figure (tight layout), close it, and return the path."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
