import numpy as np
import pytest

from otemachi.picking import detect, train

TRUTH = [
    np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32),
    np.array([[5, 5, 15, 15]], np.float32),
]


def test_average_precision_by_hand() -> None:
    perfect = [(t, np.ones(len(t))) for t in TRUTH]
    assert detect.average_precision(perfect, TRUTH) == 1.0
    # Ranked: hit (0.9), miss (0.8), hit (0.7); one of three objects never found.
    preds = [
        (np.array([[0, 0, 10, 10], [50, 50, 60, 60]], np.float32), np.array([0.9, 0.8])),
        (np.array([[5, 5, 15, 15]], np.float32), np.array([0.7])),
    ]
    # Recall steps 1/3 at precision 1, then 2/3 at precision 2/3: AP = 1/3 + 1/3 * 2/3.
    assert detect.average_precision(preds, TRUTH) == pytest.approx(1 / 3 + 2 / 9)
    dup = [
        (np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32), np.array([0.9, 0.8])),
        (np.zeros((0, 4)), np.zeros(0)),
    ]
    assert detect.average_precision(dup, TRUTH) == pytest.approx(1 / 3)  # a duplicate is a miss


@pytest.mark.slow
def test_a_tiny_detector_learns(tmp_path: object) -> None:
    cfg = detect.DetectorConfig(
        width=8, train_scenes=24, test_scenes=4, epochs=10, batch=4, lr=5e-3
    )
    model = train.train_detector(cfg, detect.samples(cfg.train_scenes, 1, "train"))
    test = detect.samples(cfg.test_scenes, 1, "test")
    boxes, scores = detect.detect(model, test[0][0], min_score=0.0)
    assert boxes.shape[1] == 4 and len(boxes) == len(scores)
    assert detect.evaluate(model, test) > 0.2  # untrained anchors score about 0


def test_distinct_drops_second_looks_at_one_object() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 9, 9], [8, 0, 18, 10], [30, 30, 40, 40]], np.float32)
    keep = detect.distinct(boxes, np.array([0.9, 0.95, 0.8, 0.5]))
    assert keep.tolist() == [1, 2, 3]  # box 0 mostly holds the better box 1; 2 only touches it
