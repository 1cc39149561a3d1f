"""HTTP face of otemachi.picking: the JSON router and the HTML page."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from otemachi.picking.catalog import CATALOG, COLORS

router = APIRouter()
pages = APIRouter()


@router.get("/catalog")
def catalog() -> dict[str, object]:
    """Object categories with their synonyms, and the colours a scene may use."""
    return {"categories": {k: list(c.synonyms) for k, c in CATALOG.items()}, "colors": list(COLORS)}


@pages.get("/", response_class=HTMLResponse)
def page() -> str:
    """The picking page."""
    return (
        "<h1>picking</h1><p>A simulated Panda arm picks tabletop objects into four boxes. "
        "Run <code>otemachi picking scene --seed 0</code> or "
        "<code>otemachi picking pick</code>.</p>"
    )
