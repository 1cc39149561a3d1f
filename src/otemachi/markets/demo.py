"""markets demo: a walk-forward backtest of the bundled S&P 500 series, into the report."""

import time

from otemachi.core.report import Report, markdown_table
from otemachi.markets import data, evaluate


def demo(report: Report) -> None:
    """GRU against every baseline at horizons 1, 5 and 20 on S&P 500 daily bars."""
    bars, _ = data.load("sp500")
    start = time.perf_counter()
    bt = evaluate.run(bars, ["gru", "ewma", "garch", "gbm"], (1, 5, 20))
    elapsed = time.perf_counter() - start
    folder = report.folder("markets")
    saved = evaluate.save(bt, "sp500", folder)
    table = markdown_table(["h", "model", *evaluate.HEADERS], evaluate.rows(bt))
    verdicts = "\n".join(f"- {line}" for line in evaluate.verdicts(bt.scores))
    images = "\n\n".join(report.image(p, p.stem) for p in saved["figures"])
    report.add(
        "markets: S&P 500 walk-forward backtest",
        f"{len(bars)} daily bars, {len(bt.origins)} out-of-sample origins, "
        f"backtest took {elapsed:.0f} s.\n\n{table}\n\n{verdicts}\n\n{images}",
    )
