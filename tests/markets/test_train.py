"""`otemachi markets train`: fits on every bar, stores under a key that includes the data, and
trains again only when asked or when the data change."""

import numpy as np
import pandas as pd
import pytest

from otemachi.cli import main
from otemachi.core.errors import InvalidInput
from otemachi.markets import ensemble, train
from otemachi.markets.features import build_series
from otemachi.markets.model import RNNConfig

SETUP = train.Setup(
    RNNConfig(hidden=8, layers=1, horizons=(1, 3)),
    train.TrainConfig(seed=1, window=96, burn_in=32, batch=8, steps_per_epoch=3, max_epochs=2),
)


def test_train_stores_once_per_data_and_setup(garch_bars: pd.DataFrame) -> None:
    path, trained = train.train(garch_bars, "toy", SETUP)
    assert trained and path.name.startswith("toy-gru-") and path.exists()
    net, _ = train.load_version(path)
    assert net.cfg == SETUP.model
    assert train.train(garch_bars, "toy", SETUP) == (path, False)
    assert train.train(garch_bars, "toy", SETUP, retrain=True) == (path, True)
    shorter, trained = train.train(garch_bars.iloc[:-10], "toy", SETUP)
    assert trained and shorter != path  # other data, another model


def test_train_command_refuses_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "train", "--data", "sp500", "--model", "garch"]) == 2
    err = capsys.readouterr().err
    assert "--model" in err and "garch" in err and "gru" in err
    assert main(["markets", "train", "--data", "no-such-thing"]) == 2


def test_a_horizon_longer_than_the_validation_fold_is_refused(garch_bars: pd.DataFrame) -> None:
    long = train.Setup(RNNConfig(hidden=8, layers=1, horizons=(1, 200)), SETUP.train)
    with pytest.raises(InvalidInput, match="horizon 200 is too long"):
        train.train(garch_bars, "toy", long)


def test_a_seed_ensemble_averages_its_members_in_quantile_space(garch_bars: pd.DataFrame) -> None:
    cfg = RNNConfig(hidden=8, layers=1, horizons=(1, 3))
    tc = train.TrainConfig(window=96, burn_in=32, batch=8, steps_per_epoch=2, max_epochs=1)
    ens = ensemble.SeedEnsemble(cfg, tc, 3)
    series = build_series(garch_bars, cfg.horizons)
    ens.fit(series, 0, 1200)
    origins = np.arange(1200, 1400)
    got = ens.predict(series, origins)
    parts = [m.predict(series, origins) for m in ens.members]
    assert not np.allclose(parts[0].ret_q, parts[1].ret_q)  # the seeds differ
    np.testing.assert_allclose(got.ret_q, np.mean([p.ret_q for p in parts], axis=0))
    for q in (got.ret_q, got.high_q, got.low_q):
        assert (np.diff(q, axis=-1) >= 0).all()  # quantiles stay in order
    assert ((got.p_up > 0) & (got.p_up < 1)).all()


def test_one_global_network_on_several_series_is_stored_once(garch_bars: pd.DataFrame) -> None:
    many = {"a": garch_bars, "b": garch_bars.iloc[200:]}
    path, trained = train.train(many, "global", SETUP)
    assert trained and path.name.startswith("global-gru-")
    net, _ = train.load_version(path)
    assert net.cfg == SETUP.model
    assert train.train(many, "global", SETUP) == (path, False)
    other, trained = train.train({"a": garch_bars}, "global", SETUP)
    assert trained and other != path  # other series, another model
    assert train.newest("global") == other
