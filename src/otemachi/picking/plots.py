"""Pictures of decisions: the camera image with the chosen object and the destination box
marked, and the accuracy chart of an evaluation."""

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from otemachi.core.report import save_figure
from otemachi.picking.world import Camera, box_bounds, world_to_pixel


def enlarged(rgb: np.ndarray) -> Image.Image:
    """The camera image at twice its size (nearest neighbour), as pictures of it are shown."""
    return Image.fromarray(rgb).resize(
        (rgb.shape[1] * 2, rgb.shape[0] * 2), Image.Resampling.NEAREST
    )


def mark(rgb: np.ndarray, box: tuple[float, ...], destination: str, label: str = "") -> Image.Image:
    """The image with the chosen candidate in red and the destination box in green."""
    img = enlarged(rgb)
    draw = ImageDraw.Draw(img)
    draw.rectangle([2 * v for v in box], outline=(230, 20, 20), width=3)
    x0, x1, y0, y1 = box_bounds(destination)
    cam = Camera(rgb.shape[1], rgb.shape[0])
    (u0, v0), (u1, v1) = world_to_pixel(x0, y1, cam), world_to_pixel(x1, y0, cam)
    draw.rectangle([2 * u0, 2 * v0, 2 * u1, 2 * v1], outline=(20, 200, 60), width=3)
    if label:
        draw.text((6, 6), label, fill=(255, 255, 255))
    return img


def accuracy_chart(result: dict[str, Any], path: Path) -> Path:
    """Bars of first-decision and clarified target accuracy per template and split."""
    import matplotlib.pyplot as plt

    groups = {**result["by_template"], **{f"[{k}]": v for k, v in result["by_split"].items()}}
    names = list(groups)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(x - 0.2, [groups[n]["target_accuracy"] for n in names], 0.4, label="first decision")
    ax.bar(
        x + 0.2,
        [groups[n]["target_accuracy_clarified"] for n in names],
        0.4,
        label="after clarification",
    )
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("target accuracy")
    ax.legend(loc="lower right")
    return save_figure(fig, path)
