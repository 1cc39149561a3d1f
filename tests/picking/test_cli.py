import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from otemachi.cli import main
from otemachi.server import create_app

BLOCK = {"id": "o1", "category": "block", "color": "red", "size": "small", "box": "tl"}
DUCK = {"id": "o2", "category": "duck", "color": None, "size": None, "box": "br"}
SPEC = {"objects": [{**BLOCK, "x": 0.5, "y": 0.5}, {**DUCK, "x": 0.3, "y": 0.3}]}


def test_scene_and_pick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["picking", "scene", "--seed", "3", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "s.json").exists()
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    args = ["picking", "pick", "--spec", str(spec), "--object", "o1", "--box", "BR"]
    assert main([*args, "--out", str(tmp_path / "pick")]) == 0
    assert "succeeded" in capsys.readouterr().err
    assert (tmp_path / "pick" / "before.png").exists() and (
        tmp_path / "pick" / "after.png"
    ).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--object", "o9", "--box", "tl"], "no object 'o9'"),
        (["--object", "o1", "--box", "middle"], "--box must be one of"),
    ],
)
def test_pick_bad_input(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    assert main(["picking", "pick", "--spec", str(spec), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_scene_needs_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["picking", "scene"]) == 2
    assert "exactly one of" in capsys.readouterr().err


def test_api_catalog() -> None:
    body = TestClient(create_app()).get("/api/picking/catalog").json()
    assert "rubber duck" in body["categories"]["duck"] and "brown" in body["colors"]
