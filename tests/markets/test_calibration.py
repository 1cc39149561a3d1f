"""The GRU's intervals are calibrated out of sample on a series whose true law is known."""

import numpy as np
import pytest

from otemachi.core.seeding import rng
from otemachi.markets import features, metrics, synth
from otemachi.markets.model import RNNConfig
from otemachi.markets.train import RNNModel, TrainConfig


@pytest.mark.slow
def test_gru_coverage_on_garch_series() -> None:
    bars = synth.garch(4000, rng(5, "calibration")).bars
    series = features.build_series(bars, (1,))
    model = RNNModel(RNNConfig(horizons=(1,)), TrainConfig(seed=0))
    model.fit(series, 0, 2000)
    origins = np.arange(2000, 3999)  # never seen in training or validation
    f = model.predict(series, origins)
    y = series.targets["ret"][origins, 0]
    cov80 = metrics.coverage(y, f.ret_q[:, 0, 0], f.ret_q[:, 0, 4])
    cov50 = metrics.coverage(y, f.ret_q[:, 0, 1], f.ret_q[:, 0, 3])
    assert 0.75 <= cov80 <= 0.85, cov80
    assert 0.45 <= cov50 <= 0.55, cov50
