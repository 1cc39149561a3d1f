"""The model store: one record per enrolled person, API keys, and an append-only audit log, in
SQLite (the embedded default, under OTEMACHI_HOME) or PostgreSQL (many servers sharing one store).
Both speak the same SQL through a thin dialect; reads go through an LRU cache of hot records."""

import contextlib
import hashlib
import hmac
import math
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from otemachi.core.errors import InvalidInput, NotFound, OtemachiError, SetupError, Unauthorized
from otemachi.core.paths import artifact_dir
from otemachi.signatures import oneclass
from otemachi.signatures.oneclass import UserModel

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, method TEXT NOT NULL,
       params {blob} NOT NULL, threshold DOUBLE PRECISION, n_refs INTEGER NOT NULL,
       base_version TEXT NOT NULL, enrolled_at DOUBLE PRECISION NOT NULL, refs {blob} NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS images (user_id TEXT NOT NULL, idx INTEGER NOT NULL,
       data {blob} NOT NULL, PRIMARY KEY (user_id, idx))""",
    """CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, digest TEXT NOT NULL,
       name TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, revoked DOUBLE PRECISION)""",
    """CREATE TABLE IF NOT EXISTS audit (seq {serial} PRIMARY KEY, at DOUBLE PRECISION NOT NULL,
       actor TEXT NOT NULL, action TEXT NOT NULL, user_id TEXT NOT NULL, decision TEXT)""",
    "CREATE INDEX IF NOT EXISTS users_base ON users (base_version)",
]
APPEND_ONLY = {
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS audit_no_{op} BEFORE {op.upper()} ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"""
        for op in ("update", "delete")
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ BEGIN
           RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
           FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
        """CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
           FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()""",
    ],
}
TYPES = {
    "sqlite": {"blob": "BLOB", "serial": "INTEGER"},
    "postgresql": {"blob": "BYTEA", "serial": "BIGSERIAL"},
}


class StoreError(OtemachiError):
    """The database refused or failed (full disk, damaged file, lost connection); the
    transaction was rolled back, so the store is as it was."""

    http_status = 503


Entry = tuple[str, str, str, str | None]  # audit: actor, action, user id, decision
USER_COLUMNS = "user_id, method, params, threshold, n_refs, base_version, enrolled_at, refs"


@dataclass(frozen=True)
class Record:
    """What the store keeps of a person: the model, the reference embeddings (float16, so the
    model can be re-fitted with another method) and, only when asked, the reference images."""

    model: UserModel
    refs: np.ndarray  # (n_refs, E)
    enrolled_at: float = field(default_factory=time.time)
    images: tuple[bytes, ...] = ()

    def row(self) -> tuple[Any, ...]:
        m = self.model
        threshold = None if math.isnan(m.threshold) else m.threshold
        params, refs = oneclass.pack(m.method, m.params), np.asarray(self.refs, "<f2").tobytes()
        return (m.user_id, m.method, params, threshold, m.n_refs, m.base_version,
                self.enrolled_at, refs)  # fmt: skip

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "Record":
        user_id, method, params, threshold, n_refs, version, at, refs = row
        flat = np.frombuffer(bytes(refs), "<f2").astype(np.float32)
        embed = len(flat) // max(n_refs, 1)
        try:
            unpacked = oneclass.unpack(method, bytes(params), embed)
        except (InvalidInput, KeyError) as exc:
            raise InvalidInput(f"the stored record of {user_id!r} is damaged ({exc})") from exc
        t = math.nan if threshold is None else float(threshold)
        model = UserModel(user_id, method, version, unpacked, t, n_refs)
        return cls(model, flat.reshape(n_refs, embed), at)


