import numpy as np
import pytest

from otemachi.core.seeding import rng
from otemachi.picking import scenes
from otemachi.picking.world import world_to_pixel


@pytest.mark.parametrize("seed", range(3))
def test_objects_land_in_their_boxes_and_bboxes_come_from_the_mask(seed: int) -> None:
    spec = scenes.random_scene(rng(seed, "test-world"), 16)
    with scenes.Scene(spec, seed=seed) as scene:
        frame = scene.render()
        assert frame.rgb.shape == (320, 320, 3) and frame.depth.shape == (320, 320)
        boxes = scene.bboxes(frame)
        for o in spec.objects:
            assert scene.box_of(o.id) == o.box, o
        assert len(boxes) >= len(spec.objects) - 1  # at most one hidden under another
        for oid, (x, y, w, h) in boxes.items():
            mask = frame.seg == scene.bodies[oid]
            assert mask[y : y + h, x : x + w].sum() == mask.sum()  # the box holds every pixel
            lo, hi = scene.world.aabb(scene.bodies[oid])
            px, py = world_to_pixel((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, scene.world.camera)
            assert x - 3 <= px <= x + w + 3 and y - 3 <= py <= y + h + 3
        assert 0.9 < float(np.median(frame.depth)) < 1.01  # the table is about 1 m below


def test_rendering_is_deterministic() -> None:
    spec = scenes.random_scene(rng(4, "test-world"), 10)
    with scenes.Scene(spec, seed=4) as a, scenes.Scene(spec, seed=4) as b:
        assert np.array_equal(a.render().rgb, b.render().rgb)
