"""The demo report: an HTML page with the sections' tables and images, its Markdown, and the
numbers behind them in results.json."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from otemachi.core.report import Report, markdown_table


def _not_json(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


def test_the_report_page_has_the_tables_images_and_results(tmp_path: Path) -> None:
    report = Report(tmp_path / "report")
    plot = report.folder("markets") / "fan.png"
    plot.write_bytes(b"\x89PNG")
    table = markdown_table(["h", "crps"], [["1", "47.8"], ["5", "103.7"]])
    report.add("markets", f"{table}\n\n{report.image(plot, 'fan')}\n\n<script>alert(1)</script>")
    report.result(
        "markets.live",
        {
            "latency_ms_p50": np.float32(0.25),
            "bars": 3,
            "auc": np.nan,
            "q": np.array([0.1, np.inf]),
            "at": pd.Timestamp("2020-01-02"),
        },
    )
    page = report.write()
    assert page == tmp_path / "report" / "index.html"
    html = page.read_text()
    assert "<h2>markets</h2>" in html and "<td>103.7</td>" in html
    assert '<img src="markets/fan.png" alt="fan"' in html
    assert "<script>" not in html  # raw HTML in a section is shown, not run
    strict = json.loads((page.parent / "results.json").read_text(), parse_constant=_not_json)
    assert strict == {
        "markets.live": {
            "latency_ms_p50": 0.25,
            "bars": 3,
            "auc": None,
            "q": [0.1, None],
            "at": "2020-01-02 00:00:00",
        }
    }
    assert (page.parent / "README.md").read_text().startswith("# otemachi demo report")


def test_the_last_benchmark_tables_join_the_report(tmp_path: Path) -> None:
    report = Report(tmp_path / "report")
    report.benchmarks(tmp_path / "none")  # no `make bench` yet: no section
    assert report.sections == []
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "markets_speed.txt").write_text("GRU step mode: 0.120 ms per bar\n")
    report.benchmarks(tmp_path / "out")
    html = report.write().read_text()
    assert "<strong>markets_speed</strong>" in html and "GRU step mode: 0.120 ms" in html
