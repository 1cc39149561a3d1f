"""Champion/challenger retraining while a stream runs. The stream records the bars it takes;
every N bars per symbol (on average over its symbols) a background process fine-tunes the
champion on them, holding back each symbol's newest bars, and compares the two networks' loss
(pinball plus 0.1 BCE on the up-logit) on those held-back bars. The challenger is stored as a new
version either way and promoted only if its loss is lower beyond chance (a one-sided
Diebold-Mariano test over the held-back bars, p < 0.05) and the champion it was made from is
still the champion; the stream's workers follow the champion, so they swap to it between two bar
times. Every contest is logged to ``OTEMACHI_HOME/markets/challenges.jsonl``."""

import copy
import json
import math
import queue
import signal
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from otemachi.core.errors import InvalidInput
from otemachi.core.paths import artifact_dir
from otemachi.core.progress import console
from otemachi.core.seeding import rng
from otemachi.markets import metrics, registry, train
from otemachi.markets.checks import Bar, check
from otemachi.markets.features import WARMUP, build_series
from otemachi.markets.forecast import Series
from otemachi.markets.model import RNNForecaster
from otemachi.markets.train import ARTIFACT, Setup, TrainConfig, _loss, _normalised

COLUMNS = ["open", "high", "low", "close", "volume"]
WEIGHT_DECAY = 1e-4
PROMOTE_P = 0.05  # one-sided Diebold-Mariano: a challenger must be better, not only lower


@dataclass(frozen=True)
class FineTune:
    """How a challenger is made from the champion."""

    holdout: int = 32  # newest bars of each symbol: never trained on, the contest is on them
    window: int = 128
    burn_in: int = 32
    batch: int = 16
    steps: int = 40
    lr: float = 1e-3
    keep: int = 1000  # bars remembered per symbol
    symbols: int = 16  # symbols fine-tuned on (those with the most bars)
    seed: int = 0

    @property
    def needs(self) -> int:
        """Bars a symbol needs before it can take part."""
        return WARMUP + self.window + self.holdout


DEFAULT = FineTune()


@dataclass(frozen=True)
class Contest:
    champion: str
    challenger: str
    champion_loss: float
    challenger_loss: float
    p_value: float  # one-sided: that the challenger's lower loss is chance (NaN: no variation)
    promoted: bool
    symbols: int
    bars: int


def _held_out_losses(net: RNNForecaster, series: list[Series], holdout: int) -> np.ndarray:
    """The training loss (pinball plus 0.1 BCE, over the targets a bar has) of ``net`` at each
    of every series' newest ``holdout`` bars that has a target, series after series."""
    taus = torch.tensor(net.cfg.quantiles)
    per_bar = []
    net.eval()
    with torch.no_grad():
        for s in series:
            x = torch.tensor(s.features, dtype=torch.float32)
            y = _normalised(s, len(x))
            out, _ = net(x[None])
            cut = slice(len(x) - holdout, len(x))
            for t in range(cut.start, cut.stop):
                if not torch.isnan(y["ret"][t]).all():
                    one = {k: v[0, t : t + 1] for k, v in out.items()}
                    per_bar.append(float(_loss(one, {k: v[t : t + 1] for k, v in y.items()}, taus)))
    return np.array(per_bar)


def better(champion: np.ndarray, challenger: np.ndarray, horizon: int) -> float:
    """One-sided Diebold-Mariano p-value that the challenger's per-bar losses are lower than the
    champion's only by chance (1 when they are not lower at all)."""
    two_sided = metrics.diebold_mariano(champion, challenger, horizon)
    if not np.isfinite(two_sided):
        return math.nan
    return two_sided / 2 if champion.mean() > challenger.mean() else 1 - two_sided / 2


