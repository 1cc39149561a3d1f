"""HTTP face of otemachi.picking: the JSON router and the HTML pages."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter()
pages = APIRouter()


@router.get("/status")
def status() -> dict[str, object]:
    """Whether the system serves anything yet."""
    return {"system": "picking", "ready": False}


@pages.get("/", response_class=HTMLResponse)
def page() -> str:
    """The system's page."""
    return (
        "<h1>picking</h1>"
        "<p>Language-guided pick-and-place in a simulated tabletop world. Not built yet.</p>"
    )
