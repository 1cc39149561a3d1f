"""Global models over several series: the anchored network starts as GARCH-t, one network trains
on many series and fine-tunes on another, and a panel backtest never trains on a bar at or after
the start of a test block, in any series."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from otemachi.cli import main
from otemachi.core.errors import InvalidInput
from otemachi.core.seeding import rng, torch_seeded
from otemachi.markets import anchor, panel, synth
from otemachi.markets.baselines import GarchT
from otemachi.markets.features import FEATURES, build_series
from otemachi.markets.forecast import Forecast, Series
from otemachi.markets.live import LiveState
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.markets.train import RNNModel, Span, TrainConfig, forecast

CFG = RNNConfig(hidden=8, layers=1, horizons=(1, 3))
TINY = TrainConfig(seed=2, window=96, burn_in=32, batch=8, steps_per_epoch=3, max_epochs=2)


def _bars(seed: int, n: int, start: str, omega: float = 2e-6) -> pd.DataFrame:
    bars = synth.garch(n, rng(seed, "global-test"), omega=omega).bars
    bars.index = pd.bdate_range(start, periods=n, tz="UTC", name="timestamp")
    return bars


def test_an_anchored_network_starts_as_garch_t(garch_bars: pd.DataFrame) -> None:
    cfg = replace(CFG, anchor=True)
    series = build_series(garch_bars, cfg.horizons)
    with torch_seeded(0):
        net = RNNForecaster(cfg)
    origins = np.arange(1200, 1300)
    got = forecast(net, series, origins, anchor.fit(series, 0, 1200))
    garch = GarchT()
    garch.fit(series, 0, 1200)
    want = garch.predict(series, origins)
    for key in ("ret_q", "high_q", "low_q"):
        np.testing.assert_allclose(getattr(got, key), getattr(want, key), rtol=1e-4, atol=1e-7)


def test_an_anchored_networks_quantiles_stay_in_order_far_from_its_anchor() -> None:
    cfg = replace(CFG, anchor=True)
    with torch_seeded(1):
        net = RNNForecaster(cfg)
        torch.nn.init.normal_(net.head.weight, std=2.0)  # far from the anchor
        x = torch.randn(3, 50, cfg.n_inputs) * 3
        base = {k: torch.randn(3, 50, 2, 5).sort(-1).values for k in ("ret", "high", "low")}
        out, _ = net(x, base=base)
    for key in ("ret", "high", "low"):
        assert (out[key].diff(dim=-1) >= 0).all()


@pytest.mark.parametrize("reads", [{"anchor": True}, {"garch_inputs": True}])
def test_the_live_path_refuses_a_network_on_garch(reads: dict[str, bool]) -> None:
    with pytest.raises(InvalidInput, match="GARCH-t"):
        LiveState(RNNForecaster(replace(CFG, **reads)))


def test_garch_inputs_feed_the_free_head() -> None:
    cfg = replace(CFG, garch_inputs=True)
    series = build_series(_bars(5, 1100, "2001-01-01"), cfg.horizons)
    model = RNNModel(cfg, TINY)
    model.fit(series, 0, 1000)
    assert model.net is not None and model.net.rnn.input_size == len(FEATURES) + 2
    got = model.predict(series, np.arange(1000, 1090))
    assert (np.diff(got.ret_q, axis=-1) >= 0).all() and np.isfinite(got.ret_q).all()
    # The inputs are GARCH-t's: another volatility in them changes the forecast.
    fitted = model.anchors[0][1]
    assert fitted is not None
    shifted = replace(fitted, inputs=fitted.inputs + 1.0)
    moved = forecast(model.net, series, np.arange(1000, 1090), shifted)
    assert not np.allclose(moved.ret_q, got.ret_q)
    other = build_series(_bars(6, 1100, "2001-01-01"), cfg.horizons)
    with pytest.raises(InvalidInput, match="only the series it was fit on"):
        model.predict(other, np.arange(1000, 1090))


def test_each_training_series_has_its_own_vector_and_a_new_series_slot_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = replace(CFG, assets=4)  # slots 1-3 for three series; slot 0 for any other
    series = [build_series(_bars(7 + i, 1100, "2001-01-01"), cfg.horizons) for i in range(4)]
    tc = replace(TINY, lr=3e-2, max_epochs=3, weight_decay=0.0)  # untouched rows stay put
    with torch_seeded(tc.seed):  # the network fit_many starts from
        start = RNNForecaster(cfg).asset.weight.detach().clone()  # type: ignore[union-attr]
    used: list[int] = []
    part = RNNModel._part
    monkeypatch.setattr(RNNModel, "_part", lambda self, span, slot: used.append(slot) or
                        part(self, span, slot))  # fmt: skip
    model = RNNModel(cfg, tc)
    model.fit_many([Span(s, 0, 1000) for s in series[:3]])
    assert used == model.slots == [1, 2, 3]  # the slots trained are those predict uses
    assert model.net is not None and model.net.asset is not None
    # Slot 0 is trained only through the tenth of windows that use it.
    assert (model.net.asset.weight != start).any(1).all()
    origins = np.arange(1000, 1090)
    for i, slot in enumerate([1, 2, 3, 0]):  # the fourth series was never trained on
        want = forecast(model.net, series[i], origins, asset=slot)
        np.testing.assert_array_equal(model.predict(series[i], origins).ret_q, want.ret_q)
    own = forecast(model.net, series[0], origins, asset=1)
    new = forecast(model.net, series[0], origins, asset=0)
    assert not np.allclose(own.ret_q, new.ret_q)
    # Fine-tuned on a new series, the network keeps its slots for its own and uses slot 0.
    assert model.fine_tuned(Span(series[3], 0, 1000), tc).slots == [0]
    many = RNNModel(replace(cfg, assets=3), tc)
    many.fit_many([Span(s, 0, 1000) for s in series[:3]])
    assert many.slots == [1, 2, 0]  # beyond the table: slot 0


def test_one_network_trains_on_several_series_then_fine_tunes_on_another() -> None:
    series = [
        build_series(_bars(i, 1100, "2001-01-01", 2e-6 * (1 + 3 * i)), (1, 3)) for i in range(3)
    ]
    model = RNNModel(CFG, TINY)
    model.fit_many([Span(s, 0, 1000) for s in series[:2]])
    origins = np.arange(1000, 1090)
    for s in series[:2]:
        f = model.predict(s, origins)
        assert (np.diff(f.ret_q, axis=-1) >= 0).all() and np.isfinite(f.ret_q).all()
    # A fine-tuning that cannot move (learning rate 0) keeps the weights it started from.
    still = model.fine_tuned(Span(series[2], 0, 1000), replace(TINY, lr=0.0))
    assert not still.tuned
    assert model.net is not None and still.net is not None
    for a, b in zip(model.net.parameters(), still.net.parameters(), strict=True):
        assert torch.equal(a, b)
    moved = model.fine_tuned(Span(series[2], 0, 1000), replace(TINY, lr=3e-2, max_epochs=4))
    assert moved.tuned
    f = moved.predict(series[2], origins)
    assert (np.diff(f.ret_q, axis=-1) >= 0).all() and np.isfinite(f.ret_q).all()


def test_a_panel_never_trains_on_a_bar_of_a_test_block(monkeypatch: pytest.MonkeyPatch) -> None:
    bars = {
        "early": _bars(1, 1500, "2000-01-03"),
        "late": _bars(2, 1300, "2001-06-01", omega=8e-6),
        "short": _bars(3, 760, "2000-01-03"),  # ends before it could be tested
    }
    by_length = {len(b): name for name, b in bars.items()}  # the lengths differ
    tiny = lambda seed, hs: RNNModel(replace(CFG, horizons=hs), TINY)  # noqa: E731
    monkeypatch.setitem(panel.GLOBAL, "global", tiny)
    monkeypatch.setattr(panel, "FINE_TUNE", replace(TINY, max_epochs=1))
    events: list[tuple[str, list[tuple[str, int]], bool]] = []  # (kind, [(series, index)], tuning)
    fit_many, predict = RNNModel.fit_many, RNNModel.predict

    def record_fit(self: RNNModel, spans: list[Span], start_from: object = None) -> None:
        named = [(by_length[len(s.series.scale)], s.stop) for s in spans]
        events.append(("fit", named, start_from is not None))
        fit_many(self, spans, start_from)  # type: ignore[arg-type]

    def record_predict(self: RNNModel, series: Series, origins: np.ndarray) -> Forecast:
        events.append(("predict", [(by_length[len(series.scale)], int(origins.min()))], False))
        return predict(self, series, origins)

    monkeypatch.setattr(RNNModel, "fit_many", record_fit)
    monkeypatch.setattr(RNNModel, "predict", record_predict)
    models = ["global", "transfer", "transfer-mix", "global-mix", "garch-t", "ewma"]
    result = panel.run(bars, models, (1, 3), refits=3)
    assert set(result.backtests) == {"early", "late"}
    dates = [pd.Timestamp(d, tz="UTC") for d in result.dates]
    fits = [k for k, e in enumerate(events) if e[0] == "fit"]
    assert any(name == "short" for k in fits for name, _ in events[k][1])  # it trains the globals
    for k in fits:
        # The fold of a fit is that of the next forecast; every bar it trained on, in every
        # series, lies before the fold's first date.
        name, first = next(e[1][0] for e in events[k:] if e[0] == "predict")
        start = max(d for d in dates if d <= bars[name].index[first])
        assert bars[name].index[first] >= start
        for series, stop in events[k][1]:
            assert bars[series].index[stop - 1] < start
        if events[k][2]:  # a fine-tuning: the global fit before it left its series out
            tuned = events[k][1][0][0]
            assert all(series != tuned for series, _ in events[k - 1][1])
    assert any(e[2] for e in events)  # transfer fine-tuned at least once
    for bt in result.backtests.values():
        assert np.all(np.diff(bt.origins) == 1)  # one contiguous out-of-sample stretch
        for f in bt.forecasts.values():
            assert (np.diff(f.ret_q, axis=-1) >= 0).all()
    mean = result.mean_scores()
    assert mean[1]["rw"]["crps_vs_rw"] == pytest.approx(1.0)
    assert set(mean[3]) == {"rw", *models}
    for bt in result.backtests.values():  # the mixes average the networks with GARCH-t
        f = bt.forecasts
        for mix, net in (("global-mix", "global"), ("transfer-mix", "transfer")):
            want = (f[net].ret_q + f["garch-t"].ret_q) / 2
            np.testing.assert_allclose(f[mix].ret_q, want, rtol=1e-12)


@pytest.mark.parametrize("shape", [{"anchor": True}, {"garch_inputs": True}, {"assets": 4}])
def test_bars_after_the_training_span_change_nothing_a_global_network_learns(
    shape: dict[str, object],
) -> None:
    cfg = replace(CFG, **shape)  # type: ignore[arg-type]
    clean = {i: _bars(20 + i, 1100, "2001-01-01") for i in range(2)}
    future = {}
    for i, bars in clean.items():
        changed = bars.copy()
        changed.iloc[1000:, :4] *= np.exp(rng(i, "future").normal(0, 0.05, (100, 1)))
        future[i] = changed
    weights = []
    for version in (clean, future):
        model = RNNModel(cfg, TINY)
        model.fit_many([Span(build_series(b, cfg.horizons), 0, 1000) for b in version.values()])
        assert model.net is not None
        weights.append(model.net.state_dict())
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key


def test_a_model_of_several_series_on_one_series_is_refused_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["markets", "backtest", "--data", "sp500", "--model", "ewma,global-mix"]) != 0
    err = capsys.readouterr().err
    assert "global-mix: fit on several series; give several --data" in err
    assert "Traceback" not in err


def test_panel_backtest_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = []
    for i, start in enumerate(("2000-01-03", "2000-09-01")):
        path = tmp_path / f"s{i}.csv"
        _bars(10 + i, 1300, start).reset_index().to_csv(path, index=False)
        paths.append(str(path))
    args = ["markets", "backtest", "--data", ",".join(paths), "--model", "rw,ewma,garch-t"]
    assert main([*args, "--horizons", "1,5", "--out", str(tmp_path / "out"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["series"]) == set(paths)
    assert set(result["mean"]["5"]) == {"rw", "ewma", "garch-t"}
    for series in result["series"].values():
        scores = series["horizons"]["1"]
        assert scores["garch-t"]["dm_pvalue_vs_garch_t"] is None  # no test against itself
        assert 0 <= scores["ewma"]["dm_pvalue_vs_garch_t"] <= 1
    assert "dm_pvalue_vs_rw" not in result["mean"]["1"]["ewma"]
    assert (tmp_path / "out" / "panel_crps.png").stat().st_size > 0
    assert main(["markets", "backtest", "--data", f"{paths[0]},{paths[0]}"]) == 2
    assert "twice" in capsys.readouterr().err
