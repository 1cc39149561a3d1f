"""Bulk enrolment: a Parquet table of (user_id, image_path) or (user_id, embedding) rows, one row
per reference, becomes one stored record per person. Two engines share ``fit_frame``: local
(in-process, or a multiprocessing pool) and Apache Spark (any master; ``local[*]`` by default).
Records land in the store one transaction per chunk of people, so a job killed at any moment
loses at most the chunk in flight; a re-run skips everyone already enrolled on this base with
this method, so it resumes without losing or duplicating anyone."""

import functools
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import torch

from otemachi.core.errors import InvalidInput, SetupError
from otemachi.core.paths import home
from otemachi.core.progress import progress
from otemachi.signatures import base as bases
from otemachi.signatures import batchfit, model, oneclass
from otemachi.signatures.base import MAX_REFS, Base, BaseConfig
from otemachi.signatures.preprocess import preprocess, read_image
from otemachi.signatures.security import USER_ID
from otemachi.signatures.store import UserStore

OUT_SCHEMA = (
    "user_id string, params binary, threshold double, n_refs int, refs binary, error string"
)
OUT_SCHEMA_COLUMNS = [c.split()[0] for c in OUT_SCHEMA.split(", ")]


@dataclass(frozen=True)
class Job:
    """What every worker needs: the method, the base's version and background embeddings, and,
    for image inputs, where to load the base network from."""

    method: str
    version: str
    negatives: np.ndarray
    base_cfg: BaseConfig
    home: str
    seed: int = 0
    ocnn_start: oneclass.Params | None = None


@dataclass
class Summary:
    enrolled: int = 0
    skipped: int = 0  # already enrolled on this base with this method
    rejected: dict[str, str] = field(default_factory=dict)  # user id -> reason
    seconds: float = 0.0


def job_for(b: Base, cfg: BaseConfig, method: str) -> Job:
    return Job(method, b.version, b.negatives, cfg, str(home()), ocnn_start=b.ocnn_start)


def read_input(path: Path) -> pd.DataFrame:
    """The input table, checked: a ``user_id`` column and one of ``image_path``/``embedding``."""
    _exists(path)
    try:
        frame = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises many kinds for a damaged or foreign file
        raise InvalidInput(f"{path}: not a readable Parquet table ({exc})") from exc
    return check_columns(frame, str(path))