def _fine_tune(net: RNNForecaster, series: list[Series], cfg: FineTune) -> RNNForecaster:
    """The champion trained a little further on every series but its newest ``holdout`` bars
    (targets that would reach into them are masked)."""
    xs = [torch.tensor(s.features, dtype=torch.float32) for s in series]
    ys = [_normalised(s, len(x) - cfg.holdout) for s, x in zip(series, xs, strict=True)]
    taus = torch.tensor(net.cfg.quantiles)
    gen = rng(cfg.seed, "markets", "challenger")
    keep = slice(cfg.burn_in, None)

    def windows() -> Iterator[tuple[int, np.ndarray]]:
        for _ in range(cfg.steps):
            k = int(gen.integers(len(series)))
            hi = len(xs[k]) - cfg.holdout - cfg.window
            yield k, gen.integers(WARMUP, hi + 1, size=cfg.batch)

    def loss(model: RNNForecaster, batch: tuple[int, np.ndarray]) -> torch.Tensor:
        k, starts = batch
        idx = torch.tensor(starts)[:, None] + torch.arange(cfg.window)[None, :]
        out, _ = model(xs[k][idx])
        y = {name: v[idx][:, keep] for name, v in ys[k].items()}
        return _loss({name: v[:, keep] for name, v in out.items()}, y, taus)

    torch.manual_seed(cfg.seed)
    model = copy.deepcopy(net).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=WEIGHT_DECAY)
    for batch in windows():  # quietly: it runs beside a live stream display
        opt.zero_grad()
        loss(model, batch).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model.eval()


def challenge(champion: Path, bars: dict[str, pd.DataFrame], cfg: FineTune) -> Contest:
    """Fine-tune the network of ``champion`` on ``bars`` (one frame per symbol), store the
    challenger and promote it if its held-out loss is lower beyond chance (one-sided
    Diebold-Mariano over the held-out bars, p < PROMOTE_P); the contest is logged."""
    net, version = train.load_version(champion)
    frames = [b for b in bars.values() if len(b) >= cfg.needs]
    if not frames:
        raise InvalidInput(f"a challenger needs a symbol with at least {cfg.needs} bars")
    series = [build_series(b, net.cfg.horizons) for b in frames]
    challenger = _fine_tune(net, series, cfg)
    old_losses = _held_out_losses(net, series, cfg.holdout)
    new_losses = _held_out_losses(challenger, series, cfg.holdout)
    before, after = float(old_losses.mean()), float(new_losses.mean())
    # overlapping targets make neighbouring bars' losses correlated, but a few dozen held-out
    # bars cannot carry max(horizons) - 1 autocovariances: Newey-West's rule of thumb caps them
    lags = min(max(net.cfg.horizons), max(1, int(4 * (len(old_losses) / 100) ** (2 / 9))))
    p_value = better(old_losses, new_losses, lags)
    every = pd.concat(frames)
    setup = Setup(net.cfg, TrainConfig(seed=cfg.seed, window=cfg.window, burn_in=cfg.burn_in,
                                       batch=cfg.batch, steps_per_epoch=cfg.steps, max_epochs=1,
                                       lr=cfg.lr, weight_decay=WEIGHT_DECAY))  # fmt: skip
    trained = pd.concat([f.iloc[: -cfg.holdout] for f in frames]).index
    metrics = {
        "bars": len(trained),  # trained on (the newest of each symbol were held back)
        "first": str(trained.min()),
        "last": str(trained.max()),
        "champion": version,
        "held_out_loss": after,
        "champion_held_out_loss": before,
    }
    path = ARTIFACT.save(setup, challenger.state_dict(), metrics,
                         f"{train.bars_hash(every)}-{version}", f"stream-{net.cfg.cell}",
                         net.cfg)  # fmt: skip
    new = train.load_version(path)[1]
    promoted = p_value < PROMOTE_P and registry.promote_over(new, version)
    contest = Contest(version, new, before, after, p_value, promoted, len(frames), len(every))
    with (artifact_dir("markets") / "challenges.jsonl").open("a") as log:
        log.write(
            json.dumps({"time": pd.Timestamp.now("UTC").isoformat(), **asdict(contest)}) + "\n"
        )
    return contest


