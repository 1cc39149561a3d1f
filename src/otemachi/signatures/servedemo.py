"""The service half of the signatures demo: bulk-enrol synthetic people (from signature images,
and many more from synthetic embeddings), then verify real scans over HTTP against a uvicorn
server on 127.0.0.1, and report the scale table."""

import io
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import uvicorn
from PIL import Image

from otemachi.core.progress import track
from otemachi.core.report import Report, markdown_table
from otemachi.server import Settings, create_app
from otemachi.signatures import bulk, data
from otemachi.signatures.base import Base, BaseConfig
from otemachi.signatures.store import open_store

FROM_IMAGES, FROM_EMBEDDINGS = 300, 5_000


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _images(folder: Path) -> tuple[pd.DataFrame, dict[str, tuple[bytes, bytes]]]:
    """Reference rows of people drawn by the generator (1-3 each) and, per person, a held-out
    genuine signature and a skilled forgery to verify."""
    corpus = data.SynthDataset(FROM_IMAGES, n_genuine=4, n_forgeries=1, seed=31337, prefix="demo")
    rows, probes = [], {}
    for i, w in enumerate(track(corpus.writers(), "drawing demo signatures")):
        genuine = list(corpus.iter_genuine(w))
        for j, image in enumerate(genuine[: 1 + i % 3]):
            path = folder / f"{w}-{j}.png"
            Image.fromarray(image).save(path)
            rows.append((w, str(path)))
        probes[w] = (_png(genuine[3]), _png(next(iter(corpus.iter_forgery(w)))))
    return pd.DataFrame(rows, columns=["user_id", "image_path"]), probes


def _serve(db: str) -> tuple[uvicorn.Server, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(Settings(signatures_store=db)), host="127.0.0.1",
                            port=port, log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the demo's HTTP server did not start on port {port}")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def service_demo(b: Base, report: Report) -> None:
    """Bulk enrolment, HTTP verification of held-out genuine scans and skilled forgeries."""
    folder = report.folder("signatures") / "service"
    shutil.rmtree(folder, ignore_errors=True)  # this demo's own output of an earlier run
    folder.mkdir()
    db = str(folder / "users.db")
    store = open_store(db)
    table, probes = _images(folder)
    job = bulk.job_for(b, BaseConfig(), "svdd")
    from_images = bulk.run_local(table, store, job, batch=100)
    from_embeddings = bulk.run_local(
        bulk.synthetic(FROM_EMBEDDINGS, 0, "bulk"), store, job, batch=2_000
    )
    server, url = _serve(db)
    verdicts: dict[str, list[bool]] = {"genuine": [], "forged": []}
    latencies = []
    try:
        headers = {"X-API-Key": store.create_key("demo")}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            for user, pair in track(list(probes.items()), "verifying over HTTP"):
                for kind, png in zip(("genuine", "forged"), pair, strict=True):
                    t = time.perf_counter()
                    r = http.post(f"/api/signatures/users/{user}/verify",
                                  files={"file": ("s.png", png, "image/png")})  # fmt: skip
                    latencies.append(1e3 * (time.perf_counter() - t))
                    r.raise_for_status()
                    verdicts[kind].append(r.json()["genuine"])
    finally:
        server.should_exit = True
    size = sum(p.stat().st_size for p in folder.glob("users.db*"))
    rows = [
        ["people enrolled from images (1-3 references)", f"{from_images.enrolled:,}",
         f"{from_images.enrolled / from_images.seconds:,.0f} people/s (with the CNN)"],
        ["people enrolled from embeddings", f"{from_embeddings.enrolled:,}",
         f"{from_embeddings.enrolled / from_embeddings.seconds:,.0f} people/s"],
        ["store size", f"{size / 1e6:.1f} MB", f"{size / store.count():,.0f} bytes per person"],
        ["held-out genuine accepted over HTTP", f"{np.mean(verdicts['genuine']):.1%}",
         f"of {len(verdicts['genuine'])}"],
        ["skilled forgeries rejected over HTTP", f"{1 - np.mean(verdicts['forged']):.1%}",
         f"of {len(verdicts['forged'])}"],
        ["HTTP verify latency p50 / p99 (one client)",
         f"{np.percentile(latencies, 50):.1f} / {np.percentile(latencies, 99):.1f} ms", ""],
    ]  # fmt: skip
    report.add(
        "signatures: the service, enrolled in bulk and verified over HTTP",
        f"SQLite store {db}; svdd per person on base {b.version}; thresholds as shipped.\n\n"
        + markdown_table(["", "value", "note"], rows),
    )