def synthetic(n: int, seed: int, prefix: str, start: int = 0, dim: int = 128) -> pd.DataFrame:
    """A bulk input of ``n`` made-up people (ids ``prefix`` + 8 digits from ``start``) with 1-5
    random unit embeddings each, one row per reference: for demos, benchmarks and tests."""
    r = np.random.default_rng(seed)
    counts = 1 + r.integers(0, 5, n)
    ids = np.repeat([f"{prefix}{i:08d}" for i in range(start, start + n)], counts)
    emb = r.normal(size=(len(ids), dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return pd.DataFrame({"user_id": ids, "embedding": list(emb)})


def _exists(path: Path) -> None:
    if not path.exists():
        raise InvalidInput(f"{path}: no such Parquet file or folder")


def check_columns(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    kinds = [c for c in ("image_path", "embedding") if c in frame.columns]
    if "user_id" not in frame.columns or len(kinds) != 1:
        raise InvalidInput(
            f"{where} needs columns user_id and exactly one of image_path or embedding; "
            f"it has {list(frame.columns)}"
        )
    return frame[["user_id", kinds[0]]]


@functools.lru_cache(maxsize=2)
def _base(cfg: BaseConfig, home: str) -> Base:
    os.environ["OTEMACHI_HOME"] = home  # a Spark or pool worker: load the job's base
    return bases.load(cfg)


Rows = tuple[np.ndarray, dict[int, str]]  # embeddings (R, E); row -> why it is unusable


def _embeddings(column: pd.Series, dim: int) -> Rows:
    """Each row's embedding as float32, in one stack when every row is sound; row by row (to
    name the bad ones) otherwise."""
    try:
        x = np.stack(list(column)).astype(np.float32)
        if x.shape[1:] == (dim,) and np.isfinite(x).all():
            return x, {}
    except (ValueError, TypeError):
        pass
    x, bad = np.zeros((len(column), dim), np.float32), {}
    for i, e in enumerate(column):
        try:
            v = np.asarray(e, np.float32)
        except (ValueError, TypeError):
            v = np.zeros(0, np.float32)
        if v.shape == (dim,) and np.isfinite(v).all():
            x[i] = v
        else:
            bad[i] = f"embeddings must be {dim} finite numbers each"
    return x, bad


def _images(paths: list[str], job: Job) -> Rows:
    """Each image's embedding through the job's base; unreadable ones named."""
    b = _base(job.base_cfg, job.home)
    if b.version != job.version:
        raise SetupError(f"this worker has base {b.version}, the job was started on {job.version}")
    scans, bad = [], {}
    for i, p in enumerate(paths):
        try:
            scans.append(preprocess(read_image(p), b.net.cfg.resize, b.net.cfg.crop))
        except InvalidInput as exc:
            bad[i] = str(exc)
    x = np.zeros((len(paths), b.net.cfg.embed), np.float32)
    good = [i for i in range(len(paths)) if i not in bad]
    if good:
        x[good] = model.embed(b.net, torch.from_numpy(np.stack(scans))[:, None])
    return x, bad


def fit_frame(frame: pd.DataFrame, job: Job) -> pd.DataFrame:
    """Fit every person in ``frame`` in one batch; an unusable person gets an ``error`` (the
    reason) instead of a record. Columns as ``OUT_SCHEMA``."""
    frame = frame.sort_values("user_id", kind="stable")
    users, starts, counts = np.unique(frame["user_id"].to_numpy(str), return_index=True,
                                      return_counts=True)  # fmt: skip
    if "embedding" in frame.columns:
        x, bad = _embeddings(frame["embedding"], job.negatives.shape[1])
    else:
        x, bad = _images([str(p) for p in frame["image_path"]], job)
    ids, refs, errors = [], [], {}
    for uid, at, n in zip(users.tolist(), starts.tolist(), counts.tolist(), strict=True):
        problem = next((bad[i] for i in range(at, at + n) if i in bad), None) if bad else None
        if not USER_ID.fullmatch(uid):
            problem = "user id is not valid (1-64 letters, digits, '.', '_' or '-')"
        elif not 1 <= n <= MAX_REFS:
            problem = f"{n} references (need 1 to {MAX_REFS})"
        if problem is None:
            ids.append(uid)
            refs.append(x[at : at + n])
        else:
            errors[uid] = problem
    params, thresholds = (
        batchfit.fit_batch(refs, job.method, job.negatives, job.seed, job.ocnn_start)
        if ids
        else ({}, np.zeros(0))
    )
    n_bad = len(errors)
    return pd.DataFrame({
        "user_id": ids + list(errors),
        "params": (oneclass.pack_many(job.method, params) if ids else []) + [None] * n_bad,
        "threshold": list(thresholds) + [np.nan] * n_bad,
        "n_refs": [len(r) for r in refs] + [0] * n_bad,
        "refs": [np.asarray(r, "<f2").tobytes() for r in refs] + [None] * n_bad,
        "error": [None] * len(ids) + list(errors.values()),
    })  # fmt: skip


def _bound(job: Job) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def fit(frame: pd.DataFrame) -> pd.DataFrame:
        return fit_frame(frame, job)

    return fit


def _write(store: UserStore, job: Job, parts: Iterable[pd.DataFrame], total: int) -> Summary:
    """Store each fitted part in one transaction, with a progress bar over people."""
    summary = Summary()
    with progress() as bar:
        task = bar.add_task(f"enrolling ({job.method})", total=total, info="")
        for part in parts:
            ok = part[part["error"].isna()]
            now = time.time()
            rows = [
                (u, job.method, bytes(p), None if pd.isna(t) else float(t), int(n), job.version,
                 now, bytes(r))
                for u, p, t, n, r in zip(ok["user_id"], ok["params"], ok["threshold"],
                                         ok["n_refs"], ok["refs"], strict=True)
            ]  # fmt: skip
            if rows:
                note = f"bulk, {job.method}"
                store.put_rows(rows, audit=[("bulk", "enroll", r[0], note) for r in rows])
            summary.enrolled += len(rows)
            bad = part[part["error"].notna()]
            summary.rejected.update(zip(bad["user_id"], bad["error"], strict=True))
            bar.update(task, advance=len(part), info=f"{len(summary.rejected)} rejected")
    return summary


def enrol_chunks(
    chunks: Iterable[pd.DataFrame], store: UserStore, job: Job, total: int, workers: int = 1
) -> Summary:
    """Fit and store chunks of whole people (each chunk one batch, one transaction), in-process
    or on a pool of ``workers``; ``total`` people in all (for the progress bar)."""
    fit = functools.partial(fit_frame, job=job)
    if workers == 1:
        return _write(store, job, map(fit, chunks), total)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return _write(store, job, pool.imap(fit, chunks), total)


def _chunks(frame: pd.DataFrame, batch: int) -> Iterator[pd.DataFrame]:
    """Whole people, ``batch`` at a time, in user id order."""
    frame = frame.sort_values("user_id", kind="stable")
    starts = np.flatnonzero(
        np.r_[True, frame["user_id"].to_numpy()[1:] != frame["user_id"].to_numpy()[:-1]]
    )
    for i in range(0, len(starts), batch):
        stop = starts[i + batch] if i + batch < len(starts) else len(frame)
        yield frame.iloc[starts[i] : stop]


def run_local(
    frame: pd.DataFrame, store: UserStore, job: Job, batch: int = 2000, workers: int = 1
) -> Summary:
    """Enrol everyone in ``frame`` not yet enrolled, in-process or on a pool of ``workers``."""
    start = time.perf_counter()
    done = store.enrolled(job.version, job.method)
    todo = frame[~frame["user_id"].isin(done)]
    total = todo["user_id"].nunique()
    summary = enrol_chunks(_chunks(todo, batch), store, job, total, workers)
    summary.skipped = frame["user_id"].nunique() - total
    summary.seconds = time.perf_counter() - start
    return summary


def spark_session(master: str = "local[*]"):  # type: ignore[no-untyped-def]
    """A Spark session whose Python workers run this interpreter (and so this environment)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SetupError("pyspark is not installed: `pip install pyspark`") from exc
    os.environ["PYSPARK_PYTHON"] = sys.executable
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    session = (
        SparkSession.builder.master(master)
        .appName("otemachi-signatures-bulk-enroll")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def run_spark(path: Path, store: UserStore, job: Job, session, batch: int = 2000) -> Summary:  # type: ignore[no-untyped-def]
    """Enrol everyone in the Parquet at ``path`` not yet enrolled: people are hashed into
    buckets of about ``batch`` (each person whole in one bucket) and each bucket is fitted in
    one batch by ``groupBy(bucket).applyInPandas``; the driver streams the records into the
    store."""
    from pyspark.sql import functions as F

    start = time.perf_counter()
    _exists(path)
    table = session.read.parquet(str(path))
    check_columns(table.limit(0).toPandas(), str(path))
    done = list(store.enrolled(job.version, job.method))
    people = table.select("user_id").distinct().count()
    if done:
        skip = session.createDataFrame([(u,) for u in done], "user_id string")
        table = table.join(skip, "user_id", "left_anti")
    total = table.select("user_id").distinct().count() if done else people
    buckets = max(1, -(-total // batch))
    fitted = (
        table.withColumn("bucket", F.pmod(F.hash("user_id"), F.lit(buckets)))
        .groupBy("bucket")
        .applyInPandas(_bound(job), OUT_SCHEMA)
    )
    parts = (
        pd.DataFrame(rows, columns=OUT_SCHEMA_COLUMNS)
        for rows in _batched(fitted.toLocalIterator(), batch)
    )
    summary = _write(store, job, parts, total)
    summary.skipped = people - total
    summary.seconds = time.perf_counter() - start
    return summary


def _batched(rows: Iterable[object], size: int) -> Iterator[list[object]]:
    chunk: list[object] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
