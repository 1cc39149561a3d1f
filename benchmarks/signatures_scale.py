"""signatures at bank scale, one run, one table:

- 1,000,000 people enrolled from synthetic embeddings (1-5 references each) with the batched
  local engine (svdd) into SQLite; ocnn on 20,000 people; Spark local[*] on 100,000 people;
- bytes per person, store size, record lookup p50/p99 cold (not in the LRU) and warm;
- HTTP verify p50/p99 and errors with 64 concurrent clients for 60 s against `uvicorn`, each
  request a real signature image through preprocessing and the CNN (micro-batched); then open
  loop, requests arriving at 50, 100, 150 and 200 per second for 30 s each (latency from when
  each was due). The load generator (aiohttp, each form encoded once) shares the two cores with
  the server, so it is kept cheap: httpx with 64 connections took a whole core and capped the
  server at about 70 requests/s;
- the naive baseline a team would write first, in the same run: one pickled scikit-learn
  OneClassSVM file per person, loaded per request (10,000 people), with the ratios.

Needs the default base: `otemachi signatures train` (make bench runs it).
Run: .venv/bin/python benchmarks/signatures_scale.py
"""

import asyncio
import gc
import io
import math
import os
import pickle
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import aiohttp
import httpx
import numpy as np
import pandas as pd
from PIL import Image
from sklearn.svm import OneClassSVM

from otemachi.signatures import base, bulk, data, oneclass
from otemachi.signatures.store import UserStore, open_store

USERS, OCNN_USERS, SPARK_USERS, NAIVE_USERS = 1_000_000, 20_000, 100_000, 10_000
CHUNK = 20_000
CLIENTS, SECONDS = 64, 60.0
RATES, PACED_SECONDS = (50.0, 100.0, 150.0, 200.0), 30.0  # open-loop arrival rates (requests/s)


def people(n: int, seed: int, offset: int = 0) -> pd.DataFrame:
    """n people (ids c00000000...) with 1-5 unit embeddings each, one row per reference."""
    return bulk.synthetic(n, seed, "c", offset)


def timed_enrol(store: UserStore, job: bulk.Job, n: int) -> float:
    """People per second through fit + store, not counting the time spent making the data."""
    making = 0.0

    def chunks() -> Iterator[pd.DataFrame]:
        nonlocal making
        for at in range(0, n, CHUNK):
            t = time.perf_counter()
            frame = people(min(CHUNK, n - at), seed=at, offset=at)
            making += time.perf_counter() - t
            yield frame

    start = time.perf_counter()
    summary = bulk.enrol_chunks(chunks(), store, job, n)
    assert summary.enrolled == n and not summary.rejected, summary
    return n / (time.perf_counter() - start - making)


def lookups(url: str, ids: list[str], probe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Milliseconds per record lookup and score of one embedding: first through a fresh store
    (cold: not in the LRU), then again (warm)."""
    store = open_store(url)
    store.cache.ttl = math.inf  # the warm pass must find what the cold pass cached
    out = []
    for _ in range(2):
        times = []
        for u in ids:
            t = time.perf_counter()
            oneclass.score(store.get(u).model, probe[None])
            times.append(time.perf_counter() - t)
        out.append(1e3 * np.array(times))
    return out[0], out[1]


def naive(folder: Path, n: int, probe: np.ndarray) -> dict[str, float]:
    """One pickled OneClassSVM per person: enrol rate, bytes per person, load-per-request times."""
    frame = people(n, seed=7)
    start = time.perf_counter()
    for uid, rows in frame.groupby("user_id"):
        model = OneClassSVM(gamma="scale", nu=0.1).fit(np.stack(rows["embedding"].to_numpy()))
        (folder / f"{uid}.pkl").write_bytes(pickle.dumps(model))
    rate = n / (time.perf_counter() - start)
    files = sorted(folder.glob("*.pkl"))
    times = []
    for path in np.random.default_rng(0).choice(files, 2000):
        t = time.perf_counter()
        model = pickle.loads(Path(path).read_bytes())  # the baseline itself: not project code
        model.decision_function(probe[None])
        times.append(time.perf_counter() - t)
    size = sum(p.stat().st_size for p in files) / n
    return {"rate": rate, "bytes": size, "p50": 1e3 * np.percentile(times, 50),
            "p99": 1e3 * np.percentile(times, 99)}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BOUNDARY = "otemachi-benchmark-form"


def form(png: bytes) -> bytes:
    """A verify request's multipart body (the image as field ``file``)."""
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="s.png"\r\n'
            "Content-Type: image/png\r\n\r\n")  # fmt: skip
    return head.encode() + png + f"\r\n--{BOUNDARY}--\r\n".encode()


