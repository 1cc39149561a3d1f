"""The demo report: one folder with a Markdown index, tables and images from every system."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Report:
    """Collects sections from each system's demo and writes ``README.md`` into ``out``."""

    out: Path
    sections: list[str] = field(default_factory=list)

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

    def write(self) -> Path:
        """Write the index and return its path."""
        self.out.mkdir(parents=True, exist_ok=True)
        index = self.out / "README.md"
        index.write_text("# otemachi demo report\n\n" + "\n".join(self.sections))
        return index


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
