"""The in-process live pipeline: one forecast per good bar, the backtest's numbers, bad messages
to the dead letters with their reason, and the stream command end to end."""

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from otemachi.cli import main
from otemachi.core.errors import ModelNotTrained
from otemachi.core.seeding import torch_seeded
from otemachi.markets import checks, plots, runner, sources, stream, train
from otemachi.markets.features import build_series
from otemachi.markets.live import LiveState
from otemachi.markets.model import RNNConfig, RNNForecaster

HORIZONS = (1, 5)


@pytest.fixture(scope="module")
def net() -> RNNForecaster:
    with torch_seeded(1):
        return RNNForecaster(RNNConfig(hidden=8, layers=1, horizons=HORIZONS)).eval()


def _run(net: RNNForecaster, msgs: list[Any]) -> tuple[list[stream.Published], stream.Pipeline]:
    pipeline = stream.Pipeline(LiveState(net), "v1")
    return list(pipeline.run(msgs)), pipeline


def test_every_bar_gets_the_backtest_forecast(net: RNNForecaster) -> None:
    books = sources.synthetic(4, 60, seed=3)
    msgs = list(sources.messages(books))
    assert msgs.count(stream.FLUSH) == 60  # one after each bar time
    out, pipeline = _run(net, msgs)
    assert len(out) == 240 and pipeline.counters.bars == 240 and not pipeline.counters.dead
    for symbol, bars in books.items():
        mine = [p for p in out if p.symbol == symbol]
        assert [p.time for p in mine] == list(bars.index)
        offline = train.forecast(net, build_series(bars, HORIZONS), np.arange(len(bars)))
        np.testing.assert_allclose([p.ret_q for p in mine], offline.ret_q, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose([p.p_up for p in mine], offline.p_up, rtol=1e-5, atol=1e-6)
        assert all(p.model_version == "v1" and p.latency_ms >= 0 for p in mine)


def test_bad_messages_go_to_the_dead_letters_and_the_rest_flows(net: RNNForecaster) -> None:
    good = [m for m in sources.messages(sources.synthetic(2, 30, seed=4)) if m is not stream.FLUSH]
    bar = dict(good[10])
    bad: list[tuple[Any, str]] = [
        ("not a bar", "malformed"),
        ({k: v for k, v in bar.items() if k != "close"}, "malformed"),
        ({**bar, "open": "12.5"}, "malformed"),
        ({**bar, "time": "yesterday-ish"}, "malformed"),
        ({**bar, "symbol": ""}, "malformed"),
        ({**bar, "symbol": "SYN0001\nSYN0002"}, "malformed"),  # would corrupt a bus entry
        ({**bar, "symbol": "X" * 65}, "malformed"),
        ({**bar, "high": float("inf")}, "bad value"),
        ({**bar, "low": -1.0}, "bad value"),
        ({**bar, "volume": float("nan")}, "bad value"),
        (dict(good[4]), "out of order"),
    ]
    msgs = good[:12] + [m for m, _ in bad] + [dict(good[11])] + good[12:]
    out, pipeline = _run(net, msgs)
    assert len(out) == len(good)  # every good bar forecast exactly once
    reasons = [d.reason for d in pipeline.counters.dead]
    expected = [r for _, r in bad] + ["duplicate"]
    assert [r.split(":")[0] for r in reasons] == expected, reasons


@pytest.mark.parametrize(
    "symbols",
    [["SYN0000", ["SYN0001"]], ["SYN0000", 7], ["SYN0000", ""], ["SYN0000", "A\nB"], "SYN0000"],
)
def test_a_bar_time_with_a_bad_symbol_is_malformed_even_after_good_ones(symbols: Any) -> None:
    good = {"time": "2024-01-02", "symbols": ["SYN0000", "SYN0001"], "ohlcv": [[1, 2, 1, 1, 0]] * 2}
    assert not isinstance(checks.check(good), str)  # its symbols are now known good
    got = checks.check({**good, "symbols": symbols})
    assert isinstance(got, str) and got.startswith("malformed: symbols must be a list of symbols")


def test_repairs_and_gaps_are_counted(net: RNNForecaster) -> None:
    msgs = [m for m in sources.messages(sources.synthetic(1, 40, seed=5)) if m is not None]
    msgs[5] = {**msgs[5], "high": msgs[5]["low"] * 0.99}  # high below the body: repaired
    del msgs[20:27]  # seven missing business days: a gap; weekends are not
    out, pipeline = _run(net, msgs)
    assert len(out) == 33 and pipeline.counters.repaired == 1 and pipeline.counters.gaps == 1


def test_stream_command_end_to_end(
    garch_bars: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["markets", "stream", "--source", "synthetic:3", "--bars", "50", "--json"]
    assert main(args) == 2
    assert "run `otemachi markets train --data NAME`" in capsys.readouterr().err
    setup = train.Setup(
        RNNConfig(hidden=8, layers=1, horizons=(1, 3)),
        train.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1),
    )
    path, _ = train.train(garch_bars, "toy", setup)
    assert main(args) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["bars"] == got["forecasts"] == 150 and got["symbols"] == 3
    assert got["dead_letters"] == 0 and got["latency_ms_p99"] >= got["latency_ms_p50"] > 0
    assert got["model_version"] == train.load_version(path)[1]
    assert main([*args, "--model", str(path), "--speed", "0"]) == 2
    assert "--speed" in capsys.readouterr().err
    assert main(["markets", "stream", "--source", "tape:x"]) == 2


def test_live_state_grows_without_a_capacity_hint(net: RNNForecaster) -> None:
    books = sources.synthetic(20, 25, seed=6)
    pipeline = stream.Pipeline(LiveState(net, capacity=1), "v1")
    assert len(list(pipeline.run(sources.messages(books)))) == 500 and len(pipeline.state) == 20
    assert torch.isfinite(pipeline.state.hidden).all()


def test_a_flush_publishes_a_bar_time_before_the_next_bar_arrives(net: RNNForecaster) -> None:
    msgs = list(sources.messages(sources.synthetic(3, 4, seed=7)))
    asked: list[int] = []

    def feed() -> Iterator[Any]:
        for i, m in enumerate(msgs):
            asked.append(i)
            yield m

    run = stream.Pipeline(LiveState(net), "v1").run(feed())
    first = [next(run) for _ in range(3)]  # the three symbols' first bars
    assert {p.time for p in first} == {msgs[0]["time"]} and asked[-1] == 3  # stopped at FLUSH


def test_huge_numbers_are_bad_values_not_a_crash(net: RNNForecaster) -> None:
    good = [m for m in sources.messages(sources.synthetic(1, 3, seed=8)) if m is not None]
    out, pipeline = _run(net, [good[0], {**good[1], "open": 10**400}, good[2]])
    assert len(out) == 2 and pipeline.counters.dead[0].reason.startswith("bad value")


def test_stream_checks_its_input_before_loading_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["markets", "stream", "--source", "replay:"]) == 2
    assert "--source must be" in capsys.readouterr().err
    assert main(["markets", "stream", "--model", str(tmp_path / "none.safetensors")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
    assert main(["markets", "stream", "--out", str(tmp_path / "x.txt")]) == 2
    assert ".jsonl" in capsys.readouterr().err


def test_stream_writes_every_forecast(
    garch_bars: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = train.Setup(
        RNNConfig(hidden=8, layers=1, horizons=(1,)),
        train.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1),
    )
    train.train(garch_bars, "prices.2024", setup)  # a dotted name, as a file stem can be
    out = tmp_path / "f.jsonl"
    assert main(["markets", "stream", "--source", "synthetic:2", "--bars", "5",
                 "--out", str(out), "--json"]) == 0  # fmt: skip
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 10 and {"symbol", "time", "p_up", "ret_q", "latency_ms"} <= set(lines[0])
    assert train.newest("prices.2024").name.startswith("prices_2024-gru-")
    with pytest.raises(ModelNotTrained, match="trained on prices"):
        train.newest("prices")


def test_replay_of_a_file_with_many_symbols(
    garch_bars: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    books = sources.synthetic(3, 40, seed=9)
    table = pd.concat(b.assign(symbol=s) for s, b in books.items()).rename_axis("timestamp")
    table.iloc[5, table.columns.get_loc("close")] = float("nan")  # one bad row in SYN0000
    csv = tmp_path / "book.csv"
    table.reset_index().to_csv(csv, index=False)
    got, notes = sources.parse(f"replay:{csv}")
    assert sorted(got) == sorted(books) and [len(b) for b in got.values()] == [39, 40, 40]
    assert len(notes) == 1 and notes[0].startswith("SYN0000")
    setup = train.Setup(
        RNNConfig(hidden=8, layers=1, horizons=(1,)),
        train.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1),
    )
    path, _ = train.train(garch_bars, "toy", setup)
    args = ["markets", "stream", "--source", f"replay:{csv}", "--model", str(path), "--json"]
    assert main(args) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert summary["symbols"] == 3 and summary["forecasts"] == 119 and "SYN0000" in out.err


def test_a_bar_time_in_columns_gives_the_per_bar_forecasts_and_refuses_bad_rows(
    net: RNNForecaster,
) -> None:
    books = sources.synthetic(5, 30, seed=8)
    rows, _ = _run(net, list(sources.messages(books)))
    msgs = list(sources.messages(books, columnar=True))
    tenth = msgs[20]  # bar time 10
    bad_rows = {**tenth, "ohlcv": tenth["ohlcv"].copy()}
    bad_rows["ohlcv"][1, 3] = np.inf  # SYN0001's close: a bad value, the other four go on
    msgs[20] = bad_rows
    msgs[22:22] = [
        {**msgs[22], "ohlcv": msgs[22]["ohlcv"][:2]},  # wrong shape: malformed
        {**msgs[22], "symbols": "SYN0000"},  # not a list: malformed
        {"time": msgs[22]["time"], "symbols": ["SYN0003"], "ohlcv": [[1, 2, 0.5, 1.5, -3]]},
    ]
    msgs.insert(
        40, {**msgs[18], "symbols": msgs[18]["symbols"][:1], "ohlcv": msgs[18]["ohlcv"][:1]}
    )
    out, pipeline = _run(net, msgs)
    reasons = [d.reason.split(":")[0] for d in pipeline.counters.dead]
    assert reasons == ["bad value", "malformed", "malformed", "bad value", "out of order"]
    assert pipeline.counters.dead[0].message["symbol"] == "SYN0001"
    assert len(out) == 149  # every bar once, but the refused close
    by_key = {(p.symbol, p.time): p for p in out}
    for p in rows[:50]:  # before the refused bar every forecast is the per-bar one
        np.testing.assert_allclose(by_key[(p.symbol, p.time)].ret_q, p.ret_q, rtol=1e-5, atol=1e-7)
    for p in rows:
        if p.symbol != "SYN0001":
            np.testing.assert_allclose(
                by_key[(p.symbol, p.time)].ret_q, p.ret_q, rtol=1e-5, atol=1e-7
            )


def test_the_in_process_bus_writes_every_forecast_and_the_live_fan_is_drawn(
    net: RNNForecaster, tmp_path: Path
) -> None:
    books = sources.synthetic(2, 40, seed=9)
    sink = io.StringIO()
    latencies, counts, dead = runner.in_process(
        sources.messages(books, columnar=True), sources.count(books, True), net, "v1", sink
    )
    docs = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert len(docs) == len(latencies) == counts["bars"] == 80 and dead == 0
    mine = [d for d in docs if d["symbol"] == "SYN0001"]
    assert [pd.Timestamp(d["time"]) for d in mine] == list(books["SYN0001"].index)
    png = plots.live_fan(books["SYN0001"], mine, tmp_path / "fan.png")
    assert png.stat().st_size > 10_000


def test_ctrl_c_stops_taking_messages_and_forecasts_every_bar_taken(net: RNNForecaster) -> None:
    books = sources.synthetic(3, 30, seed=10)

    def interrupted() -> Iterator[Any]:
        for i, message in enumerate(sources.messages(books, columnar=True)):
            if i == 21:  # in the middle of bar time 10: its bars were taken, not flushed
                raise KeyboardInterrupt
            yield message

    latencies, counts, _ = runner.in_process(interrupted(), None, net, "v1", None, view=True)
    assert counts["bars"] == len(latencies) == 3 * 11


def test_the_live_view_shows_rates_latency_and_the_latest_forecasts(
    garch_bars: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = train.Setup(
        RNNConfig(hidden=8, layers=1, horizons=(1, 3)),
        train.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1),
    )
    path, _ = train.train(garch_bars, "toy", setup)
    assert main(["markets", "stream", "--source", "synthetic:8", "--bars", "40",
                 "--model", str(path)]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "bars/s" in err and "p99" in err and "dead letters" in err
    assert "SYN0000" in err and "SYN0006" not in err  # the first six symbols are shown


def test_stale_future_and_relative_times_and_text_tables_are_refused(net: RNNForecaster) -> None:
    books = sources.synthetic(3, 6, seed=11)
    msgs = list(sources.messages(books, columnar=True))
    pipeline = stream.Pipeline(LiveState(net), "v1")
    for m in msgs[:4]:  # bar times 0 and 1
        pipeline.flush() if m is stream.FLUSH else pipeline.feed(m)
    third = msgs[4]
    stale = {"symbol": "SYN0000", "time": msgs[0]["time"], "open": 1.0, "high": 1.0,
             "low": 1.0, "close": 1.0, "volume": 1.0}  # fmt: skip
    assert (
        pipeline.feed({**third, "symbols": third["symbols"][:2], "ohlcv": third["ohlcv"][:2]}) == []
    )
    assert pipeline.feed(stale) == []  # refused before any flush: the bar time is not split
    assert pipeline.feed({**third, "symbols": ["SYN0002"], "ohlcv": third["ohlcv"][2:]}) == []
    assert [len(b) for b in pipeline.flush()] == [3]
    bad = [
        {**third, "time": "2262-01-01"},
        {**third, "time": "now"},
        {**third, "ohlcv": third["ohlcv"].astype(str)},
        {**third, "ohlcv": [[True] * 5] * 3},
    ]
    for message in bad:
        assert pipeline.feed(message) == []
    reasons = [d.reason.split(":")[0] for d in pipeline.counters.dead]
    assert reasons == ["out of order", "bad value", "malformed", "malformed", "malformed"]
