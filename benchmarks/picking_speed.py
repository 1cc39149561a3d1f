"""picking speed: rendering alone, building + settling + rendering a scene, and one pick-and-place.

Run: .venv/bin/python benchmarks/picking_speed.py
"""

import platform
import time
from datetime import date

import numpy as np

from otemachi.core.seeding import rng
from otemachi.picking.scenes import Scene, random_scene
from otemachi.picking.world import BOXES


def main() -> None:
    print(f"machine: {platform.machine()}, PyBullet DIRECT + TinyRenderer, 320x320; {date.today()}")
    specs = [random_scene(rng(i, "bench"), 15) for i in range(10)]
    with Scene(specs[0]) as scene:
        start = time.perf_counter()
        for _ in range(30):
            scene.render()
        print(f"render only, 15 objects: {30 / (time.perf_counter() - start):.1f} scenes/s")
    start = time.perf_counter()
    for spec in specs:
        with Scene(spec) as scene:
            scene.render()
    print(f"build + settle + render: {len(specs) / (time.perf_counter() - start):.1f} scenes/s")
    times, ok = [], 0
    for spec in specs:
        with Scene(spec, robot=True) as scene:
            assert scene.robot is not None
            o = spec.objects[0]
            start = time.perf_counter()
            result = scene.robot.pick_and_place(
                scene.bodies[o.id], next(b for b in BOXES if b != o.box)
            )
            times.append(time.perf_counter() - start)
            ok += result.ok
    med, top = np.median(times), max(times)
    print(f"pick-and-place: median {med:.2f} s, max {top:.2f} s ({ok}/{len(times)} ok)")


if __name__ == "__main__":
    main()
