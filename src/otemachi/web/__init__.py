"""The browser app: a landing page and one page per system, each an HTML body in one layout
with a small vanilla-JS module over the systems' JSON APIs. Every asset is served from this
package (no CDN, no build step); the charting library, uPlot (MIT), is vendored under
``static/vendor``."""

import functools
import time
from collections.abc import Callable
from pathlib import Path
from string import Template

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from otemachi.core import checkpoint
from otemachi.core.errors import CheckpointError
from otemachi.core.paths import home
from otemachi.systems import SYSTEMS

HERE = Path(__file__).parent
PAGES = {"": "index", **{name: name for name in SYSTEMS}}  # URL path -> page (pages/NAME.html)
CHARTS = (  # what the markets page loads before its script
    '<link rel="stylesheet" href="/static/vendor/uplot/uPlot.min.css">\n'
    '<script src="/static/vendor/uplot/uPlot.iife.min.js"></script>\n'
)

api = APIRouter()
pages = APIRouter(include_in_schema=False)


class StoredModel(BaseModel):
    """One stored model: its file name, checkpoint kind, version and when it was saved."""

    name: str
    kind: str
    version: str
    saved: str  # ISO 8601, UTC


class SystemStatus(BaseModel):
    """What a system does and which trained models are stored for it."""

    summary: str
    models: list[StoredModel]


def stored_models(system: str) -> list[StoredModel]:
    """The checkpoints under ``OTEMACHI_HOME/<system>/models``, newest first (read, never
    loaded: their metadata only). A file that is not a checkpoint, and a backtest's cached fold
    network (``fold-*``), are left out."""
    folder = home() / system / "models"
    found = []
    for side in folder.glob("*.json") if folder.is_dir() else []:
        weights = side.with_suffix(".safetensors")
        if side.stem.startswith("fold-"):
            continue
        try:
            meta = checkpoint.read_meta(weights)
            stamp = weights.stat().st_mtime  # no weights file: not a stored model
        except (CheckpointError, OSError):
            continue
        saved = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
        version = str(meta.get("sha256", ""))[:12]
        found.append(StoredModel(name=side.stem, kind=str(meta.get("kind")), version=version,
                                 saved=saved))  # fmt: skip
    return sorted(found, key=lambda m: m.saved, reverse=True)


@api.get("/systems")
def systems() -> dict[str, SystemStatus]:
    """Each system's summary and its stored models (the landing page shows them)."""
    return {
        name: SystemStatus(summary=s.summary, models=stored_models(name))
        for name, s in SYSTEMS.items()
    }


@functools.cache
def render(name: str) -> str:
    """A page: ``pages/NAME.html`` (the body) in the layout, with the menu and its script."""
    here = ' aria-current="page"'
    nav = "\n".join(f'  <a href="/{s}"{here if s == name else ""}>{s}</a>' for s in SYSTEMS)
    layout = Template((HERE / "pages" / "layout.html").read_text())
    return layout.substitute(
        title="otemachi" + (f" · {name}" if name in SYSTEMS else ""),
        head=CHARTS if name == "markets" else "",
        script=name,
        nav=nav,
        body=(HERE / "pages" / f"{name}.html").read_text(),
    )


def _serving(name: str) -> Callable[[], HTMLResponse]:
    def page() -> HTMLResponse:
        return HTMLResponse(render(name))

    return page


for _path, _name in PAGES.items():
    for _url in {f"/{_path}", f"/{_path}/"} - {"//"}:  # /markets and /markets/ alike
        pages.add_api_route(_url, _serving(_name), response_class=HTMLResponse)


def mount(app: FastAPI) -> None:
    """Add the pages, the static assets (/static) and /api/systems to ``app``."""
    app.include_router(api, prefix="/api")
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
