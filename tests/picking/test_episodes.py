import json
from pathlib import Path

import pytest

from otemachi.cli import main
from otemachi.core.errors import InvalidInput, NotFound
from otemachi.picking import episodes
from otemachi.picking.demo import FIFTH, FOURTH, HAND_SETS, SEVENTH, SIXTH, THIRD


def test_generate_write_read(tmp_path: Path) -> None:
    made = episodes.make(12, seed=3, holdout=frozenset({"relation", "ordinal"}))
    episodes.write(made, tmp_path / "ep.jsonl")
    back = list(episodes.read(tmp_path / "ep.jsonl"))
    assert back == made
    for e in back:
        assert e.split == ("unseen" if e.tags["template"] in ("relation", "ordinal") else "seen")
        assert e.destination != e.scene.by_id(e.target).box
        assert (e.clarification is not None) == (e.tags["template"] == "ambiguous")


def _line(**change: object) -> str:
    spec = {"objects": [{"id": "o1", "category": "mug", "box": "tl", "x": 0.5, "y": 0.5}]}
    ep = {
        "id": "e1",
        "scene": spec,
        "instruction": "move the mug",
        "target": "o1",
        "destination": "br",
    }
    return json.dumps({**ep, **change})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{broken", "ep.jsonl line 2: not valid JSON"),
        (_line(destination="up"), "line 2: destination"),
        (_line(target="o7"), "line 2: target"),
        (_line(instruction=""), "line 2: instruction"),
        (json.dumps({"instruction": "x"}), "line 2: missing"),
        (
            _line(
                scene={"objects": [{"id": "o1", "category": "dragon", "box": "tl", "x": 0, "y": 0}]}
            ),
            "line 2: scene",
        ),
    ],
)
def test_malformed_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "ep.jsonl"
    path.write_text(_line() + "\n" + line + "\n")
    with pytest.raises(InvalidInput, match=message):
        list(episodes.read(path))
    with pytest.raises(NotFound):
        list(episodes.read(tmp_path / "absent.jsonl"))


def test_cli_generates_episodes(tmp_path: Path) -> None:
    out = tmp_path / "ep.jsonl"
    assert (
        main(
            [
                "picking",
                "generate",
                "--episodes",
                "5",
                "--out",
                str(out),
                "--holdout-templates",
                "box",
            ]
        )
        == 0
    )
    assert len(list(episodes.read(out))) == 5
    assert main(["picking", "generate", "--out", str(out)]) == 2


def test_named_scenes_are_looked_up_beside_the_file(tmp_path: Path) -> None:
    spec = json.loads(_line())["scene"]
    (tmp_path / "scenes.json").write_text(json.dumps({"kitchen": spec}))
    path = tmp_path / "ep.jsonl"
    path.write_text(_line(scene="kitchen") + "\n")
    (got,) = episodes.read(path)
    assert got.scene.by_id("o1").category == "mug"
    path.write_text(_line(scene="garage") + "\n")
    with pytest.raises(InvalidInput, match="no scene named 'garage'"):
        list(episodes.read(path))
    (tmp_path / "scenes.json").unlink()
    with pytest.raises(InvalidInput, match=r"scenes\.json does not exist"):
        list(episodes.read(path))


@pytest.mark.parametrize("path", [p for _, p in HAND_SETS.values()])
def test_the_handwritten_sets_are_whole(path: Path) -> None:
    eps = list(episodes.read(path))
    assert len(eps) >= 150 and len({e.id for e in eps}) == len(eps)
    kinds = {e.tags["template"] for e in eps}
    assert kinds - {"other"} == {"plain", "relation", "negation", "comparison", "position",
                                 "description", "typo", "chatty"}  # fmt: skip
    assert ("other" in kinds) == (path in (THIRD, FOURTH, FIFTH, SIXTH, SEVENTH))
    for e in eps:
        assert e.split == "handwritten" and e.clarification
        assert e.destination != e.scene.by_id(e.target).box, e.id
