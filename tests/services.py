"""Real services for tests and benchmarks, each on 127.0.0.1 on a free port in its own folder.

RedisServer: redis-server with its append-only file on (so a restart keeps the streams).
PostgresServer: a throwaway cluster (initdb + pg_ctl). PostgreSQL refuses to run as root, so as
root the cluster belongs to, and runs as, the unprivileged ``postgres`` user.
AppServer: ``otemachi serve`` (uvicorn) in its own process.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import redis


class RedisServer:
    def __init__(self, folder: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed: run `make setup` (scripts/sysdeps.sh)")
        self.exe, self.folder = exe, folder
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                "--appendonly", "yes", "--appendfsync", "always", "--save", ""]  # fmt: skip
        self.proc = subprocess.Popen([self.exe, *args], stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.025)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # SIGTERM: redis-server flushes its append-only file and exits
            self.proc.wait(timeout=20)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


class AppServer:
    """``otemachi serve`` on a free port, with ``env`` added to this process's environment; its
    log goes to ``log``."""

    def __init__(self, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-m", "otemachi.cli", "serve", "--host", "127.0.0.1"]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*cmd, "--port", str(self.port)], env={**os.environ, **(env or {})},
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"no server: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            pytest.fail("PostgreSQL is not installed: run `make setup` (scripts/sysdeps.sh)")
        self.bin = Path(found[-1]).parent
        self.folder = Path(tempfile.mkdtemp(prefix="otemachi-pg-"))
        self.as_user: list[str] = []
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        self.url = f"postgresql://otemachi@127.0.0.1:{self.port}/postgres"
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", "otemachi", "--auth=trust", "-E", "UTF8")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off "
                f"-c unix_socket_directories={self.folder}")  # fmt: skip
        self._run(
            "pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.folder / "log"), "-w", "start"
        )
        self.data = data

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.as_user, str(self.bin / tool), *args]
        subprocess.run(command, check=True, capture_output=True, cwd=self.folder)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
