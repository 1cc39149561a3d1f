"""picking demo: a random scene, three pick-and-places by the arm, before/after images."""

from PIL import Image

from otemachi.core.report import Report, markdown_table
from otemachi.core.seeding import rng
from otemachi.picking.scenes import Scene, random_scene
from otemachi.picking.world import BOXES


def demo(report: Report) -> None:
    """Render a 12-object scene and move three objects to other boxes with the arm."""
    folder = report.folder("picking")
    spec = random_scene(rng(0, "picking", "demo"), 12)
    rows = []
    with Scene(spec, robot=True) as scene:
        Image.fromarray(scene.render().rgb).save(folder / "before.png")
        assert scene.robot is not None
        for o in spec.objects[:3]:
            dest = next(b for b in BOXES if b != o.box)
            result = scene.robot.pick_and_place(scene.bodies[o.id], dest)
            rows.append(
                [
                    o.id,
                    f"{o.color or ''} {o.category}".strip(),
                    o.box,
                    dest,
                    "yes" if result.ok else f"no ({result.failure})",
                    scene.box_of(o.id) or "-",
                ]
            )
        Image.fromarray(scene.render().rgb).save(folder / "after.png")
    table = markdown_table(["object", "what", "from", "to", "succeeded", "rests in"], rows)
    images = "\n\n".join(report.image(folder / f"{n}.png", n) for n in ("before", "after"))
    report.add("picking: pick-and-place in simulation", f"{table}\n\n{images}")
