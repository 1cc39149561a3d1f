"""A replay for the browser: the newest bar times of bundled datasets (of their union, when
several) through the stored forecaster, one bar time at a time, as JSON frames of the bars and
their forecasts. The live pipeline does the work (``stream.Pipeline``), so a frame is what a
live stream would have published."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from otemachi.core.errors import InvalidInput
from otemachi.markets import data, registry, sources, train
from otemachi.markets.live import LiveState
from otemachi.markets.stream import FLUSH, Pipeline

WARMUP = 250  # bars taken before the replayed ones, so the features and the state are warm
MAX_BARS = 5000
MAX_DATASETS = 8


@dataclass
class Replay:
    """The last ``shown`` bar times of ``books``, after the bars before them warm the model."""

    books: dict[str, pd.DataFrame]
    pipeline: Pipeline
    shown: int

    @classmethod
    def open(cls, names: str, bars: int) -> "Replay":
        """``names``: bundled datasets, comma-separated (files are not read from the browser).
        The model is the stored one a stream of them would use."""
        chosen = [n.strip() for n in names.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in data.DATASETS]
        if not 1 <= len(chosen) <= MAX_DATASETS or unknown:
            raise InvalidInput(
                f"give 1 to {MAX_DATASETS} bundled datasets of {sorted(data.DATASETS)}"
                + (f"; unknown: {unknown}" if unknown else "")
            )
        books = {
            symbol: frame.iloc[-(bars + WARMUP) :]
            for name in dict.fromkeys(chosen)
            for symbol, (frame, _) in data.load_all(name).items()
        }
        net, version = train.load_version(
            registry.default_model(chosen[0] if len(chosen) == 1 else None)
        )
        return cls(books, Pipeline(LiveState(net), version), bars)

    def start(self) -> dict[str, Any]:
        """The first frame: what the replay is, and the warm-up closes of each symbol."""
        first = self.times()[-self.shown :][0]
        history = {}
        for s, b in self.books.items():
            warm = b[b.index < first]
            history[s] = {"time": [t.isoformat() for t in warm.index],
                          "close": warm["close"].round(6).tolist()}  # fmt: skip
        return {
            "symbols": sorted(self.books),
            "model_version": self.pipeline.version,
            "horizons": list(self.pipeline.state.net.cfg.horizons),
            "quantiles": list(self.pipeline.state.net.cfg.quantiles),
            "history": history,
        }

    def times(self) -> pd.DatetimeIndex:
        """Every bar time of the books, in order."""
        return pd.DatetimeIndex(sorted(set().union(*(b.index for b in self.books.values()))))

    def frames(self) -> Iterator[dict[str, Any]]:
        """One frame per replayed bar time: its bars and their forecasts (warm-up bars are
        forecast too, not sent)."""
        shown = {t.value: t for t in self.times()[-self.shown :]}
        prices = {s: _by_time(b) for s, b in self.books.items()}
        for message in sources.messages(self.books, columnar=True):
            batches = self.pipeline.flush() if message is FLUSH else self.pipeline.feed(message)
            for batch in batches:
                when = shown.get(batch.time.value)
                if when is None:
                    continue
                yield {
                    "time": when.isoformat(),
                    "bars": {s: prices[s][batch.time.value] for s in batch.symbols},
                    "forecasts": [p.to_json() for p in batch.rows()],
                }


def bars(text: str) -> int:
    """How many bar times to replay: 1 to MAX_BARS."""
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_BARS:
        raise InvalidInput(f"bars must be a whole number from 1 to {MAX_BARS}, got {text!r}")
    return int(text)


def speed(text: str) -> float:
    """Bar times per second: more than 0, at most 1000."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1000:  # NaN fails too
        raise InvalidInput(f"speed must lie in (0, 1000] bar times per second, got {text!r}")
    return value


def _by_time(bars: pd.DataFrame) -> dict[int, Any]:
    """Each bar's open, high, low and close, by its time in ns (as ``Batch.time.value``)."""
    stamps = pd.DatetimeIndex(bars.index).as_unit("ns").asi8
    rows = bars[data.PRICES].round(6).to_dict("records")
    return dict(zip(stamps.tolist(), rows, strict=True))
