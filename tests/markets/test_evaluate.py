import numpy as np
import pandas as pd
import pytest

from otemachi.core.errors import InvalidInput
from otemachi.core.paths import artifact_dir
from otemachi.core.seeding import rng
from otemachi.markets import baselines, evaluate, metrics, synth
from otemachi.markets.evaluate import WalkForward


@pytest.fixture(scope="module")
def small_bt(garch_bars: pd.DataFrame) -> evaluate.Backtest:
    fast = ["ewma", "garch", "gbm"]
    return evaluate.run(garch_bars, fast, (1, 5), WalkForward(initial=900, step=300))


def test_folds_purge_and_cover() -> None:
    plan = evaluate.folds(2000, WalkForward(initial=1000, step=400))
    assert plan[0] == (0, 1000, 1400) and plan[-1][2] == 1999
    sliding = evaluate.folds(2000, WalkForward(initial=1000, step=400, sliding=600))
    assert sliding[1][0] == 1400 - 600
    with pytest.raises(InvalidInput, match="too few"):
        evaluate.folds(300, WalkForward())


def test_every_baseline_forecasts_sane_shapes(small_bt: evaluate.Backtest) -> None:
    n = len(small_bt.origins)
    assert set(small_bt.forecasts) == {"rw", "ewma", "garch", "gbm"}
    for name, f in small_bt.forecasts.items():
        for q in (f.ret_q, f.high_q, f.low_q):
            assert q.shape == (n, 2, 5) and np.isfinite(q).all(), name
            assert (np.diff(q, axis=-1) >= 0).all(), name
        assert ((f.p_up >= 0) & (f.p_up <= 1)).all()


def test_scores_and_json(small_bt: evaluate.Backtest) -> None:
    js = evaluate.to_json(small_bt, "synthetic")
    assert set(js["horizons"]) == {"1", "5"}  # type: ignore[arg-type]
    for table in js["horizons"].values():  # type: ignore[attr-defined]
        assert set(table) == {"rw", "ewma", "garch", "gbm"}
        assert all(set(s) == set(metrics.METRICS) for s in table.values())
    # GARCH knows the true model family: on a GARCH series it must beat the random walk.
    assert small_bt.scores[1]["garch"]["crps"] < small_bt.scores[1]["rw"]["crps"]
    assert 0.7 < small_bt.scores[1]["garch"]["coverage80"] < 0.9


def test_verdicts_say_when_the_network_loses() -> None:
    scores = {1: {"gru": {"crps": 2.0}, "rw": {"crps": 1.0}, "garch": {"crps": 3.0}}}
    assert evaluate.verdicts(scores) == ["h=1: gru does NOT beat rw on CRPS."]


def test_the_network_runs_with_any_horizons(
    garch_bars: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cell in ("gru", "lstm"):
        made = evaluate.MODELS[cell](0, (1, 3))
        assert isinstance(made, evaluate.RNNModel) and made.cfg.horizons == (1, 3)
    tiny = evaluate.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1)
    monkeypatch.setitem(
        evaluate.MODELS, "gru",
        lambda seed, hs: evaluate.RNNModel(evaluate.RNNConfig(hidden=8, horizons=hs), tiny),
    )  # fmt: skip
    bt = evaluate.run(garch_bars, ["gru"], (1, 3), WalkForward(initial=900, step=300))
    assert set(bt.scores) == {1, 3} and bt.forecasts["gru"].ret_q.shape[1] == 2


def test_garch_t_finds_heavy_tails_and_beats_gaussian_garch_on_them() -> None:
    heavy = synth.garch(3000, rng(12, "garch-t"), nu=3.5).bars
    bt = evaluate.run(heavy, ["garch", "garch-t"], (1,), WalkForward(initial=2000, step=500))
    nu = float(bt.final["garch-t"].result.params["nu"])  # type: ignore[attr-defined]
    assert 2.5 < nu < 6
    assert bt.scores[1]["garch-t"]["crps"] < bt.scores[1]["garch"]["crps"]
    light = synth.garch(3000, rng(12, "garch-n")).bars
    bt = evaluate.run(light, ["garch-t"], (1,), WalkForward(initial=2000, step=500))
    assert float(bt.final["garch-t"].result.params["nu"]) > 10  # type: ignore[attr-defined]


def test_the_boosted_baselines_fold_forecasts_are_stored_and_reused(
    garch_bars: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits: list[int] = []
    fit = baselines.GBMQuantile.fit
    monkeypatch.setattr(
        baselines.GBMQuantile, "fit", lambda m, s, a, b: (fits.append(b), fit(m, s, a, b))
    )
    wf = WalkForward(initial=900, step=300)

    def gbm(bars: pd.DataFrame) -> evaluate.Forecast:
        return evaluate.run(bars, ["gbm"], (1, 3), wf).forecasts["gbm"]

    first = gbm(garch_bars)
    assert fits == [900, 1200]
    again = gbm(garch_bars)
    assert fits == [900, 1200]  # both folds loaded
    for k in evaluate.FORECAST_FIELDS:
        np.testing.assert_array_equal(getattr(again, k), getattr(first, k))
    changed = garch_bars.copy()
    changed.iloc[1250, changed.columns.get_loc("close")] *= 1.01  # among fold 2's origins only
    fits.clear()
    gbm(changed)
    assert fits == [1200]
    for stored in artifact_dir("markets", "models").glob("fold-gbm-*.safetensors"):
        stored.write_bytes(b"damaged")
    fits.clear()
    np.testing.assert_array_equal(gbm(garch_bars).ret_q, first.ret_q)
    assert fits == [900, 1200]  # a damaged file is refit and replaced, not fatal


def test_a_fold_network_fitted_before_is_loaded_not_refit(
    garch_bars: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = evaluate.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=2)
    monkeypatch.setitem(
        evaluate.MODELS, "gru",
        lambda seed, hs: evaluate.RNNModel(evaluate.RNNConfig(hidden=8, horizons=hs), tiny),
    )  # fmt: skip
    fits: list[int] = []
    fit = evaluate.RNNModel.fit
    monkeypatch.setattr(
        evaluate.RNNModel, "fit", lambda m, s, a, b: (fits.append(b), fit(m, s, a, b))
    )
    wf = WalkForward(initial=900, step=300)  # two folds: training ends at bar 900, then 1200

    def gru(bars: pd.DataFrame) -> np.ndarray:
        return evaluate.run(bars, ["gru"], (1, 3), wf).forecasts["gru"].ret_q

    first = gru(garch_bars)
    assert fits == [900, 1200]
    np.testing.assert_array_equal(gru(garch_bars), first)  # both loaded, the same numbers
    assert fits == [900, 1200]
    for stored in artifact_dir("markets", "models").glob("fold-*"):
        stored.unlink()
    np.testing.assert_allclose(gru(garch_bars), first, atol=1e-6)  # a refit is the same fit
    changed = garch_bars.copy()
    changed.iloc[1000, changed.columns.get_loc("close")] *= 1.01  # after fold 1's training bars
    fits.clear()
    gru(changed)
    assert fits == [1200]  # fold 1 is loaded; fold 2 saw the changed bar and is refit
    for stored in artifact_dir("markets", "models").glob("fold-*.safetensors"):
        stored.write_bytes(b"damaged")
    fits.clear()
    np.testing.assert_allclose(gru(garch_bars), first, atol=1e-6)
    assert fits == [900, 1200]  # a damaged fold file is refit and replaced, not fatal
