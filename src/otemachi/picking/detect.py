"""Object detection: a torchvision SSD with a small backbone, trained from scratch on rendered
scenes (class-agnostic: it finds objects; grounding decides which one is meant), and mAP@0.5."""

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.ssd import SSD
from torchvision.ops import box_iou

from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.core.store import Artifact, module_from
from otemachi.picking.scenes import Scene, random_scene

ARTIFACT = Artifact(
    "picking", "ssd", "picking.ssd", "ssd/1", "otemachi picking train", "object detector"
)
Sample = tuple[np.ndarray, np.ndarray]  # RGB (H, W, 3) uint8, boxes (N, 4) xyxy pixels


@dataclass(frozen=True)
class DetectorConfig:
    width: int = 16
    size: int = 320
    train_scenes: int = 240
    test_scenes: int = 40
    epochs: int = 12
    batch: int = 8
    lr: float = 2e-3
    seed: int = 0


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class Backbone(nn.Module):
    """Feature maps at strides 8, 16 and 32."""

    def __init__(self, w: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            _conv(3, w, 2),
            _conv(w, 2 * w, 2),
            _conv(2 * w, 2 * w),
            _conv(2 * w, 4 * w, 2),
            _conv(4 * w, 4 * w),
        )
        self.down1 = nn.Sequential(_conv(4 * w, 4 * w, 2), _conv(4 * w, 4 * w))
        self.down2 = nn.Sequential(_conv(4 * w, 4 * w, 2), _conv(4 * w, 4 * w))

    def forward(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        f1 = self.stem(x)  # (B, 4w, H/8, W/8)
        f2 = self.down1(f1)  # (B, 4w, H/16, W/16)
        f3 = self.down2(f2)  # (B, 4w, H/32, W/32)
        return OrderedDict([("0", f1), ("1", f2), ("2", f3)])


def build(cfg: DetectorConfig) -> SSD:
    anchors = DefaultBoxGenerator([[2], [2], [2]], scales=[0.05, 0.1, 0.19, 0.33])
    return SSD(
        Backbone(cfg.width),
        anchors,
        (cfg.size, cfg.size),
        num_classes=2,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.25, 0.25, 0.25],
        detections_per_img=60,
    )


def samples(n: int, seed: int, split: str) -> list[Sample]:
    """Rendered scenes and their ground-truth boxes; ``split`` names a disjoint seed stream."""
    out = []
    for i in track(range(n), f"rendering {split} scenes"):
        with Scene(random_scene(rng(seed, "picking", "detector", split, str(i))), seed=i) as scene:
            frame = scene.render()
            boxes = [(x, y, x + w, y + h) for x, y, w, h in scene.bboxes(frame).values()]
        out.append((frame.rgb, np.array(boxes, np.float32).reshape(-1, 4)))
    return out


def tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (3, H, W) float in [0, 1]."""
    return torch.from_numpy(rgb).permute(2, 0, 1).float() / 255


def detect(model: SSD, rgb: np.ndarray, min_score: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) xyxy and scores (N,) above ``min_score``."""
    with torch.no_grad():
        out = model.eval()([tensor(rgb)])[0]
    keep = out["scores"] >= min_score
    return out["boxes"][keep].numpy(), out["scores"][keep].numpy()


def distinct(boxes: np.ndarray, scores: np.ndarray, overlap: float = 0.6) -> np.ndarray:
    """Indices of boxes to keep, best first: a box mostly inside a better one (intersection over
    the smaller area above ``overlap``) is a second look at the same object and is dropped."""
    kept: list[int] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for i in np.argsort(-scores):
        lo = np.maximum(boxes[kept, :2], boxes[i, :2])
        hi = np.minimum(boxes[kept, 2:], boxes[i, 2:])
        inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
        if not len(kept) or (inter / np.minimum(area[kept], area[i])).max() <= overlap:
            kept.append(int(i))
    return np.array(kept, dtype=np.int64)


def average_precision(
    preds: list[tuple[np.ndarray, np.ndarray]], truth: list[np.ndarray], iou: float = 0.5
) -> float:
    """Class-agnostic AP at an IoU threshold (all-point interpolation, as VOC 2010+ and COCO)."""
    scored = []  # (score, image, box)
    for k, (boxes, scores) in enumerate(preds):
        scored += [(float(s), k, b) for b, s in zip(boxes, scores, strict=True)]
    scored.sort(key=lambda t: -t[0])
    used = [np.zeros(len(t), bool) for t in truth]
    hits = []
    for _, k, box in scored:
        if len(truth[k]) == 0:
            hits.append(0)
            continue
        ious = box_iou(torch.tensor(box[None]), torch.from_numpy(truth[k]))[0].numpy()
        j = int(np.argmax(np.where(used[k], -1, ious)))
        ok = ious[j] >= iou and not used[k][j]
        used[k][j] |= ok
        hits.append(int(ok))
    n_true = sum(len(t) for t in truth)
    if not n_true:
        return float("nan")
    tp = np.cumsum(hits)
    recall = np.concatenate([[0], tp / n_true])
    precision = np.concatenate([[1], tp / np.arange(1, len(hits) + 1)])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * precision[1:]))


def evaluate(model: SSD, data: list[Sample]) -> float:
    """mAP@0.5 (one class) on ``data``."""
    preds = [detect(model, rgb, min_score=0.01) for rgb, _ in data]
    return average_precision(preds, [boxes for _, boxes in data])


def load(cfg: DetectorConfig = DetectorConfig()) -> tuple[SSD, dict[str, float]]:
    """The stored detector for ``cfg`` and its held-out metrics; never trains.

    Raises ModelNotTrained when none is stored and CheckpointError when the file is damaged.
    """
    ckpt = ARTIFACT.load(cfg)
    return module_from(ckpt, DetectorConfig, build), ckpt.metrics
