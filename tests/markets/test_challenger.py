"""Champion/challenger: a challenger is fine-tuned without seeing the held-back bars, stored,
promoted only when it beats the champion on them, logged; and a stream retrains as it runs."""

import json

import numpy as np
import pandas as pd
import pytest

from otemachi.cli import main
from otemachi.core.paths import artifact_dir
from otemachi.markets import challenger, registry, sources, train
from otemachi.markets.features import build_series
from otemachi.markets.model import RNNConfig
from tests.services import RedisServer

TINY = train.Setup(
    RNNConfig(hidden=8, layers=1, horizons=(1, 3)),
    train.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1),
)
QUICK = challenger.FineTune(window=64, burn_in=16, batch=4, steps=5, holdout=24)


def test_the_held_back_bars_never_reach_the_fine_tuning(garch_bars: pd.DataFrame) -> None:
    net, _ = train.load_version(train.train(garch_bars, "toy", TINY)[0])
    tail = garch_bars.copy()
    tail.iloc[-QUICK.holdout :, :4] *= 1.5  # other prices in the held-back bars only
    got = [
        challenger._fine_tune(net, [build_series(b, net.cfg.horizons)], QUICK).state_dict()
        for b in (garch_bars, tail)
    ]
    assert all(np.array_equal(got[0][k], got[1][k]) for k in got[0])
    assert not all(np.array_equal(got[0][k], net.state_dict()[k]) for k in got[0])  # it learnt


def test_a_contest_stores_the_challenger_and_promotes_only_a_better_one(
    garch_bars: pd.DataFrame,
) -> None:
    path, _ = train.train(garch_bars, "toy", TINY)
    champion = train.load_version(path)[1]
    registry.promote(champion)
    books = sources.synthetic(3, 300, seed=4)
    c = challenger.challenge(path, books, QUICK)
    assert c.champion == champion and c.symbols == 3 and c.bars == 900
    assert np.isfinite([c.champion_loss, c.challenger_loss]).all()
    assert c.promoted == (c.p_value < challenger.PROMOTE_P)
    assert c.p_value < 0.5 if c.challenger_loss < c.champion_loss else c.p_value >= 0.5
    assert registry.history()[-1] == (c.challenger if c.promoted else champion)
    assert c.challenger in {v.version for v in registry.versions()}
    (logged,) = (artifact_dir("markets") / "challenges.jsonl").read_text().splitlines()
    assert json.loads(logged)["challenger"] == c.challenger
    with pytest.raises(Exception, match="at least"):
        challenger.challenge(path, {k: b.iloc[:100] for k, b in books.items()}, QUICK)


def test_a_stream_retrains_while_it_runs(
    garch_bars: pd.DataFrame, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = train.train(garch_bars, "toy", TINY)
    monkeypatch.setattr(challenger, "DEFAULT", QUICK)
    args = ["markets", "stream", "--source", "synthetic:3", "--bars", "260", "--json"]
    assert main([*args, "--retrain-every", "240"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["bars"] == 780 and summary["challengers"] == 1
    assert registry.history()[0] == train.load_version(path)[1]  # the stream's model, champion
    assert main([*args, "--retrain-every", "240", "--model", str(path)]) == 2
    assert "--retrain-every" in capsys.readouterr().err
    assert main([*args, "--retrain-every", "5"]) == 2


def test_a_stream_over_redis_retrains_too(
    garch_bars: pd.DataFrame,
    redis_server: RedisServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train.train(garch_bars, "toy", TINY)
    monkeypatch.setattr(challenger, "DEFAULT", QUICK)
    args = ["markets", "stream", "--source", "synthetic:3", "--bars", "260", "--json",
            "--bus", redis_server.url, "--workers", "1", "--retrain-every", "240"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["bars"] == summary["forecasts"] == 780 and summary["challengers"] == 1
    (logged,) = (artifact_dir("markets") / "challenges.jsonl").read_text().splitlines()
    assert json.loads(logged)["bars"] >= 3 * QUICK.needs


def test_no_promotion_over_a_champion_that_changed_and_interruptions_stop_the_contest(
    garch_bars: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = train.train(garch_bars, "toy", TINY)
    second, _ = train.train(garch_bars.iloc[:1200], "other", TINY)
    registry.promote(train.load_version(second)[1])  # someone promoted another meanwhile
    books = sources.synthetic(2, 300, seed=4)
    c = challenger.challenge(first, books, QUICK)
    assert not c.promoted and registry.history() == [train.load_version(second)[1]]

    trainer = challenger.Challenger(40, first, QUICK)
    for message in sources.messages(books, columnar=True):
        trainer.record(message)
        if trainer._running is not None:
            break
    assert trainer._running is not None
    trainer.close(wait=False)
    assert trainer._running is None and trainer.contests == []
    assert "stopped" in capsys.readouterr().err

    trainer = challenger.Challenger(40, first, QUICK)
    registry._file().write_text("{damaged")  # no contest can start: the stream goes on
    for message in sources.messages(books, columnar=True):
        trainer.record(message)
    assert trainer._running is None and "no challenger this time" in capsys.readouterr().err


def test_promotion_needs_a_lower_loss_beyond_chance() -> None:
    rng = np.random.default_rng(0)
    champion = rng.gamma(2.0, 0.5, 400)  # per-bar losses
    noise = rng.normal(0, 0.3, 400)
    assert challenger.better(champion, champion - 0.2 + noise, 1) < 0.001  # clearly better
    assert challenger.better(champion, champion - 0.005 + noise, 1) > challenger.PROMOTE_P
    assert challenger.better(champion, champion + 0.2 + noise, 1) > 0.999  # worse: never
