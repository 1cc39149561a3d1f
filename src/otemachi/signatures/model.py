"""The writer-independent feature extractor: a small SigNet-style CNN learned on development
writers (writer classification, plus a forgery head as in SigNet-F). Its embeddings are the
transfer-learning base for every per-person model."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from otemachi.core.store import Artifact, module_from
from otemachi.signatures.preprocess import preprocess
from otemachi.signatures.synth import REVISION as DATA

# Bump the revision when the network or its training changes: stored bases are not reused.
ARTIFACT = Artifact(
    "signatures", "base", "signatures.base", "signet-small/1", "otemachi signatures train",
    "signature base network",
)  # fmt: skip


@dataclass(frozen=True)
class CNNConfig:
    """Network shape; saved in the checkpoint so it rebuilds itself."""

    n_writers: int
    width: int = 24
    embed: int = 128
    resize: tuple[int, int] = (85, 121)  # SigNet's 170x242 -> 150x220 at half resolution
    crop: tuple[int, int] = (75, 110)


def _block(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class SigNetSmall(nn.Module):
    """Conv blocks -> global pooling -> embedding; heads for writer id and genuine/forged."""

    def __init__(self, cfg: CNNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.body = nn.Sequential(
            _block(1, w, 5, 2), nn.MaxPool2d(2),
            _block(w, 2 * w, 3), nn.MaxPool2d(2),
            _block(2 * w, 4 * w, 3), _block(4 * w, 4 * w, 3), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(),
        )  # fmt: skip
        self.fc = nn.Sequential(
            nn.Linear(4 * w * 6, cfg.embed), nn.BatchNorm1d(cfg.embed), nn.ReLU()
        )
        self.writer_head = nn.Linear(cfg.embed, cfg.n_writers)
        self.forgery_head = nn.Linear(cfg.embed, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 1, H, W) in [0, 1], ink high -> embedding (B, E)."""
        return self.fc(self.body(x))


def prepare(images: list[np.ndarray], cfg: CNNConfig) -> torch.Tensor:
    """Preprocess raw scans into a (N, 1, H, W) float tensor."""
    return torch.from_numpy(np.stack([preprocess(im, cfg.resize, cfg.crop) for im in images]))[
        :, None
    ]


def embed(net: SigNetSmall, x: torch.Tensor, batch: int = 256) -> np.ndarray:
    """L2-normalised embeddings (N, E) of prepared images (N, 1, H, W), batched."""
    outs = []
    with torch.no_grad():
        for part in x.split(batch):
            outs.append(F.normalize(net.eval()(part), dim=1))
    return torch.cat(outs).numpy()


def load(key: Any) -> tuple[SigNetSmall, str]:
    """The stored network trained under ``key`` (``BaseConfig.cnn()``) and its version (the hash
    of its weights file). Raises ModelNotTrained when none is stored."""
    ckpt = ARTIFACT.load(key, DATA)
    return module_from(ckpt, CNNConfig, SigNetSmall), ckpt.sha256[:16]