class Load:
    """Verify requests against one server: random people and images; latencies and failures."""

    def __init__(self, url: str, key: str, ids: list[str], pngs: list[bytes], seed: int) -> None:
        self.url, self.ids, self.bodies = url, ids, [form(p) for p in pngs]
        kind = f"multipart/form-data; boundary={BOUNDARY}"
        self.headers = {"X-API-Key": key, "Content-Type": kind}
        self.r = np.random.default_rng(seed)
        self.latencies: list[float] = []
        self.errors = 0

    async def verify(self, http: aiohttp.ClientSession, since: float) -> None:
        """One request; its latency counted from ``since``."""
        uid = self.ids[self.r.integers(len(self.ids))]
        body = self.bodies[self.r.integers(len(self.bodies))]
        try:
            async with http.post(f"{self.url}/api/signatures/users/{uid}/verify", data=body,
                                 headers=self.headers) as resp:  # fmt: skip
                await resp.read()
                ok = resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if ok:
            self.latencies.append(time.perf_counter() - since)
        else:
            self.errors += 1


async def hammer(load: Load, seconds: float) -> Load:
    """Closed loop: CLIENTS clients, each sending its next request when the last is answered."""
    stop = time.perf_counter() + seconds

    async def client(http: aiohttp.ClientSession) -> None:
        while time.perf_counter() < stop:
            await load.verify(http, time.perf_counter())

    async with session(CLIENTS, 30) as http:
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
    return load


def session(connections: int, timeout: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections),
                                 timeout=aiohttp.ClientTimeout(total=timeout))  # fmt: skip


async def paced(load: Load, rate: float, seconds: float) -> Load:
    """Open loop: one request every 1/rate s whatever the answers, as customers arrive; each
    latency runs from the moment the request was due, so a server that falls behind shows it."""
    async with session(1000, 60) as http:
        start, tasks = time.perf_counter(), []
        for i in range(int(rate * seconds)):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(load.verify(http, due)))
        await asyncio.gather(*tasks)
    return load


def http_verify(db: str, ids: list[str]) -> dict[str, dict[str, float]]:
    key = open_store(db).create_key("benchmark")
    port = free_port()
    env = {**os.environ, "OTEMACHI_SIGNATURES_STORE": db}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "otemachi.server:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        corpus = data.SynthDataset(20, n_genuine=2, n_forgeries=0, seed=4242, prefix="bench")
        pngs = []
        for w in corpus.writers():
            for image in corpus.iter_genuine(w):
                buf = io.BytesIO()
                Image.fromarray(image).save(buf, format="PNG")
                pngs.append(buf.getvalue())
        asyncio.run(hammer(Load(url, key, ids[:1000], pngs[:4], 0), 5.0))  # loads the base
        # the million people made above stay in this process; frozen, a full collection no
        # longer stops the load generator for about 100 ms mid-run (seen as server latency)
        gc.collect()
        gc.freeze()
        out = {"closed": _summary(asyncio.run(hammer(Load(url, key, ids, pngs, 1), SECONDS)),
                                  SECONDS)}  # fmt: skip
        for rate in RATES:
            load = asyncio.run(paced(Load(url, key, ids, pngs, 2), rate, PACED_SECONDS))
            out[f"{rate:.0f}/s"] = _summary(load, PACED_SECONDS)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def _summary(load: Load, seconds: float) -> dict[str, float]:
    ms = 1e3 * np.array(load.latencies or [np.nan])
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
            "rps": len(load.latencies) / seconds, "errors": load.errors}  # fmt: skip


