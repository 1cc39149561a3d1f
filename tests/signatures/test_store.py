"""The model store against real SQLite and a real PostgreSQL: records, the cache, keys, the
audit log, and failures that must leave the store as it was."""

import math
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from otemachi.core.errors import NotFound, Unauthorized
from otemachi.signatures import batchfit, oneclass
from otemachi.signatures.store import Record, StoreError, open_store

E = 128


def _records(method: str, n: int, seed: int = 0, prefix: str = "user") -> list[Record]:
    r = np.random.default_rng(seed)
    unit = lambda x: (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)  # noqa: E731
    negatives = unit(np.abs(r.normal(size=(50, E))))
    refs = [unit(np.abs(r.normal(size=(1 + i % 5, E)))) for i in range(n)]
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    models = batchfit.train_users(ids, refs, method, negatives, "base1")
    return [Record(m, rf.astype(np.float16)) for m, rf in zip(models, refs, strict=True)]


@pytest.mark.parametrize("method", list(oneclass.METHODS))
def test_records_round_trip_within_four_kilobytes(store_url: str, method: str) -> None:
    store = open_store(store_url)
    records = _records(method, 6)
    store.put(records)
    other = open_store(store_url)  # a second server: reads the database, not a cache
    probe = np.random.default_rng(9).normal(size=(3, E)).astype(np.float32)
    for want in records:
        got = other.get(want.model.user_id)
        m, g = want.model, got.model
        assert (g.method, g.n_refs, g.base_version) == (m.method, m.n_refs, m.base_version)
        assert (math.isnan(g.threshold) and math.isnan(m.threshold)) or g.threshold == m.threshold
        np.testing.assert_array_equal(got.refs, want.refs.astype(np.float32))
        np.testing.assert_array_equal(oneclass.score(g, probe), oneclass.score(m, probe))
        row = want.row()
        assert len(row[2]) + len(row[7]) <= 4096  # parameters + reference embeddings
    assert other.count() == 6 and other.users(limit=2) == ["user0000", "user0001"]
    assert other.users(after="user0004") == ["user0005"]


def test_replace_delete_images_and_the_cache(store_url: str) -> None:
    store = open_store(store_url)
    first = _records("svdd", 1)[0]
    store.put([Record(first.model, first.refs, images=(b"png-1", b"png-2"))])
    assert store.images("user0000") == [b"png-1", b"png-2"]
    assert store.get("user0000").model.n_refs == first.model.n_refs  # now cached
    again = _records("ocnn", 1, seed=1)[0]
    store.put([again])  # re-enrolment: the cached record is dropped, old images are removed
    assert store.get("user0000").model.method == "ocnn" and store.images("user0000") == []
    store.delete("user0000")
    with pytest.raises(NotFound, match="no user 'user0000'"):
        store.get("user0000")
    with pytest.raises(NotFound):
        store.delete("user0000")


def test_another_writer_is_seen_within_the_cache_lifetime(store_url: str) -> None:
    server, cli = open_store(store_url), open_store(store_url)
    server.cache.ttl = 0.2
    cli.put(_records("svdd", 1))
    assert server.get("user0000").model.method == "svdd"
    cli.put(_records("svm", 1))
    assert server.get("user0000").model.method == "svdd"  # still the cached record
    time.sleep(0.25)
    assert server.get("user0000").model.method == "svm"


def test_a_failing_batch_lands_nothing(store_url: str) -> None:
    store = open_store(store_url)
    store.put(_records("svdd", 2, prefix="kept"))
    good, bad = _records("svdd", 2, seed=2, prefix="new")
    broken = Record(type(bad.model)(**{**vars(bad.model), "n_refs": None}), bad.refs)
    with pytest.raises(StoreError, match="refused the change"):
        store.put([good, broken], audit=[("k", "enroll", "new0000", None)])  # NOT NULL violated
    assert store.users() == ["kept0000", "kept0001"] and store.audit_log() == []
    with pytest.raises(NotFound):
        store.delete("nobody", audit=[("k", "delete", "nobody", None)])
    assert store.audit_log() == []


def test_keys_are_stored_as_digests_and_can_be_revoked(store_url: str) -> None:
    store = open_store(store_url)
    key = store.create_key("teller app")
    key_id = store.check_key(key)
    with store._tx() as cur:
        cur.execute("SELECT * FROM api_keys")
        assert key not in repr(cur.fetchall())
    for wrong in (None, "", "nonsense", key[:-1] + ("A" if key[-1] != "A" else "B"),
                  f"sig_ffffffff_{key.split('_', 2)[2]}"):  # fmt: skip
        with pytest.raises(Unauthorized):
            store.check_key(wrong)
    store.revoke_key(key_id)
    with pytest.raises(Unauthorized, match="revoked"):
        store.check_key(key)
    with pytest.raises(NotFound):
        store.revoke_key(key_id)
    assert [k["key_id"] for k in store.api_keys()] == [key_id]


def test_the_audit_log_is_append_only(store_url: str) -> None:
    store = open_store(store_url)
    store.audit("k1", "verify", "user0000", "forged")
    log = store.audit_log()
    assert [(e["actor"], e["action"], e["user_id"], e["decision"]) for e in log] == [
        ("k1", "verify", "user0000", "forged")
    ]
    rewrite = (
        ["TRUNCATE audit", "INSERT INTO audit VALUES (1, 0, 'x', 'x', 'x', NULL) "
                           "ON CONFLICT (seq) DO UPDATE SET actor = 'x'"]
        if store.dialect == "postgresql"
        else ["INSERT OR REPLACE INTO audit VALUES (1, 0, 'x', 'x', 'x', NULL)"]
    )  # fmt: skip
    for sql in ("UPDATE audit SET decision = 'genuine'", "DELETE FROM audit", *rewrite):
        with pytest.raises(StoreError, match="append-only"), store._tx() as cur:
            cur.execute(sql)
    assert store.audit_log() == log


def test_a_full_disk_rolls_back_and_the_store_keeps_serving(tmp_path: Path) -> None:
    # SQLite's own page limit stands in for a full disk: the write fails with SQLITE_FULL, the
    # same error and the same rollback path as a full file system.
    path = tmp_path / "users.db"
    store = open_store(str(path))
    store.put(_records("svdd", 3, prefix="kept"))
    pages = sqlite3.connect(path).execute("PRAGMA page_count").fetchone()[0]
    conn = store.local.conn
    conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(StoreError, match="full"):
        store.put(_records("ocnn", 200, prefix="new"))
    assert store.users() == ["kept0000", "kept0001", "kept0002"]
    assert store.get("kept0001").model.method == "svdd"
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_bad_store_locations(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a database"):
        open_store(str(tmp_path / "junk.db"))
    with pytest.raises(Exception, match="is a folder"):
        open_store(str(tmp_path))
    with pytest.raises(Exception, match="does not exist"):
        open_store(str(tmp_path / "no" / "users.db"))
    with pytest.raises(StoreError, match="cannot open the store") as refused:
        open_store("postgresql://nobody:s3cret@127.0.0.1:9/none")
    assert "s3cret" not in str(refused.value)


@pytest.mark.postgresql
def test_a_dropped_postgresql_connection_is_replaced(postgres: object) -> None:
    import psycopg

    url = postgres.url  # type: ignore[attr-defined]
    store = open_store(url)
    assert store.count() >= 0
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE pid <> pg_backend_pid() AND datname = current_database()")  # fmt: skip
    with pytest.raises(StoreError):
        store.count()  # the server closed this thread's connection
    assert store.count() >= 0  # a new connection
