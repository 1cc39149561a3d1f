"""Bad specs, episodes, paths and bodies a new user tries: one-line errors and 4xx, never 500."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from otemachi.cli import main
from otemachi.core.errors import InvalidInput
from otemachi.picking import episodes, scenes
from otemachi.server import create_app

DUCK = {"id": "o1", "category": "duck", "box": "tl", "x": 0.2, "y": 0.3}
OVERFULL = {
    "objects": [
        {**DUCK, "id": f"o{i}", "category": "teddy bear", "size": "large"} for i in range(30)
    ]
}
EPISODE = {"scene": {"objects": [DUCK]}, "instruction": "move the duck", "target": "o1"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": ["duck"]}, "category must be a catalog category"),
        ({"x": "0.5"}, "x must be a number in"),
        ({"box": {"name": "tl"}}, "box must be one of"),
        ({"id": [1]}, "id must be a string"),
        ({"size": 1.45}, "size must be null or one of"),
    ],
)
def test_wrong_json_types_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        scenes.parse({"objects": [{**DUCK, **change}]})


def test_objects_that_cannot_fit_their_box_are_refused() -> None:
    with pytest.raises(InvalidInput, match="box tl is overfull"):
        scenes.parse(OVERFULL)


def test_folders_deep_nesting_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a folder"):
        scenes.load_spec(tmp_path)
    with pytest.raises(InvalidInput, match="is a folder"):
        list(episodes.read(tmp_path))
    deep = tmp_path / "deep.json"
    deep.write_text('{"objects": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(InvalidInput, match="nested too deeply"):
        scenes.load_spec(deep)
    binary = tmp_path / "ep.jsonl"
    binary.write_bytes(json.dumps({**EPISODE, "destination": "br"}).encode() + b"\n\xff\xfe\x00")
    with pytest.raises(InvalidInput, match=r"ep\.jsonl line 2: not UTF-8"):
        list(episodes.read(binary))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tags": "attribute"}, "line 1: tags must be an object"),
        ({"instruction": ["move"]}, "line 1: instruction must be"),
        ({"destination": ["br"]}, "line 1: destination must be"),
        ({"clarification": 3}, "line 1: clarification must be"),
    ],
)
def test_episode_lines_of_the_wrong_type(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "ep.jsonl"
    path.write_text(json.dumps({**EPISODE, "destination": "br", **change}) + "\n")
    with pytest.raises(InvalidInput, match=message):
        list(episodes.read(path))


def _one_line_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_cli_refuses_bad_specs_and_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.json").write_text(json.dumps({"objects": [{**DUCK, "category": ["duck"]}]}))
    Path("full.json").write_text(json.dumps(OVERFULL))
    Path("file.txt").write_text("a file")
    Path("folder").mkdir()
    tags = {**EPISODE, "destination": "br", "tags": "attribute"}
    Path("ep.jsonl").write_text(json.dumps(tags) + "\n")
    for args, message in [
        (["scene", "--spec", "bad.json"], "category must be"),
        (["scene", "--spec", "full.json"], "overfull"),
        (["scene", "--spec", "folder"], "is a folder"),
        (["scene", "--seed", "-3"], "--seed"),
        (["scene", "--seed", "1", "--out", "folder"], "is a folder"),
        (["scene", "--seed", "1", "--out", "no/such/s.png"], "does not exist"),
        (["scene", "--seed", "1", "--out", "scene.txt"], "must end in one of .png"),
        (["run", "move it", "--spec", "bad.json"], "category must be"),
        (["pick", "--spec", "bad.json", "--object", "o1", "--box", "br"], "category must be"),
        (
            ["pick", "--spec", "bad.json", "--object", "o1", "--box", "br", "--out", "file.txt"],
            "is an existing file",
        ),
        (["generate", "--scenes", "1", "--out", "file.txt"], "is an existing file"),
        (["generate", "--episodes", "1", "--out", "folder"], "is a folder"),
        (["evaluate", "--episodes", "ep.jsonl"], "line 1: tags must be an object"),
    ]:
        assert message in _one_line_error(["picking", *args], capsys), args


def test_http_decide_answers_422_not_500() -> None:
    client = TestClient(create_app(), raise_server_exceptions=False)
    ask = {"instruction": "move the duck to the top right box", "oracle_boxes": True}
    for scene in (
        {"objects": [{**DUCK, "category": ["duck"]}]},
        {"objects": [{**DUCK, "x": "left"}]},
        {"objects": "duck"},
        ["not", "a", "spec"],
    ):
        r = client.post("/api/picking/decide", json={**ask, "scene": scene})
        assert r.status_code == 422, (scene, r.text)
    r = client.post("/api/picking/decide", json={**ask, "scene": OVERFULL})
    assert r.status_code == 422 and "overfull" in r.json()["detail"]
    deep = '{"instruction": "x", "scene": ' + "[" * 50_000 + "]" * 50_000 + "}"
    r = client.post(
        "/api/picking/decide", content=deep, headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500
