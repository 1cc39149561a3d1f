"""The FastAPI app: /healthz, the docs, each system's JSON router, and the browser app."""

import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from otemachi import __version__, web
from otemachi.bodylimit import BodyLimit
from otemachi.core.errors import OtemachiError, RateLimited
from otemachi.markets import api as markets_api
from otemachi.picking import api as picking_api
from otemachi.signatures import api as signatures_api

ROUTERS = {"markets": markets_api, "picking": picking_api, "signatures": signatures_api}


class Problem(BaseModel):
    """Every refusal: the kind of error and one line saying what was wrong."""

    error: str
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": what}
    for code, what in [
        (400, "Bad request"), (401, "No API key, or not a valid one"), (404, "Not found"),
        (413, "The body is too large"), (422, "Invalid input: what was wrong"),
        (429, "Rate limited (see Retry-After)"), (503, "A model or service is missing"),
    ]
}  # fmt: skip


class Health(BaseModel):
    status: str
    version: str


class Settings(BaseSettings):
    """Server settings, read from OTEMACHI_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="OTEMACHI_")
    title: str = "otemachi"
    markets_bus: str | None = None  # redis://HOST:PORT of the live markets stream
    signatures_store: str | None = None  # SQLite path or postgresql://; default under HOME
    signatures_base: str = ""  # the base's settings, e.g. "dev_writers=80,epochs=5"
    max_body: int = 32 * 1024 * 1024  # bytes; larger requests are refused before they are read


def _refusal(
    error: str, detail: str, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A refusal as the API answers every one: ``Problem`` with its status."""
    return JSONResponse(
        Problem(error=error, detail=detail).model_dump(), status, dict(headers or {})
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; each system's models load lazily in its own router."""
    settings = settings or Settings()
    app = FastAPI(title=settings.title, version=__version__)
    app.state.markets_bus = settings.markets_bus
    app.state.signatures_store = settings.signatures_store
    app.state.signatures_base = settings.signatures_base
    app.state.signatures = None  # opened on first use

    @app.exception_handler(OtemachiError)
    def _user_error(request: Request, exc: OtemachiError) -> JSONResponse:
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return _refusal(type(exc).__name__, str(exc), exc.http_status, headers)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own checks (types, ranges), said in one line like every other refusal."""
        said = [
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors()[:5]
        ]
        return _refusal("InvalidInput", "; ".join(said), 422)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals (an unknown path, a malformed multipart body) in the same
        shape: {"error": "NotFound", "detail": ...}."""
        error = HTTPStatus(exc.status_code).phrase.replace(" ", "").replace("-", "")
        return _refusal(error, str(exc.detail), exc.status_code, exc.headers)

    app.add_middleware(BodyLimit, limit=settings.max_body)

    @app.get("/healthz")
    def healthz() -> Health:
        return Health(status="ok", version=__version__)

    for name, module in ROUTERS.items():
        app.include_router(module.router, prefix=f"/api/{name}", tags=[name], responses=ERRORS)
    web.mount(app)
    return app