class Cache:
    """An LRU of hot records. Entries expire after ``ttl`` seconds, so a record changed by
    another process (a CLI enrolment, another server) is seen within ``ttl``; changes made through
    this store are seen at once."""

    def __init__(self, size: int = 100_000, ttl: float = 5.0) -> None:
        self.size, self.ttl = size, ttl
        self.items: OrderedDict[str, tuple[float, Record]] = OrderedDict()
        self.lock = threading.Lock()
        self.drops = 0  # bumped by every drop: a read that began before one is not cached

    def get(self, user_id: str) -> Record | None:
        with self.lock:
            hit = self.items.get(user_id)
            if hit is None or time.monotonic() - hit[0] > self.ttl:
                return None
            self.items.move_to_end(user_id)
            return hit[1]

    def put(self, record: Record, drops: int) -> None:
        """Cache ``record``, read when ``self.drops`` was ``drops``, unless a write came since."""
        with self.lock:
            if drops != self.drops:
                return
            self.items[record.model.user_id] = (time.monotonic(), record)
            self.items.move_to_end(record.model.user_id)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def drop(self, user_ids: Sequence[str]) -> None:
        with self.lock:
            self.drops += 1
            for u in user_ids:
                self.items.pop(u, None)


class UserStore:
    """Records, keys and the audit log over one SQL database (``open_store`` makes one)."""

    def __init__(
        self, connect: Any, dialect: str, where: str, errors: tuple[type[Exception], ...]
    ) -> None:
        self.connect, self.dialect, self.where, self.errors = connect, dialect, where, errors
        self.cache = Cache()
        self.local = threading.local()
        with self._tx() as cur:
            if dialect == "postgresql":  # servers starting together create the schema in turn
                cur.execute("SELECT pg_advisory_xact_lock(7306310)")
            for stmt in SCHEMA:
                cur.execute(stmt.format(**TYPES[dialect]))
            for stmt in APPEND_ONLY[dialect]:
                cur.execute(stmt)

    def _sql(self, text: str) -> str:
        return text if self.dialect == "sqlite" else text.replace("?", "%s")

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        """A cursor inside one transaction: committed on success, rolled back on any error."""
        conn = getattr(self.local, "conn", None)
        try:
            if conn is None:
                conn = self.local.conn = self.connect()
            cur = conn.cursor()
        except self.errors as exc:
            raise StoreError(f"cannot open the store: {exc}") from exc
        try:
            yield cur
            conn.commit()
        except self.errors as exc:
            self._abandon(conn)
            raise StoreError(f"the store refused the change: {exc}") from exc
        except BaseException:
            self._abandon(conn)
            raise
        finally:
            with contextlib.suppress(*self.errors):
                cur.close()

    def _abandon(self, conn: Any) -> None:
        """Roll back; a connection that cannot even do that (the server went away) is closed
        and forgotten, so this thread's next call opens a new one."""
        try:
            conn.rollback()
        except self.errors:
            with contextlib.suppress(*self.errors):
                conn.close()
            self.local.conn = None

    def _one(self, sql: str, *args: Any) -> Any:
        with self._tx() as cur:
            cur.execute(self._sql(sql), args)
            return cur.fetchone()

    # -- records
    def put(self, records: Sequence[Record], audit: Sequence[Entry] = ()) -> None:
        """Insert or replace ``records`` and append ``audit`` entries in one transaction (all
        land, or none)."""
        images = [(r.model.user_id, i, im) for r in records for i, im in enumerate(r.images)]
        self.put_rows([r.row() for r in records], images, audit)

    def put_rows(
        self,
        rows: Sequence[tuple[Any, ...]],
        images: Sequence[tuple[str, int, bytes]] = (),
        audit: Sequence[Entry] = (),
    ) -> None:
        """``put`` for rows already in column order (``Record.row``), as bulk enrolment makes
        them; a person's earlier images are replaced by ``images`` (user id, index, bytes)."""
        ids = [r[0] for r in rows]
        upsert = (f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (user_id) DO UPDATE SET " + ", ".join(
                      f"{c} = excluded.{c}" for c in USER_COLUMNS.split(", ")[1:]))  # fmt: skip
        with self._tx() as cur:
            cur.executemany(self._sql(upsert), rows)
            cur.executemany(self._sql("DELETE FROM images WHERE user_id = ?"), [(u,) for u in ids])
            if images:
                cur.executemany(self._sql("INSERT INTO images VALUES (?, ?, ?)"), images)
            self._append(cur, audit)
        self.cache.drop(ids)

    def stale(self, base_version: str) -> list[tuple[str, str, str]]:
        """(user id, method, base version) of everyone on another base than ``base_version``."""
        with self._tx() as cur:
            sql = ("SELECT user_id, method, base_version FROM users WHERE base_version <> ? "
                   "ORDER BY user_id")  # fmt: skip
            cur.execute(self._sql(sql), (base_version,))
            return [(r[0], r[1], r[2]) for r in cur.fetchall()]

    def enrolled(self, base_version: str, method: str) -> set[str]:
        """Ids of the people enrolled on ``base_version`` with ``method`` (what a re-run of a
        bulk job skips)."""
        with self._tx() as cur:
            sql = "SELECT user_id FROM users WHERE base_version = ? AND method = ?"
            cur.execute(self._sql(sql), (base_version, method))
            return {r[0] for r in cur.fetchall()}

    def get(self, user_id: str) -> Record:
        """The record of ``user_id``; NotFound when nobody is enrolled under it."""
        hit = self.cache.get(user_id)
        if hit is not None:
            return hit
        drops = self.cache.drops
        row = self._one(f"SELECT {USER_COLUMNS} FROM users WHERE user_id = ?", user_id)
        if row is None:
            raise NotFound(f"no user {user_id!r} is enrolled")
        record = Record.from_row(row)
        self.cache.put(record, drops)
        return record

    def delete(self, user_id: str, audit: Sequence[Entry] = ()) -> None:
        """Remove a person's record and images (and append ``audit``) in one transaction;
        NotFound, changing nothing, when nobody is enrolled under ``user_id``."""
        with self._tx() as cur:
            cur.execute(self._sql("DELETE FROM users WHERE user_id = ?"), (user_id,))
            if not cur.rowcount:
                raise NotFound(f"no user {user_id!r} is enrolled")
            cur.execute(self._sql("DELETE FROM images WHERE user_id = ?"), (user_id,))
            self._append(cur, audit)
        self.cache.drop([user_id])

    def rebase(self, records: Sequence[Record], old: dict[str, str], audit: Sequence[Entry]) -> int:
        """Replace each person's model with ``records`` (fitted on a new base) only where the
        stored record is still on base ``old[user_id]``: someone deleted or re-enrolled
        meanwhile is left alone. Returns how many were replaced; one transaction."""
        sql = ("UPDATE users SET params = ?, threshold = ?, n_refs = ?, base_version = ?, refs = ? "
               "WHERE user_id = ? AND base_version = ?")  # fmt: skip
        done = []
        with self._tx() as cur:
            for r in records:
                u, _, params, threshold, n_refs, version, _, refs = r.row()
                cur.execute(self._sql(sql), (params, threshold, n_refs, version, refs, u, old[u]))
                if cur.rowcount:
                    done.append(u)
            self._append(cur, [e for e in audit if e[2] in set(done)])
        self.cache.drop(done)
        return len(done)

    def image_count(self, user_id: str) -> int:
        return int(self._one("SELECT COUNT(*) FROM images WHERE user_id = ?", user_id)[0])

    def users(self, after: str = "", limit: int = 100) -> list[str]:
        """User ids in order, ``limit`` at a time after ``after`` (keyset pagination)."""
        with self._tx() as cur:
            sql = "SELECT user_id FROM users WHERE user_id > ? ORDER BY user_id LIMIT ?"
            cur.execute(self._sql(sql), (after, limit))
            return [r[0] for r in cur.fetchall()]

    def count(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM users")[0])

    def images(self, user_id: str) -> list[bytes]:
        """The reference images kept with ``--keep-images`` (empty when none were kept)."""
        with self._tx() as cur:
            cur.execute(self._sql("SELECT data FROM images WHERE user_id = ? ORDER BY idx"),
                        (user_id,))  # fmt: skip
            return [bytes(r[0]) for r in cur.fetchall()]

    # -- API keys: only a SHA-256 digest of each (random, 256-bit) key is stored
    def create_key(self, name: str) -> str:
        """A new API key; it is shown once and cannot be recovered from the store."""
        key_id = secrets.token_hex(4)
        key = f"sig_{key_id}_{secrets.token_urlsafe(32)}"
        with self._tx() as cur:
            cur.execute(self._sql("INSERT INTO api_keys VALUES (?, ?, ?, ?, NULL)"),
                        (key_id, _digest(key), name, time.time()))  # fmt: skip
        return key

    def revoke_key(self, key_id: str) -> None:
        with self._tx() as cur:
            sql = "UPDATE api_keys SET revoked = ? WHERE key_id = ? AND revoked IS NULL"
            cur.execute(self._sql(sql), (time.time(), key_id))
            if not cur.rowcount:
                raise NotFound("no active API key has that id (see `signatures keys list`)")

    def api_keys(self) -> list[dict[str, Any]]:
        with self._tx() as cur:
            cur.execute("SELECT key_id, name, created, revoked FROM api_keys ORDER BY created")
            cols = ("key_id", "name", "created", "revoked")
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def check_key(self, key: str | None) -> str:
        """The key id of a valid, unrevoked API key; Unauthorized otherwise."""
        parts = (key or "").split("_", 2)
        if len(parts) != 3 or parts[0] != "sig":
            raise Unauthorized("this route needs an API key in the X-API-Key header")
        row = self._one("SELECT digest, revoked FROM api_keys WHERE key_id = ?", parts[1])
        if row is None or not hmac.compare_digest(row[0], _digest(key or "")) or row[1]:
            raise Unauthorized("the API key is not valid (unknown or revoked)")
        return parts[1]

    # -- audit log: who did what to whom, and the decision; never images or scores
    def audit(self, actor: str, action: str, user_id: str, decision: str | None = None) -> None:
        with self._tx() as cur:
            self._append(cur, [(actor, action, user_id, decision)])

    def _append(self, cur: Any, entries: Sequence[Entry]) -> None:
        if entries:
            now = time.time()
            sql = "INSERT INTO audit (at, actor, action, user_id, decision) VALUES (?, ?, ?, ?, ?)"
            cur.executemany(self._sql(sql), [(now, *e) for e in entries])

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._tx() as cur:
            cur.execute(self._sql("SELECT seq, at, actor, action, user_id, decision FROM audit "
                                  "ORDER BY seq DESC LIMIT ?"), (limit,))  # fmt: skip
            cols = ("seq", "at", "actor", "action", "user_id", "decision")
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level="DEFERRED")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA recursive_triggers=ON")  # so INSERT OR REPLACE cannot rewrite the audit
    return conn


def open_store(spec: str | None = None) -> UserStore:
    """``None`` (SQLite under OTEMACHI_HOME), a file path, or ``postgresql://...``."""
    if spec and spec.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError as exc:
            raise SetupError("psycopg is not installed: `pip install 'psycopg[binary]'`") from exc

        try:
            info = psycopg.conninfo.conninfo_to_dict(spec)
        except psycopg.ProgrammingError as exc:
            raise InvalidInput(f"--store: not a PostgreSQL URL ({exc})") from exc
        where = (
            f"postgresql {info.get('host', '')}:{info.get('port', 5432)}/{info.get('dbname', '')}"
        )
        return UserStore(
            lambda: psycopg.connect(spec, connect_timeout=10), "postgresql", where, (psycopg.Error,)
        )
    path = Path(spec) if spec else artifact_dir("signatures") / "users.db"
    if path.is_dir():
        raise InvalidInput(f"--store {path} is a folder; give a database file or postgresql://")
    if not path.parent.is_dir():
        raise InvalidInput(f"--store {path}: folder {path.parent} does not exist")
    return UserStore(lambda: _sqlite(path), "sqlite", str(path), (sqlite3.Error,))
