"""Bulk enrolment: in-process, on a multiprocessing pool and on Spark, the same records; bad
people rejected with reasons; a job killed with SIGKILL resumes without losing anyone."""

import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from otemachi.signatures import base, bulk, data
from otemachi.signatures.store import UserStore, open_store

from .test_service import TINY_FLAGS

E = 128


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    """n people with 1-5 unit embeddings each, plus three people who cannot be enrolled."""
    good = bulk.synthetic(n, seed, "p", dim=E)
    first = good["embedding"].iloc[0]
    bad = pd.DataFrame({
        "user_id": ["has space"] + ["six"] * 6 + ["short"],
        "embedding": [first] * 7 + [first[:10]],
    })  # fmt: skip
    return pd.concat([good, bad])


def _job(method: str = "svdd") -> bulk.Job:
    negatives = np.abs(np.random.default_rng(5).normal(size=(40, E))).astype(np.float32)
    return bulk.Job(method, "base1", negatives, base.BaseConfig(), "unused")


def _rows(store: UserStore) -> dict[str, tuple[object, ...]]:
    """Every stored row but its enrolment time."""
    with store._tx() as cur:
        cur.execute("SELECT user_id, method, params, threshold, n_refs, base_version, refs "
                    "FROM users")  # fmt: skip
        return {r[0]: tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                for r in cur.fetchall()}  # fmt: skip


REASONS = {
    "has space": "user id is not valid",
    "six": "6 references",
    "short": "embeddings must be 128 finite numbers",
}


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    session = bulk.spark_session("local[2]")
    yield session
    session.stop()


@pytest.mark.spark
@pytest.mark.parametrize("method", ["svdd", "ocnn"])
def test_local_pool_and_spark_enrol_the_same_records(
    method: str, tmp_path: Path, spark: object
) -> None:
    table = _table(120 if method == "ocnn" else 400)
    table.to_parquet(tmp_path / "refs.parquet")
    job = _job(method)
    stores = {k: open_store(str(tmp_path / f"{k}.db")) for k in ("local", "pool", "spark")}
    others = _table(30, seed=9).assign(user_id=lambda t: "other-" + t["user_id"])[:-8]
    bulk.run_local(others, stores["spark"], job)  # people of another file already enrolled
    results = {
        "local": bulk.run_local(table, stores["local"], job, batch=50),
        "pool": bulk.run_local(table, stores["pool"], job, batch=37, workers=2),
    }
    results["spark"] = bulk.run_spark(tmp_path / "refs.parquet", stores["spark"], job, spark, 64)
    again = bulk.run_spark(tmp_path / "refs.parquet", stores["spark"], job, spark, 64)
    people = table["user_id"].nunique() - 3
    for name, summary in results.items():
        assert summary.enrolled == people and summary.skipped == 0, name
        assert {u: REASONS[u] in why for u, why in summary.rejected.items()} == dict.fromkeys(
            REASONS, True
        ), (name, summary.rejected)
    assert again.enrolled == 0 and again.skipped == people
    rows = {k: _rows(s) for k, s in stores.items()}
    rows["spark"] = {u: r for u, r in rows["spark"].items() if not u.startswith("other-")}
    assert len(rows["local"]) == people
    assert rows["pool"] == rows["local"] and rows["spark"] == rows["local"]
    singles = _table(50, seed=3)[:50].assign(user_id=[f"single{i}" for i in range(50)])
    singles.to_parquet(tmp_path / "singles.parquet")  # one reference each: no user threshold
    alone = bulk.run_spark(tmp_path / "singles.parquet", stores["spark"], job, spark, 64)
    assert alone.enrolled == 50 and alone.skipped == 0
    assert all(stores["spark"].get(u).model.n_refs == 1 for u in singles["user_id"])


def test_sigkill_half_way_then_resume_loses_and_duplicates_nobody(
    tiny_base: base.Base, tiny_home: Path, tmp_path: Path
) -> None:
    table = _table(1500, seed=1)
    source, db = tmp_path / "refs.parquet", tmp_path / "users.db"
    table.to_parquet(source)
    args = [sys.executable, "-m", "otemachi.cli", "signatures", "bulk-enroll", str(source),
            "--method", "ocnn", "--batch", "60", "--store", str(db), *TINY_FLAGS]  # fmt: skip
    env = {"OTEMACHI_HOME": str(tiny_home), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    store = open_store(str(db))
    deadline = time.monotonic() + 240
    while store.count() < 200 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    landed = store.count()
    assert 200 <= landed < 1500, landed  # killed half-way
    done = subprocess.run([*args, "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["skipped"] == landed and summary["enrolled"] == 1500 - landed
    assert summary["rejected"] == 3
    assert store.count() == 1500
    # the records of a clean run, for a sample of people on each side of the kill
    job = bulk.job_for(tiny_base, base.BaseConfig(dev_writers=80, calib_writers=10, epochs=5),
                       "ocnn")  # fmt: skip
    users = store.users(limit=2000)
    sample = table[table["user_id"].isin(users[:: len(users) // 30])]
    clean = open_store(str(tmp_path / "clean.db"))
    bulk.run_local(sample, clean, job)
    resumed = _rows(store)
    assert all(resumed[u] == row for u, row in _rows(clean).items())


def test_images_in_bulk_and_bad_images_are_rejected(
    tiny_base: base.Base, tiny_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEMACHI_HOME", str(tiny_home))
    corpus = data.SynthDataset(3, n_genuine=3, n_forgeries=0, seed=55, prefix="bulk")
    rows = []
    for w in corpus.writers():
        for i, image in enumerate(corpus.iter_genuine(w)):
            path = tmp_path / f"{w}-{i}.png"
            Image.fromarray(image).save(path)
            rows.append((w, str(path)))
    broken = tmp_path / "broken.png"
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 90), 255, np.uint8)).save(buf, format="PNG")
    broken.write_bytes(buf.getvalue()[:50])
    rows += [("mallory", str(broken)), ("nobody", str(tmp_path / "missing.png"))]
    table = pd.DataFrame(rows, columns=["user_id", "image_path"])
    cfg = base.BaseConfig(dev_writers=80, calib_writers=10, epochs=5)
    store = open_store(str(tmp_path / "users.db"))
    summary = bulk.run_local(table, store, bulk.job_for(tiny_base, cfg, "svdd"))
    assert summary.enrolled == 3 and set(summary.rejected) == {"mallory", "nobody"}
    assert "not a readable image" in summary.rejected["mallory"]
    probe = next(iter(corpus.iter_genuine("bulk0000")))
    assert store.get("bulk0000").model.n_refs == 3
    emb = tiny_base.embed([probe])[0]
    np.testing.assert_allclose(store.get("bulk0000").refs[0], emb, atol=2e-3)


def test_bad_tables_are_refused(tmp_path: Path) -> None:
    pd.DataFrame({"user_id": ["a"], "signature": ["x.png"]}).to_parquet(tmp_path / "t.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(Exception, match="exactly one of image_path or embedding"):
        bulk.read_input(tmp_path / "t.parquet")
    with pytest.raises(Exception, match="not a readable Parquet"):
        bulk.read_input(tmp_path / "junk.parquet")
    with pytest.raises(Exception, match="no such Parquet"):
        bulk.read_input(tmp_path / "none.parquet")
