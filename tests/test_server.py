import socket
import subprocess
import sys
import time

import httpx
from fastapi.testclient import TestClient

from otemachi import __version__
from otemachi.server import create_app


def test_healthz_and_pages() -> None:
    client = TestClient(create_app())
    assert client.get("/healthz").json() == {"status": "ok", "version": __version__}
    landing = client.get("/").text
    for system in ("markets", "picking", "signatures"):
        assert f'href="/{system}"' in landing
        assert client.get(f"/{system}/").status_code == 200
    assert "/healthz" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthz_through_real_uvicorn() -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "otemachi.cli", "serve", "--host", "127.0.0.1"]
    proc = subprocess.Popen([*cmd, "--port", str(port)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start within 60 s"
                time.sleep(0.3)
        assert resp.status_code == 200 and resp.json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
