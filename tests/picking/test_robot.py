"""The arm really picks and places: every category into every box, 50 trials."""

from collections import Counter

import pytest

from otemachi.core.seeding import rng
from otemachi.picking.catalog import CATALOG
from otemachi.picking.robot import FAILURES
from otemachi.picking.scenes import ObjectSpec, Scene, SceneSpec, random_scene
from otemachi.picking.world import BOXES


def _scene_with(category: str, seed: int) -> SceneSpec:
    """The object under test in a random box among a few random distractors."""
    g = rng(seed, "test-robot")
    others = random_scene(g, 5).objects
    size = ("small", "large")[seed % 2]
    target = ObjectSpec(
        "t", category, None, size, BOXES[seed % 4], *g.uniform(0.2, 0.8, 2).round(3)
    )
    return SceneSpec((target, *(o for o in others if o.box != target.box)))


@pytest.mark.slow
def test_every_category_into_every_box() -> None:
    outcomes: Counter[str] = Counter()
    trials = 0
    cats = sorted(CATALOG)
    plan = [(c, i) for i, c in enumerate(cats)] + [(cats[0], 99), (cats[5], 98)]  # 14 scenes
    for category, seed in plan:
        with Scene(_scene_with(category, seed), robot=True, seed=seed) as scene:
            assert scene.robot is not None
            boxes = BOXES if seed < 50 else BOXES[:1]
            for box in boxes:  # 12 x 4 + 2 = 50 trials
                result = scene.robot.pick_and_place(scene.bodies["t"], box)
                trials += 1
                if result.ok:
                    assert scene.box_of("t") == box
                    outcomes["ok"] += 1
                else:
                    assert result.failure in FAILURES and result.detail
                    outcomes[result.failure] += 1
    print(f"pick-and-place over {trials} trials: {dict(outcomes)}")
    assert trials == 50
    assert outcomes["ok"] / trials >= 0.9, outcomes
