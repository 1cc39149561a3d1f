"""HTTP face of otemachi.markets: the JSON router and the HTML pages."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter()
pages = APIRouter()


@router.get("/status")
def status() -> dict[str, object]:
    """Whether the system serves anything yet."""
    return {"system": "markets", "ready": False}


@pages.get("/", response_class=HTMLResponse)
def page() -> str:
    """The system's page."""
    return (
        "<h1>markets</h1><p>Probabilistic multi-horizon market forecasts from streaming bars.</p>"
    )