def _contest(champion: Path, frames: dict[str, pd.DataFrame], cfg: FineTune, out: Any) -> None:
    """A contest in the background process: quiet to Ctrl-C (the stream decides), one thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    try:
        out.put(challenge(champion, frames, cfg))
    except Exception as exc:  # reported by the stream, which goes on
        out.put(f"{type(exc).__name__}: {exc}")


class Challenger:
    """Records the bars of a stream's messages and starts a contest in a background process
    every ``every`` bars per symbol (one at a time; bars keep flowing meanwhile)."""

    def __init__(self, every: int, model: Path, cfg: FineTune | None = None) -> None:
        cfg = cfg or DEFAULT
        if every < cfg.holdout:
            raise InvalidInput(f"--retrain-every must be at least {cfg.holdout} bars")
        self.every, self.cfg = every, cfg
        if not registry.history():  # the stream's model is the champion a challenger must beat
            registry.promote(train.load_version(model)[1])
        self.bars: dict[str, deque[tuple[int, tuple[float, ...]]]] = defaultdict(
            lambda: deque(maxlen=cfg.keep)
        )
        self._since = 0  # bars taken since the last contest started
        self._ctx = get_context("spawn")
        self._results: Any = None
        self._running: BaseProcess | None = None
        self.contests: list[Contest] = []

    def tap(self, messages: Iterable[Any]) -> Iterator[Any]:
        """``messages`` unchanged, each valid bar recorded on the way. A running contest is
        waited for when they end, and stopped when the stream is interrupted."""
        ended = False
        try:
            for message in messages:
                self.record(message)
                yield message
            ended = True
        finally:
            self.close(wait=ended)

    def record(self, message: Any) -> None:
        got = check(message)
        if isinstance(got, str):
            return
        if isinstance(got, Bar):
            rows = [(got.symbol, got.prices)]
        else:
            rows = list(zip(got.symbols, map(tuple, got.ohlcv), strict=True))
        stamp = got.when.value
        for symbol, prices in rows:
            seen = self.bars[symbol]
            if not seen or seen[-1][0] < stamp:
                seen.append((stamp, tuple(map(float, prices))))
                self._since += 1
        self._collect()
        if self._since >= self.every * max(len(self.bars), 1) and self._running is None:
            self._since = 0
            try:
                self._start()
            except Exception as exc:  # a damaged registry, a missing champion: say so, go on
                console.print(f"[yellow]no challenger this time: {exc}[/yellow]")

    def _frames(self) -> dict[str, pd.DataFrame]:
        """The symbols with the newest bars (then the most), up to ``cfg.symbols``."""
        ready = [s for s, b in self.bars.items() if len(b) >= self.cfg.needs]
        chosen = sorted(ready, key=lambda s: (-self.bars[s][-1][0], -len(self.bars[s])))
        return {
            s: pd.DataFrame([p for _, p in self.bars[s]], columns=COLUMNS,
                            index=pd.DatetimeIndex([t for t, _ in self.bars[s]]))
            for s in chosen[: self.cfg.symbols]
        }  # fmt: skip

    def _start(self) -> None:
        frames = self._frames()
        if not frames:
            return
        champion = registry.find(registry.history()[-1]).path
        self._results = self._ctx.Queue()
        self._running = self._ctx.Process(
            target=_contest, args=(champion, frames, self.cfg, self._results), daemon=True
        )
        self._running.start()

    def _collect(self, wait: bool = False) -> None:
        """Report a finished contest (with ``wait``, the running one once it finishes)."""
        job = self._running
        if job is None:
            return
        while wait and job.is_alive() and self._results.empty():
            job.join(0.1)
        if job.is_alive() and self._results.empty():
            return
        try:
            got = self._results.get(timeout=5)
        except queue.Empty:
            got = f"the background process ended with exit code {job.exitcode}"
        job.join()
        self._running = None
        if isinstance(got, str):
            console.print(f"[yellow]challenger failed: {got}[/yellow]")
            return
        self.contests.append(got)
        verdict = "promoted" if got.promoted else "kept the champion"
        console.print(
            f"challenger {got.challenger} vs champion {got.champion}: held-out loss "
            f"{got.challenger_loss:.4f} vs {got.champion_loss:.4f}, {verdict}"
        )

    def close(self, wait: bool = True) -> None:
        """Wait for a running contest (``wait``), or stop it; safe to call twice."""
        if self._running is None:
            return
        if wait:
            self._collect(wait=True)
            return
        self._running.terminate()
        self._running.join()
        self._running = None
        console.print("[yellow]interrupted: the running challenger was stopped[/yellow]")
