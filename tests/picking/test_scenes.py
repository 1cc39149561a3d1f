import json
from pathlib import Path

import numpy as np
import pytest

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.core.seeding import rng
from otemachi.picking import scenes
from otemachi.picking.world import BOXES, box_bounds

DUCK = {"id": "o1", "category": "duck", "color": "yellow", "size": "small", "box": "tl"}
MUG = {"id": "o2", "category": "mug", "color": None, "size": None, "box": "br"}
GOOD = {"objects": [{**DUCK, "x": 0.3, "y": 0.6}, {**MUG, "x": 0.5, "y": 0.5}]}


def test_round_trip(tmp_path: Path) -> None:
    spec = scenes.parse(GOOD)
    assert scenes.parse(json.loads(json.dumps(spec.to_dict()))) == spec
    (tmp_path / "s.json").write_text(json.dumps(GOOD))
    assert scenes.load_spec(tmp_path / "s.json") == spec


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": "unicorn"}, "unknown category 'unicorn'"),
        ({"color": "teal"}, "unknown colour 'teal'"),
        ({"size": "huge"}, "size must be"),
        ({"box": "middle"}, "box must be one of"),
        ({"x": 1.5}, "x must be a number in"),
        ({"y": -0.1}, "y must be a number in"),
        ({"x": True}, "x must be a number in"),
        ({"id": "o2"}, "repeated"),
    ],
)
def test_validation_errors(change: dict[str, object], message: str) -> None:
    bad = {"objects": [{**GOOD["objects"][0], **change}, GOOD["objects"][1]]}
    with pytest.raises(InvalidInput, match=message):
        scenes.parse(bad)


def test_malformed_files(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        scenes.load_spec(tmp_path / "bad.json")
    with pytest.raises(NotFound):
        scenes.load_spec(tmp_path / "absent.json")
    with pytest.raises(InvalidInput, match="objects"):
        scenes.parse({"things": []})


@pytest.mark.parametrize("seed", range(8))
def test_layout_keeps_boxes_and_orders(seed: int) -> None:
    spec = scenes.random_scene(rng(seed, "test-layout"))
    where = scenes.layout(spec)
    for box in BOXES:
        objs = [o for o in spec.objects if o.box == box]
        x0, x1, y0, y1 = box_bounds(box)
        for o in objs:
            x, y = where[o.id]
            assert x0 <= x <= x1 and y0 <= y <= y1
        for a in objs:
            for b in objs:
                if a.x < b.x:
                    assert where[a.id][0] <= where[b.id][0]  # left stays left
                if a.y < b.y:
                    assert where[a.id][1] >= where[b.id][1]  # higher in the image stays higher


def test_layout_separates_overlaps() -> None:
    two = {"objects": [{**GOOD["objects"][0], "x": 0.5, "y": 0.5},
                       {**GOOD["objects"][1], "box": "tl", "x": 0.52, "y": 0.5}]}  # fmt: skip
    spec = scenes.parse(two)
    where = scenes.layout(spec)
    (ax, ay), (bx, by) = where["o1"], where["o2"]
    assert np.hypot(ax - bx, ay - by) >= spec.objects[0].radius + spec.objects[1].radius
    assert ax < bx  # o1 was left of o2 and stays so


def test_random_scene_is_deterministic_and_sized() -> None:
    a, b = scenes.random_scene(rng(1, "x")), scenes.random_scene(rng(1, "x"))
    assert a == b and 4 <= len(a.objects) <= 30
    assert scenes.random_scene(rng(2, "x")) != a
