"""HTTP face of otemachi.markets: the JSON router (datasets, models, the latest live forecast
of a symbol, a WebSocket of live forecasts) and the HTML page. Live forecasts come from the
Redis stream named by ``OTEMACHI_MARKETS_BUS`` (``redis://HOST:PORT``)."""

import asyncio
import functools
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

from otemachi.core.errors import InvalidInput, NotFound, OtemachiError, SetupError
from otemachi.markets import data, evaluate
from otemachi.markets.redis_bus import RedisBus

MAX_SYMBOLS = 1000

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


@functools.lru_cache(maxsize=4)
def _bus(url: str | None) -> RedisBus:
    if not url:
        raise SetupError(
            "no live stream is configured: serve with OTEMACHI_MARKETS_BUS=redis://HOST:PORT "
            "and run `otemachi markets stream --bus redis://HOST:PORT`"
        )
    try:
        return RedisBus.url(url)
    except InvalidInput as e:
        raise NotFound(str(e)) from e


@router.get("/forecast/{symbol}")
def forecast(symbol: str, request: Request) -> dict[str, Any]:
    """The latest live forecast of ``symbol``: P(up) and the return, high and low quantiles per
    horizon, its bar time, model version and latency."""
    doc = _bus(request.app.state.markets_bus).latest(symbol)
    if doc is None:
        raise NotFound(f"no live forecast of {symbol!r} yet")
    return doc


@router.websocket("/ws")
async def live(socket: WebSocket, symbols: str = "") -> None:
    """Push every new forecast of ``symbols`` (comma-separated) as JSON, as it is published
    (from the moment the connection is accepted)."""
    wanted = {s for s in symbols.split(",") if s}
    last: dict[int, str] = {}  # shard -> stream id followed from
    try:
        if not wanted or len(wanted) > MAX_SYMBOLS:
            raise InvalidInput(f"give 1 to {MAX_SYMBOLS} symbols: ?symbols=A,B")
        bus = _bus(socket.app.state.markets_bus)
        await asyncio.to_thread(bus.follow, last, 0)  # pin "now" before the client hears back
    except OtemachiError as e:
        await socket.accept()
        await socket.send_json({"error": type(e).__name__, "detail": str(e)})
        await socket.close(code=1011 if e.http_status >= 500 else 1008)
        return
    await socket.accept()
    gone = asyncio.ensure_future(socket.receive())  # done when the client leaves
    try:
        while not gone.done():
            for batch in await asyncio.to_thread(bus.follow, last, 500):
                for doc in batch.docs():
                    if doc["symbol"] in wanted:
                        await socket.send_json(doc)
    except (WebSocketDisconnect, OtemachiError):
        return
    finally:
        gone.cancel()


@pages.get("/", response_class=HTMLResponse)
def page() -> str:
    """The markets page."""
    rows = "".join(f"<li><b>{k}</b>: {d.description}</li>" for k, d in data.DATASETS.items())
    return (
        "<h1>markets</h1><p>Probabilistic multi-horizon forecasts, evaluated walk-forward. "
        f"Run <code>otemachi markets backtest --data NAME</code>.</p><ul>{rows}</ul>"
    )
