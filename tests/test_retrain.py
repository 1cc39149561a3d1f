"""A training command never trains over a damaged stored model unless told to with --retrain."""

from pathlib import Path

import pytest

from otemachi.cli import main
from otemachi.picking import detect

ARGS = ["picking", "train-detector", "--train-scenes", "2", "--epochs", "1"]


@pytest.mark.slow
def test_a_damaged_detector_is_named_kept_and_replaced_only_with_retrain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = detect.DetectorConfig(train_scenes=2, epochs=1)
    path = detect.ARTIFACT.path(cfg).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a model")
    path.with_suffix(".json").write_text('{"format": "otemachi-checkpoint/1"}')
    assert main(ARGS) == 2
    err = capsys.readouterr().err
    assert str(path.parent) in err.replace("\n", "") and "--retrain" in err
    assert path.read_bytes() == b"not a model"
    assert main([*ARGS, "--retrain"]) == 0
    _, metrics = detect.load(cfg)
    assert Path(path).stat().st_size > 1000 and 0 <= metrics["map50_heldout"] <= 1
