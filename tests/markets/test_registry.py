"""The forecaster registry: versions listed newest first, promote and rollback move the
champion, streams use the champion by default, and a running stream swaps to a new champion
between two bar times."""

import json
import os

import pandas as pd
import pytest

from otemachi.cli import main
from otemachi.core.seeding import rng
from otemachi.markets import registry, sources, synth, train
from otemachi.markets import worker as worker_module
from otemachi.markets.bus import MemoryBus
from otemachi.markets.model import RNNConfig
from otemachi.markets.stream import Published
from otemachi.markets.worker import Worker

TINY = train.Setup(
    RNNConfig(hidden=8, layers=1, horizons=(1, 3)),
    train.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1),
)


def _list(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["markets", "models", "list", "--json"]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_promote_and_rollback_move_the_champion_that_streams_use(
    garch_bars: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _list(capsys) == []
    first, _ = train.train(garch_bars, "toy", TINY)
    os.utime(first, ns=(1, 1))  # older
    second, _ = train.train(synth.garch(800, rng(5, "other")).bars, "other", TINY)
    rows = _list(capsys)
    assert [r["data"] for r in rows] == ["other", "toy"] and not any(r["champion"] for r in rows)
    v_first, v_second = train.load_version(first)[1], train.load_version(second)[1]
    assert [r["version"] for r in rows] == [v_second, v_first]

    stream = ["markets", "stream", "--source", "synthetic:2", "--bars", "30", "--json"]
    assert main(stream) == 0  # no champion: the newest
    assert json.loads(capsys.readouterr().out)["model_version"] == v_second
    assert main(["markets", "models", "promote", v_first[:6]]) == 0
    assert registry.history() == [v_first]
    assert main(stream) == 0
    assert json.loads(capsys.readouterr().out)["model_version"] == v_first
    assert [r["champion"] for r in _list(capsys)] == [False, True]

    assert main(["markets", "models", "rollback"]) == 2
    assert "no earlier champion" in capsys.readouterr().err
    assert main(["markets", "models", "promote", v_second]) == 0
    assert main(["markets", "models", "rollback"]) == 0
    assert registry.history() == [v_first]
    for bad, says in [("xyz", "4 to 12 hex digits"), ("0000", "no stored forecaster version")]:
        assert main(["markets", "models", "promote", bad]) == 2
        assert says in capsys.readouterr().err
    registry._file().write_text("{not json")
    assert main(["markets", "models", "list"]) == 2
    assert "damaged" in capsys.readouterr().err


def test_a_running_stream_swaps_to_a_new_champion_between_two_bar_times(
    garch_bars: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "FOLLOW_S", 0.0)
    first, _ = train.train(garch_bars, "toy", TINY)
    second, _ = train.train(synth.garch(800, rng(5, "other")).bars, "other", TINY)
    (net, v1), v2 = train.load_version(first), train.load_version(second)[1]
    registry.promote(v1)
    books = sources.synthetic(5, 40, seed=3)
    msgs = list(sources.messages(books, columnar=True))
    bus = MemoryBus(shards=2)
    forecasts: list[Published] = []
    worker = Worker(
        bus,
        net,
        v1,
        follow=registry.follow,
        on_commit=lambda c: forecasts.extend(r for b in c.published for r in b.rows()),
    )
    bus.send(msgs[:40])  # 20 bar times
    while len(forecasts) < 100:
        worker.poll()
    registry.promote(v2)
    bus.send(msgs[40:])
    bus.end()
    worker.run()
    versions = {(p.time, p.symbol): p.model_version for p in forecasts}
    assert len(versions) == len(forecasts) == 200  # every bar once
    times = sorted(books["SYN0000"].index)
    assert all(versions[(t, s)] == (v1 if i < 20 else v2)
               for i, t in enumerate(times) for s in books)  # fmt: skip
