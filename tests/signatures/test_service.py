"""Enrol, verify and delete as the HTTP service and the CLI do it, on the tiny base and a real
SQLite store, with API keys, rate limits and every kind of bad input a client can send."""

import io
import json
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from otemachi.cli import main
from otemachi.server import Settings, create_app
from otemachi.signatures import base, data
from otemachi.signatures.batcher import Batcher
from otemachi.signatures.security import RateLimit
from otemachi.signatures.store import UserStore, open_store

from ..cli_checks import refused_in_one_line

pytestmark = pytest.mark.slow
TINY_SPEC = "dev_writers=80,calib_writers=10,epochs=5"
TINY_FLAGS = ["--dev-writers", "80", "--calib-writers", "10", "--epochs", "5"]


def _png(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def people() -> dict[str, tuple[list[bytes], list[bytes]]]:
    """Two writers the base never saw: (genuine PNGs, skilled forgery PNGs)."""
    corpus = data.SynthDataset(2, n_genuine=7, n_forgeries=2, seed=77, prefix="svc")
    return {
        w: ([_png(i) for i in corpus.iter_genuine(w)], [_png(i) for i in corpus.iter_forgery(w)])
        for w in corpus.writers()
    }


@pytest.fixture
def app(
    tiny_base: base.Base, tiny_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, UserStore, str]]:
    monkeypatch.setenv("OTEMACHI_HOME", str(tiny_home))
    settings = Settings(signatures_store=str(tmp_path / "users.db"), signatures_base=TINY_SPEC)
    store = open_store(settings.signatures_store)
    with TestClient(create_app(settings)) as client:
        yield client, store, store.create_key("tests")


def _files(pngs: list[bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"ref{i}.png", p, "image/png")) for i, p in enumerate(pngs)]


