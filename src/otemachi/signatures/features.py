"""The writer-independent feature extractor: a small SigNet-style CNN learned on development
writers (writer classification, plus a forgery head as in SigNet-F). Its embeddings are the
transfer-learning base for every per-person model."""

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from otemachi.core import checkpoint
from otemachi.core.progress import progress, track
from otemachi.core.seeding import rng, torch_seeded
from otemachi.signatures.datasets import SignatureDataset
from otemachi.signatures.preprocess import preprocess

KIND = "signatures.base"
ARCH = "signet-small/1"  # bump when the network or its training changes: cached bases rebuild


@dataclass(frozen=True)
class CNNConfig:
    """Network shape; saved in the checkpoint so it rebuilds itself."""

    n_writers: int
    width: int = 24
    embed: int = 128
    resize: tuple[int, int] = (85, 121)  # SigNet's 170x242 -> 150x220 at half resolution
    crop: tuple[int, int] = (75, 110)


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    epochs: int = 12
    batch: int = 64
    lr: float = 2e-3
    forgery_weight: float = 0.5  # SigNet-F: lambda of the forgery objective


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


def collect(data: SignatureDataset, writers: list[str], cfg: CNNConfig) -> dict[str, torch.Tensor]:
    """Images of ``writers``: genuine ones labelled by writer index, skilled forgeries flagged."""
    images, labels, forged = [], [], []
    for i, writer in enumerate(track(writers, "preparing signatures")):
        for kind, items in ((0, data.iter_genuine(writer)), (1, data.iter_forgery(writer))):
            for img in items:
                images.append(img)
                labels.append(i)
                forged.append(kind)
    return {
        "x": prepare(images, cfg),
        "writer": torch.tensor(labels),
        "forged": torch.tensor(forged, dtype=torch.float32),
    }


def _shift(x: torch.Tensor, gen: np.random.Generator) -> torch.Tensor:
    """Augment with a random translation of up to 4 pixels."""
    dy, dx = (int(v) for v in gen.integers(-4, 5, size=2))
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def train(batch: dict[str, torch.Tensor], cfg: CNNConfig, tc: TrainConfig) -> SigNetSmall:
    """Train on development writers only: writer classification on genuine signatures and a
    genuine/forged loss on all of them (SigNet-F)."""
    gen = rng(tc.seed, "signatures", "cnn")
    n = len(batch["x"])
    with torch_seeded(tc.seed):
        net = SigNetSmall(cfg)
        opt = torch.optim.AdamW(net.parameters(), lr=tc.lr, weight_decay=1e-4)
        steps = tc.epochs * -(-n // tc.batch)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, tc.lr, total_steps=steps)
        net.train()
        with progress() as bar:
            task = bar.add_task("train signature CNN", total=tc.epochs, info="")
            for _ in range(tc.epochs):
                order = torch.from_numpy(gen.permutation(n))
                correct = seen = 0
                for idx in order.split(tc.batch):
                    x, forged, writer = (
                        _shift(batch["x"][idx], gen),
                        batch["forged"][idx],
                        batch["writer"][idx],
                    )
                    emb = net(x)
                    genuine = forged == 0
                    logits = net.writer_head(emb[genuine])
                    loss = F.cross_entropy(logits, writer[genuine])
                    fl = net.forgery_head(emb)[:, 0]
                    loss = loss + tc.forgery_weight * F.binary_cross_entropy_with_logits(fl, forged)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
                    correct += int((logits.argmax(1) == writer[genuine]).sum())
                    seen += int(genuine.sum())
                bar.update(task, advance=1, info=f"writer acc {correct / max(seen, 1):.2f}")
    return net.eval()


def embed(net: SigNetSmall, x: torch.Tensor, batch: int = 256) -> np.ndarray:
    """L2-normalised embeddings (N, E) of prepared images (N, 1, H, W), batched."""
    outs = []
    with torch.no_grad():
        for part in x.split(batch):
            outs.append(F.normalize(net.eval()(part), dim=1))
    return torch.cat(outs).numpy()


def save(path: Path, net: SigNetSmall, metrics: dict[str, float], data_hash: str) -> Path:
    """Versioned checkpoint of the base network."""
    return checkpoint.save(
        path, checkpoint.Checkpoint(KIND, net.state_dict(), asdict(net.cfg), metrics, data_hash)
    )


def load(path: Path) -> tuple[SigNetSmall, str]:
    """The network and its version (the hash of its weights file)."""
    ckpt = checkpoint.load(path, KIND)
    net = SigNetSmall(checkpoint.config_from(CNNConfig, ckpt.config))
    net.load_state_dict(ckpt.tensors)
    return net.eval(), ckpt.sha256[:16]
