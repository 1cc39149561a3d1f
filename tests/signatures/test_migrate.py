"""Base rotation: a second base is stored beside the first; records keep serving with the base
they were fitted on until `migrate` moves them; people without kept images are listed."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from otemachi.cli import main
from otemachi.server import Settings, create_app
from otemachi.signatures import base, data, service, train
from otemachi.signatures.preprocess import read_image
from otemachi.signatures.store import open_store

from .test_service import TINY_FLAGS, _png

pytestmark = pytest.mark.slow
SMALL = base.BaseConfig(dev_writers=20, calib_writers=4, epochs=1)  # the "new" base


def test_rotation_serves_old_records_until_migrated(
    tiny_base: base.Base, tiny_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("OTEMACHI_HOME", str(tiny_home))
    corpus = data.SynthDataset(2, n_genuine=5, n_forgeries=0, seed=66, prefix="rot")
    kept, lost = ([_png(i) for i in corpus.iter_genuine(w)] for w in corpus.writers())
    db = str(tmp_path / "users.db")
    store = open_store(db)
    service.enroll(tiny_base, store, "kept", kept[:3], keep_images=True)
    service.enroll(tiny_base, store, "lost", lost[:3])
    new = train.base(SMALL)
    assert new.version != tiny_base.version
    assert {tiny_base.version, new.version} <= set(base.stored())

    settings = Settings(
        signatures_store=db, signatures_base="dev_writers=20,calib_writers=4,epochs=1"
    )
    with TestClient(create_app(settings)) as client:
        auth = {"X-API-Key": store.create_key("rotation")}

        def verify(user: str, png: bytes) -> dict[str, object]:
            r = client.post(f"/api/signatures/users/{user}/verify",
                            files={"file": ("p.png", png, "image/png")}, headers=auth)  # fmt: skip
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        before = verify("kept", kept[4])
        assert before["base_version"] == tiny_base.version  # served by the old base
        client.app.state.signatures.store.cache.ttl = 0  # type: ignore[attr-defined]
        assert main(["signatures", "migrate", "--to", new.version, "--store", db, "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result == {"migrated": 1, "needs_enrolment": ["lost"], "failed": {}}
        after = verify("kept", kept[4])
        assert after["base_version"] == new.version and store.images("kept") == kept[:3]
        want = service.decide(new, store.get("kept").model, new.embed([read_image(kept[4])])[0])
        assert after["score"] == pytest.approx(want.score, abs=1e-5)
        assert verify("lost", lost[4])["base_version"] == tiny_base.version
        with store._tx() as cur:  # a record whose base is no longer stored anywhere
            cur.execute("UPDATE users SET base_version = 'feedfacecafe' WHERE user_id = 'lost'")
        r = client.post("/api/signatures/users/lost/verify",
                        files={"file": ("p.png", lost[4], "image/png")}, headers=auth)  # fmt: skip
        assert r.status_code == 409 and "re-enrol 'lost'" in r.json()["detail"]
    assert main(["signatures", "migrate", "--to", "000000000000", "--store", db]) == 2
    assert "no stored base has version" in capsys.readouterr().err
    assert main(["signatures", "verify", "kept", str(_save(tmp_path, kept[4])), "--store", db,
                 *TINY_FLAGS, "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["base_version"] == new.version


def _save(folder: Path, png: bytes) -> Path:
    path = folder / "probe.png"
    path.write_bytes(png)
    return path
