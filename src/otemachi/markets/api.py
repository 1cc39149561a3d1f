"""HTTP face of otemachi.markets: the JSON router and the HTML page."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from otemachi.markets import data, evaluate

router = APIRouter()
pages = APIRouter()


@router.get("/datasets")
def datasets() -> dict[str, dict[str, str]]:
    """The bundled datasets a backtest can run on."""
    return {
        k: {"description": d.description, "frequency": d.frequency}
        for k, d in data.DATASETS.items()
    }


@router.get("/models")
def models() -> list[str]:
    """Models and baselines a backtest can compare."""
    return list(evaluate.MODELS)


@pages.get("/", response_class=HTMLResponse)
def page() -> str:
    """The markets page."""
    rows = "".join(f"<li><b>{k}</b>: {d.description}</li>" for k, d in data.DATASETS.items())
    return (
        "<h1>markets</h1><p>Probabilistic multi-horizon forecasts, evaluated walk-forward. "
        f"Run <code>otemachi markets backtest --data NAME</code>.</p><ul>{rows}</ul>"
    )