def test_enrol_verify_delete_over_http(app: tuple[TestClient, UserStore, str], people) -> None:  # type: ignore[no-untyped-def]
    client, store, key = app
    genuine, forged = people["svc0000"]
    auth = {"X-API-Key": key}
    r = client.post("/api/signatures/users/alice/enroll", files=_files(genuine[:5]), headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["n_refs"] == 5 and r.json()["method"] == "svdd"

    def verify(png: bytes) -> dict[str, object]:
        files = {"file": ("probe.png", png, "image/png")}
        r = client.post("/api/signatures/users/alice/verify", files=files, headers=auth)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    own, fake = verify(genuine[6]), verify(forged[0])
    keys = {"user_id", "score", "threshold", "genuine", "method", "base_version"}
    assert set(own) == keys and own["user_id"] == "alice" and own["method"] == "svdd"
    assert own["score"] > fake["score"]  # type: ignore[operator]
    assert own["genuine"] == (own["score"] >= own["threshold"])  # type: ignore[operator]
    assert client.get("/api/signatures/users", headers=auth).json() == {
        "users": ["alice"],
        "total": 1,
    }
    assert client.delete("/api/signatures/users/alice", headers=auth).status_code == 200
    r = client.post("/api/signatures/users/alice/verify",
                    files={"file": ("p.png", genuine[6], "image/png")}, headers=auth)  # fmt: skip
    assert r.status_code == 404 and "no user 'alice'" in r.json()["detail"]
    log = list(reversed(store.audit_log()))
    assert [e["action"] for e in log] == ["enroll", "verify", "verify", "delete"]
    assert {e["actor"] for e in log} == {store.check_key(key)}
    assert "score" not in json.dumps(log) and str(own["score"])[:6] not in json.dumps(log)


def _bomb() -> bytes:
    """A valid PNG header claiming 60,000 x 60,000 pixels."""
    png = _png(np.zeros((8, 8), np.uint8))
    ihdr = png[12:16] + (60000).to_bytes(4, "big") * 2 + png[24:29]
    return png[:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + png[33:]


def test_bad_requests_get_clear_errors_and_change_nothing(  # type: ignore[no-untyped-def]
    app: tuple[TestClient, UserStore, str], people
) -> None:
    client, store, key = app
    genuine, _ = people["svc0001"]
    auth = {"X-API-Key": key}
    assert client.post("/api/signatures/users/bob/enroll", files=_files(genuine[:2]),
                       headers=auth).status_code == 200  # fmt: skip
    before = (store.users(), store.audit_log())
    png = genuine[3]
    enroll, verify = "/api/signatures/users/{}/enroll", "/api/signatures/users/{}/verify"
    one = lambda name, body, kind="image/png": {"file": (name, body, kind)}  # noqa: E731
    cases = [
        (verify.format("bob"), {}, one("p.png", png), 401, "needs an API key"),
        (verify.format("bob"), {"X-API-Key": key + "x"}, one("p.png", png), 401, "not valid"),
        (enroll.format("bob"), {"X-API-Key": "sig_00000000_nope"}, _files([png]), 401, "not valid"),
        (verify.format("bob%20smith"), auth, one("p.png", png), 422, "not valid"),
        (verify.format("-bob"), auth, one("p.png", png), 422, "not valid"),
        (verify.format("carol"), auth, one("p.png", png), 404, "no user 'carol'"),
        (enroll.format("bob"), auth, _files(genuine[:6]), 422, "1 to 5"),
        (verify.format("bob"), auth, one("p.txt", b"hello, world", "text/plain"), 422,
         "content type 'text/plain'"),
        (verify.format("bob"), auth, one("p.png", b"\xff\xd8\xff\xe0 jpeg"), 422,
         "bytes are not a image/png"),
        (verify.format("bob"), auth, one("p.png", png[: len(png) // 2]), 422, "not a readable"),
        (verify.format("bob"), auth, one("p.png", _bomb()), 422, "too large"),
        (verify.format("bob"), auth, one("p.png", b""), 422, "empty"),
    ]  # fmt: skip
    for url, headers, files, status, words in cases:
        r = client.post(url, files=files, headers=headers)
        assert r.status_code == status and words in r.json()["detail"], (url, words, r.text)
    r = client.post(enroll.format("bob"), headers=auth)  # no files at all
    assert r.status_code == 422 and "files" in r.text
    r = client.post(verify.format("bob"), headers={**auth, "Content-Length": str(10**9)},
                    content=b"x")  # fmt: skip
    assert r.status_code == 413 and "refused" in r.json()["detail"]
    assert (store.users(), store.audit_log()) == before


def test_chunked_bodies_over_the_limit_are_refused() -> None:
    client = TestClient(create_app(Settings(max_body=1000)))
    small = client.post("/api/signatures/users/x/verify", content=iter([b"x" * 100]))
    assert small.status_code == 422  # read and parsed: no image in it
    big = client.post("/api/signatures/users/x/verify", content=iter([b"x" * 600] * 3))
    assert big.status_code == 413 and "limit 1,000 bytes" in big.json()["detail"]


def test_verify_is_rate_limited_per_user_id(app: tuple[TestClient, UserStore, str], people) -> None:  # type: ignore[no-untyped-def]
    client, _, key = app
    genuine, _ = people["svc0000"]
    auth = {"X-API-Key": key}
    client.post("/api/signatures/users/alice/enroll", files=_files(genuine[:2]), headers=auth)
    client.get("/api/signatures/users", headers=auth)
    client.app.state.signatures.per_user = RateLimit(0.01, 2, "user id")  # type: ignore[attr-defined]
    probe = {"file": ("p.png", genuine[4], "image/png")}
    codes = [
        client.post("/api/signatures/users/alice/verify", files=probe, headers=auth)
        for _ in range(3)
    ]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert int(codes[2].headers["Retry-After"]) >= 1 and "too many" in codes[2].json()["detail"]


def test_concurrent_scans_share_one_cnn_call(tiny_base: base.Base, people) -> None:  # type: ignore[no-untyped-def]
    from otemachi.signatures.preprocess import read_image

    scans = [read_image(p) for p in people["svc0000"][0]]
    batcher = Batcher(tiny_base, size=32, wait_s=0.2)
    out: dict[int, np.ndarray] = {}
    threads = [
        threading.Thread(target=lambda i=i: out.__setitem__(i, batcher.embed(scans[i])))
        for i in range(len(scans))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert batcher.scans == len(scans) and batcher.runs < len(scans)
    np.testing.assert_allclose(
        np.stack([out[i] for i in range(len(scans))]), tiny_base.embed(scans), atol=1e-5
    )


def test_cli_enrol_verify_users_and_keys(  # type: ignore[no-untyped-def]
    tiny_base: base.Base, tiny_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], people,
) -> None:  # fmt: skip
    monkeypatch.setenv("OTEMACHI_HOME", str(tiny_home))
    genuine, forged = people["svc0001"]
    paths = []
    for i, png in enumerate([*genuine, forged[0]]):
        paths.append(tmp_path / f"s{i}.png")
        paths[-1].write_bytes(png)
    store = ["--store", str(tmp_path / "cli.db")]
    enroll = ["signatures", "enroll", "dave", *map(str, paths[:3]), *store, *TINY_FLAGS]
    assert main([*enroll, "--method", "ocnn", "--keep-images"]) == 0
    capsys.readouterr()
    verify = ["signatures", "verify", "dave", str(paths[-1]), *store, *TINY_FLAGS, "--json"]
    assert main(verify) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"user_id", "score", "threshold", "genuine", "method", "base_version"}
    assert doc["method"] == "ocnn" and doc["base_version"] == tiny_base.version
    assert main(["signatures", "users", "show", "dave", *store]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["n_refs"] == 3 and shown["images_kept"] == 3
    for args, words in [
        (["enroll", "dave", *map(str, paths[:6]), *store, *TINY_FLAGS], "1 to 5"),
        (["enroll", "da ve", str(paths[0]), *store, *TINY_FLAGS], "not valid"),
        (["enroll", "erin", str(tmp_path / "none.png"), *store, *TINY_FLAGS], "no such image"),
        (["enroll", "erin", str(paths[0]), "--method", "magic", *store, *TINY_FLAGS], "--method"),
        (["verify", "erin", str(paths[0]), *store, *TINY_FLAGS], "no user 'erin'"),
        (["users", "delete", "erin", *store], "no user 'erin'"),
        (["users", "list", "--store", str(tmp_path)], "is a folder"),
    ]:
        refused_in_one_line(["signatures", *args], words, capsys)
    assert main(["signatures", "users", "delete", "dave", *store]) == 0
    assert main(["signatures", "users", "list", *store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"users": [], "total": 0}
