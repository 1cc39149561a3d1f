import math

import numpy as np
import pytest
from scipy import stats

from otemachi.markets import metrics

TAUS = np.array([0.1, 0.5, 0.9])


def test_pinball_and_crps_by_hand() -> None:
    y = np.array([1.0, -1.0])
    q = np.array([[0.0, 0.5, 2.0], [0.0, 0.5, 2.0]])
    # y=1: 0.1*1, 0.5*0.5, 0.1*1 -> mean 0.15 ; y=-1: 0.9*1, 0.5*1.5, 0.1*3 -> mean 0.65
    np.testing.assert_allclose(metrics.pinball_series(y, q, TAUS), [0.15, 0.65])
    assert metrics.crps(y, q, TAUS) == pytest.approx(2 * 0.4)


def test_coverage_mase_brier() -> None:
    y = np.array([0.5, 1.5, -0.2, 3.0])
    assert metrics.coverage(y, np.zeros(4), np.ones(4)) == 0.25
    # MAE of median 0.5 is mean(|0, 1, .7, 2.5|) = 1.05; naive MAE = mean|y| = 1.3
    assert metrics.mase(y, np.full(4, 0.5)) == pytest.approx(1.05 / 1.3)


def test_pesaran_timmermann_by_hand() -> None:
    actual = np.array([1, 1, 0, 0, 1, 0, 1, 1], dtype=float)
    pred = np.array([1, 1, 0, 1, 1, 0, 0, 1], dtype=float)
    n, py, px = 8, 5 / 8, 5 / 8
    p_hat = 6 / 8
    p_star = py * px + (1 - py) * (1 - px)
    v = p_star * (1 - p_star) / n
    vs = (2 * py - 1) ** 2 * px * (1 - px) / n + (2 * px - 1) ** 2 * py * (1 - py) / n
    vs += 4 * py * px * (1 - py) * (1 - px) / n**2
    expected = stats.norm.sf((p_hat - p_star) / math.sqrt(v - vs))
    assert metrics.pesaran_timmermann(actual, pred) == pytest.approx(expected)
    assert math.isnan(metrics.pesaran_timmermann(actual, np.ones(8)))


def test_diebold_mariano_by_hand() -> None:
    a = np.array([1.0, 2.0, 1.5, 3.0, 2.5, 2.0])
    b = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    d = a - b
    n = 6
    var = np.mean((d - d.mean()) ** 2)  # horizon 1: no autocovariance terms
    dm = d.mean() / math.sqrt(var / n) * math.sqrt((n + 1 - 2) / n)
    assert metrics.diebold_mariano(a, b, 1) == pytest.approx(2 * stats.t.sf(dm, n - 1))
    assert math.isnan(metrics.diebold_mariano(b, b, 1))


def test_score_keys_and_direction() -> None:
    y = np.array([0.1, -0.2, 0.3, -0.1])
    q = np.tile([-0.2, -0.1, 0.0, 0.1, 0.2], (4, 1))
    p_up = np.array([0.9, 0.2, 0.6, 0.7])
    s = metrics.score(y, q, p_up, (0.1, 0.25, 0.5, 0.75, 0.9), 1, np.ones(4))
    assert set(s) == set(metrics.METRICS)
    assert s["dir_acc"] == 0.75
    assert s["brier"] == pytest.approx(np.mean([0.01, 0.04, 0.16, 0.49]))
    assert s["coverage80"] == 0.75 and s["coverage50"] == 0.5
    assert s["mae"] == pytest.approx(0.175) and s["mase"] == pytest.approx(1.0)
