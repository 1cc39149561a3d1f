"""HTTP face of otemachi.markets: the JSON router (datasets, models, the latest live forecast
of a symbol, a WebSocket of live forecasts, a WebSocket replay). Live forecasts come from the
Redis stream named by ``OTEMACHI_MARKETS_BUS`` (``redis://HOST:PORT``)."""

import asyncio
import functools
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

from otemachi.core.errors import InvalidInput, NotFound, OtemachiError, SetupError
from otemachi.markets import data, evaluate, replay
from otemachi.markets.redis_bus import RedisBus

MAX_SYMBOLS = 1000

router = APIRouter()


class DatasetInfo(BaseModel):
    description: str
    frequency: str


class LiveForecast(BaseModel):
    """One symbol's forecast of its latest bar: per horizon, P(up) and the quantiles (by default
    10/25/50/75/90%) of the log return, the high and the low (log units relative to the close)."""

    symbol: str
    time: str
    model_version: str
    horizons: list[int]
    p_up: list[float]
    ret_q: list[list[float]]
    high_q: list[list[float]]
    low_q: list[list[float]]
    latency_ms: float


@router.get("/datasets")
def datasets() -> dict[str, DatasetInfo]:
    """The bundled datasets a backtest or a replay can run on."""
    return {
        k: DatasetInfo(description=d.description, frequency=d.frequency)
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


@router.get("/forecast/{symbol}", response_model=LiveForecast)
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
        await _refuse(socket, e)
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


async def _refuse(socket: WebSocket, e: OtemachiError) -> None:
    """Accept, say what was wrong as {"error", "detail"}, and close."""
    await socket.accept()
    await socket.send_json({"error": type(e).__name__, "detail": str(e)})
    await socket.close(code=1011 if e.http_status >= 500 else 1008)


@router.websocket("/replay")
async def replay_socket(
    socket: WebSocket, data: str = "", bars: str = "200", speed: str = "10"
) -> None:
    """Replay the last ``bars`` bars of bundled datasets ``data`` (comma-separated) through the
    stored forecaster, ``speed`` bar times per second (at most 1000). First frame: symbols,
    horizons, quantile levels, model version and each symbol's warm-up closes; then one frame per
    bar time: ``{time, bars: {symbol: {open, high, low, close}}, forecasts: [...]}``, each
    forecast as the live stream publishes it; last: ``{"end": true, "frames": N}``."""
    try:
        pace = replay.speed(speed)
        run = await asyncio.to_thread(replay.Replay.open, data, replay.bars(bars))
    except OtemachiError as e:
        await _refuse(socket, e)
        return
    await socket.accept()
    gone = asyncio.ensure_future(socket.receive())  # done when the client leaves
    frames, sent = run.frames(), 0
    try:
        await socket.send_json({"start": run.start()})
        # the network runs in a thread, so the server keeps serving while it works
        while (frame := await asyncio.to_thread(next, frames, None)) is not None:
            if gone.done():
                return
            await socket.send_json(frame)
            sent += 1
            await asyncio.sleep(1 / pace)
        await socket.send_json({"end": True, "frames": sent})
        await socket.close()
    except WebSocketDisconnect:
        return
    finally:
        gone.cancel()
