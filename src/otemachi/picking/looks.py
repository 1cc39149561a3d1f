"""What a candidate looks like: a small CNN over the crop of a box and a context crop three times
its size, each in colour and height above the table (the depth camera), plus the box's size in
pixels, with heads for the category, the look (colour) and the size. Supervised by the
simulator's ground truth on rendered scenes."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torchvision.ops import roi_align

from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.picking.catalog import CATEGORIES, LOOKS, SIZES
from otemachi.picking.language import colour_word
from otemachi.picking.reading import IGNORE
from otemachi.picking.scenes import Scene, random_scene
from otemachi.picking.world import CAMERA_HEIGHT, Frame

CROP = 32
CHANNELS = 4  # red, green, blue, height
# One rendered scene: image (H, W, 4), boxes (N, 4) xyxy, labels (N, 3) cat/look/size
Shot = tuple[np.ndarray, np.ndarray, np.ndarray]


def image(frame: Frame) -> np.ndarray:
    """(H, W, 4) float32: colour in [0, 1] and height above the table in decimetres."""
    height = np.clip(CAMERA_HEIGHT - frame.depth, 0, 0.3) * 10
    return np.concatenate([frame.rgb / 255.0, height[..., None]], -1).astype(np.float32)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class Looks(nn.Module):
    """(B, 8, 32, 32) crops and (B, 3) box sizes -> logits for category, look and size."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = width
        self.cnn = nn.Sequential(
            _block(2 * CHANNELS, w),
            nn.MaxPool2d(2),
            _block(w, 2 * w),
            nn.MaxPool2d(2),
            _block(2 * w, 3 * w),
        )
        self.mlp = nn.Sequential(nn.Linear(3 * w + 3, 128), nn.ReLU())
        self.cat = nn.Linear(128, len(CATEGORIES))
        self.look = nn.Linear(128, len(LOOKS))
        self.size = nn.Linear(128, len(SIZES))

    def forward(self, x: torch.Tensor, dims: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.cnn(x).mean((2, 3))  # (B, 3w)
        h = self.mlp(torch.cat([f, dims], 1))  # (B, 128)
        return {"cat": self.cat(h), "look": self.look(h), "size": self.size(h)}

    def probabilities(self, img: np.ndarray, boxes: np.ndarray) -> dict[str, torch.Tensor]:
        """Per candidate box (N, 4 xyxy) of an ``image()``: probabilities over CATEGORIES,
        LOOKS and SIZES."""
        x, dims = crops(img, boxes)
        with torch.no_grad():
            return {k: v.softmax(-1) for k, v in self.eval()(x, dims).items()}


def crops(image: np.ndarray, boxes: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 8, 32, 32) square crops of each box and of three times its size, and (N, 3) sizes."""
    img = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0)
    b = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    centre, side = (b[:, :2] + b[:, 2:]) / 2, (b[:, 2:] - b[:, :2]).amax(1, keepdim=True)
    out = []
    for scale in (1.2, 3.6):
        half = side * scale / 2
        rois = torch.cat([torch.zeros(len(b), 1), centre - half, centre + half], 1)
        out.append(roi_align(img, rois, CROP, aligned=True))
    wh = (b[:, 2:] - b[:, :2]) / img.shape[-1]
    return torch.cat(out, 1), torch.cat([wh, wh.prod(1, keepdim=True).sqrt()], 1)


def shots(n: int, seed: int, split: str) -> list[Shot]:
    """``n`` rendered random scenes with each visible object's box and labels."""
    out = []
    for i in track(range(n), f"rendering {split} scenes for the looks model"):
        spec = random_scene(rng(seed, "picking", "looks", split, str(i)))
        with Scene(spec, seed=i) as scene:
            frame = scene.render()
            found = scene.bboxes(frame)
        boxes, labels = [], []
        for o in spec.objects:
            if o.id in found:
                x, y, w, h = found[o.id]
                look = colour_word(o)
                boxes.append((x, y, x + w, y + h))
                labels.append(
                    (
                        CATEGORIES.index(o.category),
                        LOOKS.index(look) if look in LOOKS else IGNORE,
                        SIZES.index(o.size or "small"),
                    )
                )
        out.append((image(frame), np.array(boxes, np.float32), np.array(labels, np.int64)))
    return out


def jitter(boxes: np.ndarray, g: np.random.Generator, amount: float = 0.08) -> np.ndarray:
    """Boxes moved and resized by up to ``amount`` of their size, as a detector's would be."""
    wh = boxes[:, 2:] - boxes[:, :2]
    shift = g.uniform(-amount, amount, (len(boxes), 2)) * wh
    grow = g.uniform(-amount, amount, (len(boxes), 2)) * wh / 2
    return np.concatenate([boxes[:, :2] + shift - grow, boxes[:, 2:] + shift + grow], 1)


@dataclass(frozen=True)
class LooksConfig:
    width: int = 32
    epochs: int = 10
    lr: float = 3e-3


def accuracy(model: Looks, data: list[Shot]) -> dict[str, float]:
    """Per-head accuracy on ``data`` (ground-truth boxes)."""
    hits: dict[str, list[bool]] = {"cat": [], "look": [], "size": []}
    for img, boxes, y in data:
        probs = model.probabilities(img, boxes)
        for j, k in enumerate(hits):
            keep = y[:, j] != IGNORE
            hits[k] += list(probs[k].argmax(-1).numpy()[keep] == y[keep, j])
    return {k: float(np.mean(v)) for k, v in hits.items()}
