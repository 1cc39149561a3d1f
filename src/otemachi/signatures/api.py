"""HTTP face of otemachi.signatures: the JSON router and the HTML page."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from otemachi.signatures import oneclass

router = APIRouter()
pages = APIRouter()


@router.get("/methods")
def methods() -> list[str]:
    """Per-person model kinds available for enrolment."""
    return list(oneclass.METHODS)


@pages.get("/", response_class=HTMLResponse)
def page() -> str:
    """The signatures page."""
    return (
        "<h1>signatures</h1><p>Offline signature verification from 1-5 references per person. "
        "Run <code>otemachi signatures evaluate --data synth</code>.</p>"
    )