def main() -> None:
    cfg = base.BaseConfig()
    b = base.load(cfg)
    folder = Path(tempfile.mkdtemp(prefix="otemachi-scale-"))
    db = str(folder / "users.db")
    store = open_store(db)
    print(f"{platform.node()} {os.cpu_count()} CPUs, {date.today()}, base {b.version}")

    svdd_rate = timed_enrol(store, bulk.job_for(b, cfg, "svdd"), USERS)
    ocnn_rate = timed_enrol(open_store(str(folder / "ocnn.db")), bulk.job_for(b, cfg, "ocnn"),
                            OCNN_USERS)  # fmt: skip
    spark_in = folder / "spark.parquet"
    people(SPARK_USERS, seed=99).to_parquet(spark_in)
    session = bulk.spark_session("local[*]")
    try:
        s = bulk.run_spark(spark_in, open_store(str(folder / "spark.db")),
                           bulk.job_for(b, cfg, "svdd"), session, 20_000)  # fmt: skip
    finally:
        session.stop()
    spark_rate = s.enrolled / s.seconds

    with store._tx() as cur:
        cur.execute("SELECT AVG(LENGTH(params) + LENGTH(refs)) FROM users")
        per_user = float(cur.fetchone()[0])
    size = sum(p.stat().st_size for p in folder.glob("users.db*"))
    ids = [f"c{i:08d}" for i in np.random.default_rng(3).choice(USERS, 20_000, replace=False)]
    probe = np.random.default_rng(5).normal(size=128).astype(np.float32)
    cold, warm = lookups(db, ids, probe)
    pct = lambda x: (np.percentile(x, 50), np.percentile(x, 99))  # noqa: E731
    naive_folder = Path(tempfile.mkdtemp(prefix="otemachi-naive-"))
    nv = naive(naive_folder, NAIVE_USERS, probe)
    http = http_verify(db, [f"c{i:08d}" for i in range(USERS)])
    for f in (folder, naive_folder):
        shutil.rmtree(f)

    rows = [
        ("enrol svdd, batched local (users/s)", f"{svdd_rate:,.0f}", f"{nv['rate']:,.0f}",
         f"{svdd_rate / nv['rate']:.1f}x"),
        ("enrol ocnn, batched local (users/s)", f"{ocnn_rate:,.0f}", "", ""),
        (f"enrol svdd, Spark local[*], {SPARK_USERS:,} (users/s)", f"{spark_rate:,.0f}", "", ""),
        ("bytes per user (parameters + references)", f"{per_user:,.0f}", f"{nv['bytes']:,.0f}",
         f"{nv['bytes'] / per_user:.1f}x smaller"),
        (f"store size, {USERS:,} users (MB)", f"{size / 1e6:,.0f}", "", ""),
        ("lookup + score p50 / p99 cold (ms)", "{:.3f} / {:.3f}".format(*pct(cold)),
         f"{nv['p50']:.3f} / {nv['p99']:.3f}", f"{nv['p99'] / pct(cold)[1]:.1f}x"),
        ("lookup + score p50 / p99 warm (ms)", "{:.4f} / {:.4f}".format(*pct(warm)), "", ""),
    ]  # fmt: skip
    for load, h in http.items():
        name = f"{CLIENTS} clients, closed loop" if load == "closed" else f"arriving at {load}"
        rows.append((f"HTTP verify, {name}: p50 / p99 (ms)", f"{h['p50']:.1f} / {h['p99']:.1f}",
                     "", ""))  # fmt: skip
        rows.append((f"HTTP verify, {name}: requests/s, errors", f"{h['rps']:.1f}, "
                     f"{h['errors']:.0f}", "", ""))  # fmt: skip
    print(f"{'':52s} {'otemachi':>22s} {'naive':>16s} {'ratio':>16s}")
    for name, ours, theirs, ratio in rows:
        print(f"{name:52s} {ours:>22s} {theirs:>16s} {ratio:>16s}")
    print(f"naive baseline measured on {NAIVE_USERS:,} users (one file each)")


if __name__ == "__main__":
    main()
