"""The global network's ablation as one panel backtest split over processes: every single network
(and every member of the two seed ensembles) fits its folds in a process of its own, one thread
each, and the ensembles are the members' forecasts averaged as ``SeedEnsemble`` averages them.
The numbers are those of

    otemachi markets backtest --data SERIES --model global,global-sched,global-vol,global-emb,\
global-ens,global-all,garch-t --json

(the same seeds, folds and fits; equal up to floating-point noise, as each process here runs on
one thread), in about the time of the slowest single network when there are enough cores.

Run: .venv/bin/python scripts/markets_ablation.py [--jobs 10] [--out markets-ablation]
(each process's forecasts are kept in OUT/parts, so a run stopped halfway goes on from there)
"""

import argparse
import hashlib
import json
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from otemachi.markets import data, evaluate, panel
from otemachi.markets.ensemble import average
from otemachi.markets.features import build_series
from otemachi.markets.forecast import Forecast

SERIES = "sp500,nasdaq,nvda,amzn,msft,nflx,spx2015,tsla"
HORIZONS = (1, 5, 20)
SINGLES = ["global", "global-sched", "global-vol", "global-emb"]
# Each ensemble and the model whose run with seed s is its member s (with one member a run, an
# ensemble model is its member of the run's seed).
ENSEMBLES = {"global-ens": "global", "global-all": "global-all"}
TASKS = [("rw,garch-t", 0), *[(m, 0) for m in SINGLES],
         *[(m, s) for m in ENSEMBLES.values() for s in range(evaluate.ENSEMBLE)
           if (m, s) != ("global", 0)]]  # fmt: skip


def _bars(names: list[str]) -> dict[str, pd.DataFrame]:
    return {n: data.load(n)[0] for n in names}


def _key(names: list[str]) -> str:
    """What a stored part depends on besides its models and seed: the series and the horizons."""
    return hashlib.sha256(f"{names}{HORIZONS}".encode()).hexdigest()[:12]


def task(names: list[str], parts: Path, models: str, seed: int) -> Path:
    """One process's share: its models' out-of-sample forecasts per series, pickled into
    ``parts`` (a run finds them there and does not fit them again)."""
    path = parts / f"{models}-{seed}-{_key(names)}.pkl"
    if path.exists():
        return path
    torch.set_num_threads(1)
    evaluate.ENSEMBLE = 1
    started = time.perf_counter()
    result = panel.run(_bars(names), models.split(","), HORIZONS, seed=seed)
    print(f"{models} seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
    found = {n: (bt.origins, bt.forecasts) for n, bt in result.backtests.items()}
    path.with_suffix(".tmp").write_bytes(pickle.dumps(found))
    return path.with_suffix(".tmp").replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=SERIES)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("markets-ablation"))
    args = ap.parse_args()
    names = args.data.split(",")
    started = time.perf_counter()
    parts = args.out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    jobs = len(TASKS)
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(task, [names] * jobs, [parts] * jobs, *zip(*TASKS, strict=True)))
    done = {t: pickle.loads(path.read_bytes()) for t, path in zip(TASKS, runs, strict=True)}
    tested = done[TASKS[0]]
    for t, part in done.items():  # every part forecast the same origins
        assert part.keys() == tested.keys(), t
        assert all(np.array_equal(part[n][0], tested[n][0]) for n in tested), t
    forecasts: dict[str, dict[str, Forecast]] = {}
    for n, (_, baselines) in tested.items():
        found = forecasts[n] = dict(baselines)
        for m in SINGLES:
            found[m] = done[(m, 0)][n][1][m]
        for name, member in ENSEMBLES.items():
            seeds = range(evaluate.ENSEMBLE)
            found[name] = average([done[(member, s)][n][1][member] for s in seeds])
    bars = _bars(names)
    result = panel.assemble({n: build_series(bars[n], HORIZONS) for n in tested},
                            {n: pd.DatetimeIndex(bars[n].index) for n in tested},
                            {n: o for n, (o, _) in tested.items()}, forecasts,
                            panel.schedule(bars))  # fmt: skip
    panel.save(result, args.out)
    print(json.dumps({"seconds": round(time.perf_counter() - started),
                      **panel.to_json(result)}))  # fmt: skip
    for h, table in result.mean_scores().items():
        for m, s in table.items():
            print(f"h={h:>2} {m:>13} crps/rw {s['crps_vs_rw']:.4f} cov80 {s['coverage80']:.3f}")


if __name__ == "__main__":
    main()
