from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from otemachi.core.seeding import torch_seeded
from otemachi.markets import features
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.markets.train import RNNModel, TrainConfig, forecast, load_version, save_model

TINY = TrainConfig(seed=3, window=96, burn_in=32, batch=8, steps_per_epoch=3, max_epochs=2)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_step_mode_matches_windowed_forward(cell: str) -> None:
    with torch_seeded(0):
        net = RNNForecaster(RNNConfig(cell=cell, hidden=16)).eval()
        x = torch.randn(2, 40, net.cfg.n_features)
    with torch.no_grad():
        window, _ = net(x)
        state = None
        for t in range(x.shape[1]):
            out, state = net.step(x[:, t], state)
            for key in out:
                torch.testing.assert_close(out[key], window[key][:, t], rtol=1e-5, atol=1e-6)


def test_quantiles_never_cross() -> None:
    with torch_seeded(1):
        net = RNNForecaster(RNNConfig())
        out, _ = net(torch.randn(4, 30, net.cfg.n_features) * 5)
    for key in ("ret", "high", "low"):
        assert (out[key].diff(dim=-1) >= 0).all()


def test_training_is_deterministic_and_checkpoint_rebuilds(
    garch_bars: pd.DataFrame, tmp_path: Path
) -> None:
    series = features.build_series(garch_bars, (1, 5))
    cfg = RNNConfig(hidden=8, layers=1, horizons=(1, 5))
    runs = []
    for _ in range(2):
        model = RNNModel(cfg, TINY)
        model.fit(series, 0, 900)
        runs.append(model.predict(series, np.arange(900, 1000)))
    np.testing.assert_array_equal(runs[0].ret_q, runs[1].ret_q)
    np.testing.assert_array_equal(runs[0].p_up, runs[1].p_up)
    assert model.net is not None
    path = save_model(model, "m", "hash", {"crps": 0.1})
    again, _ = load_version(path)
    assert again.cfg == cfg
    rebuilt = forecast(again, series, np.arange(900, 1000))
    np.testing.assert_allclose(rebuilt.ret_q, runs[0].ret_q, rtol=1e-6)
