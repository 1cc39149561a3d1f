"""The FastAPI app: /healthz, the docs, a landing page, and each system's router and pages."""

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic_settings import BaseSettings, SettingsConfigDict

from otemachi import __version__
from otemachi.core.errors import OtemachiError
from otemachi.markets import api as markets_api
from otemachi.picking import api as picking_api
from otemachi.signatures import api as signatures_api
from otemachi.systems import SYSTEMS

ROUTERS = {"markets": markets_api, "picking": picking_api, "signatures": signatures_api}


class Settings(BaseSettings):
    """Server settings, read from OTEMACHI_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="OTEMACHI_")
    title: str = "otemachi"
    markets_bus: str | None = None  # redis://HOST:PORT of the live markets stream


def _landing() -> str:
    items = "".join(
        f'<li><a href="/{name}">{name}</a>: {s.summary}</li>' for name, s in SYSTEMS.items()
    )
    return (
        "<!doctype html><html><head><title>otemachi</title></head><body>"
        f"<h1>otemachi {__version__}</h1><ul>{items}</ul>"
        '<p><a href="/docs">API docs</a> · <a href="/healthz">health</a></p></body></html>'
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; each system's models load lazily in its own router."""
    settings = settings or Settings()
    app = FastAPI(title=settings.title, version=__version__)
    app.state.markets_bus = settings.markets_bus

    @app.exception_handler(OtemachiError)
    def _user_error(request: Request, exc: OtemachiError) -> JSONResponse:
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, exc.http_status)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def landing() -> str:
        return _landing()

    for name, module in ROUTERS.items():
        app.include_router(module.router, prefix=f"/api/{name}", tags=[name])
        app.include_router(module.pages, prefix=f"/{name}", include_in_schema=False)
    return app
