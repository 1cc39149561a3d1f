"""markets demo: a walk-forward backtest of the bundled S&P 500 series, then a live replay of
300 synthetic symbols through the in-process bus with the forecaster trained on S&P 500."""

import io
import json
import time

from otemachi.core.report import Report, markdown_table
from otemachi.markets import data, evaluate, plots, runner, sources, stream, train
from otemachi.markets.model import RNNConfig

LIVE_SYMBOLS, LIVE_BARS = 300, 120


def demo(report: Report) -> None:
    backtest(report)
    live(report)


def backtest(report: Report) -> None:
    """GRU against every baseline at horizons 1, 5 and 20 on S&P 500 daily bars."""
    bars, _ = data.load("sp500")
    start = time.perf_counter()
    bt = evaluate.run(bars, ["gru", "ewma", "garch", "garch-t", "gbm"], (1, 5, 20))
    elapsed = time.perf_counter() - start
    folder = report.folder("markets")
    saved = evaluate.save(bt, "sp500", folder)
    report.result("markets.backtest", evaluate.to_json(bt, "sp500"))
    table = markdown_table(["h", "model", *evaluate.HEADERS], evaluate.rows(bt))
    verdicts = "\n".join(f"- {line}" for line in evaluate.verdicts(bt.scores))
    images = "\n\n".join(report.image(p, p.stem) for p in saved["figures"])
    report.add(
        "markets: S&P 500 walk-forward backtest",
        f"{len(bars)} daily bars, {len(bt.origins)} out-of-sample origins, "
        f"backtest took {elapsed:.0f} s.\n\n{table}\n\n{verdicts}\n\n{images}",
    )


def live(report: Report) -> None:
    """Train (or load) the S&P 500 forecaster and stream synthetic symbols through it."""
    bars, _ = data.load("sp500")
    path, _ = train.train(bars, "sp500", train.Setup(RNNConfig(), train.TrainConfig()))
    net, version = train.load_version(path)
    books = sources.synthetic(LIVE_SYMBOLS, LIVE_BARS, seed=7)
    sink = io.StringIO()
    start = time.perf_counter()
    run = runner.in_process(
        sources.messages(books, columnar=True), sources.count(books, columnar=True), net,
        version, sink,
    )  # fmt: skip
    summary = stream.summary(*run, time.perf_counter() - start, len(books), version)
    report.result("markets.live", summary)
    symbol = min(books)
    docs = [json.loads(line) for line in sink.getvalue().splitlines()]
    fan = plots.live_fan(books[symbol], [d for d in docs if d["symbol"] == symbol],
                         report.folder("markets") / "live_fan.png")  # fmt: skip
    keys = ["symbols", "bars", "forecasts", "dead_letters", "latency_ms_p50", "latency_ms_p99",
            "bars_per_s"]  # fmt: skip
    table = markdown_table(keys, [[str(summary[k]) for k in keys]])
    report.add(
        "markets: live replay",
        f"{LIVE_SYMBOLS} synthetic GARCH symbols x {LIVE_BARS} daily bars, one message per bar "
        f"time, through the in-process bus and the S&P 500 forecaster (version {version}). "
        "Latency: a bar time sent to its forecasts handed to the commit.\n\n"
        f"{table}\n\n{report.image(fan, 'live forecast fan')}",
    )
