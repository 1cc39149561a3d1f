"""HTTP face of otemachi.signatures: the JSON router and the HTML pages."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter()
pages = APIRouter()


@router.get("/status")
def status() -> dict[str, object]:
    """Whether the system serves anything yet."""
    return {"system": "signatures", "ready": False}


@pages.get("/", response_class=HTMLResponse)
def page() -> str:
    """The system's page."""
    return (
        "<h1>signatures</h1>"
        "<p>Offline signature verification from 1-5 references per person. Not built yet.</p>"
    )
