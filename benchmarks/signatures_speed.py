"""signatures speed and size: embedding throughput, per-person training time and record size per
method (one CPU thread), side by side.

Run: .venv/bin/python benchmarks/signatures_speed.py
"""

import platform
import time
from datetime import date

import numpy as np
import torch

from otemachi.signatures import augment, base, evaluate, model, oneclass
from otemachi.signatures.data import SignatureDataset


def main() -> None:
    torch.set_num_threads(1)
    print(f"machine: {platform.machine()}, 1 torch thread; {date.today()}")
    b = base.load()
    data = evaluate.evaluation_data("synth", writers=20)
    images = [im for w in data.writers() for im in data.iter_genuine(w)]
    start = time.perf_counter()
    embs = b.embed(images)
    rate = len(images) / (time.perf_counter() - start)
    print(f"embedding (preprocess + CNN), batch 256: {rate:.0f} images/s")
    print("per-person model from 5 reference embeddings (mean of 20 people):")
    print(f"  {'method':6s} {'fit ms':>8s} {'fit+LOO threshold ms':>22s} {'param bytes':>13s}")
    for method in oneclass.METHODS:
        one = oneclass.fitter(method, b.ocnn_start)  # as the service fits it
        fit, full, size = [], [], []
        for i in range(20):
            refs = embs[i * 10 : i * 10 + 5]
            t0 = time.perf_counter()
            one(refs, b.negatives, 0)
            t1 = time.perf_counter()
            user = oneclass.train_user(
                f"user{i}", refs, method, b.negatives, b.version, start=b.ocnn_start
            )
            t2 = time.perf_counter()
            fit.append(t1 - t0)
            full.append(t2 - t1)
            size.append(len(oneclass.pack(method, user.params)))
        print(
            f"  {method:6s} {1e3 * np.mean(fit):8.1f} {1e3 * np.mean(full):22.1f} {max(size):13d}"
        )
    augmented(b, data)


def augmented(b: base.Base, data: SignatureDataset) -> None:
    """A person's fit with augmentation: the references prepared, their views made in one batch
    (``augment.prepared_views``), all embedded, and the model fit on them (no leave-one-out
    threshold). The steps of ``base.embed_views``, timed one by one; the recentring of the views
    on their reference (a subtraction) is left out."""
    print(f"per-person fit with augmentation, about {augment.POINTS} points (mean of 5 people):")
    print(f"  {'refs':>4s} {'views':>5s} {'prepare ms':>10s} {'views ms':>9s} {'embed ms':>9s} "
          f"{'ocnn fit ms':>12s} {'total ms':>9s}")  # fmt: skip
    for n in (1, 5):
        times = []
        for w in data.writers()[:5]:
            scans = list(data.iter_genuine(w))[:n]
            gen = np.random.default_rng(0)
            t0 = time.perf_counter()
            refs = model.prepare(scans, b.net.cfg)
            t1 = time.perf_counter()
            views = augment.prepared_views(refs, [augment.per_reference(n)] * n, gen)
            t2 = time.perf_counter()
            embs = model.embed(b.net, torch.cat([refs, views]))
            t3 = time.perf_counter()
            oneclass.fit_ocnn(embs, b.negatives, 0, b.ocnn_start)
            times.append(np.diff([t0, t1, t2, t3, time.perf_counter()]))
        parts = 1e3 * np.mean(times, axis=0)
        print(f"  {n:4d} {n * augment.per_reference(n):5d} {parts[0]:10.1f} {parts[1]:9.1f} "
              f"{parts[2]:9.1f} {parts[3]:12.1f} {parts.sum():9.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
