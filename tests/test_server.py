import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from otemachi import __version__
from otemachi.server import create_app
from tests.services import AppServer


def test_healthz_and_pages() -> None:
    client = TestClient(create_app())
    assert client.get("/healthz").json() == {"status": "ok", "version": __version__}
    landing = client.get("/").text
    for system in ("markets", "picking", "signatures"):
        assert f'href="/{system}"' in landing
        assert client.get(f"/{system}/").status_code == 200
    for page in ("/", "/markets", "/picking", "/signatures"):  # every asset is served here
        html = client.get(page).text
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
        assert assets and all(client.get(a).status_code == 200 for a in assets), page
        assert "http://" not in html and "https://" not in html  # no CDN
    scripts = [client.get(f"/static/{s}.js").text for s in ("markets", "picking", "signatures")]
    imports = {m for js in scripts for m in re.findall(r'from "\./([^"]+)"', js)}
    assert imports == {"app.js"} and client.get("/static/recorder.js").status_code == 200
    assert set(client.get("/api/systems").json()) == {"markets", "picking", "signatures"}
    paths = client.get("/openapi.json").json()["paths"]
    assert "/healthz" in paths
    for path, operations in paths.items():  # every route declares what it answers
        for method, op in operations.items():
            content = op["responses"]["200"].get("content", {})
            assert any(c.get("schema") for c in content.values()) or "audio/wav" in content, (
                f"{method.upper()} {path} has no response schema"
            )
    assert client.get("/docs").status_code == 200


def test_healthz_through_real_uvicorn(tmp_path: Path) -> None:
    server = AppServer(tmp_path / "server.log")
    try:
        resp = httpx.get(f"{server.url}/healthz", timeout=5)
        assert resp.status_code == 200 and resp.json()["status"] == "ok"
    finally:
        server.stop()
