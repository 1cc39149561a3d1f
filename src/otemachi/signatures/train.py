"""Building the signature base, the only place signatures trains a stored model: the CNN on
development writers (writer classification plus a forgery head, SigNet-F) with the core epoch
loop, background embeddings, and global thresholds calibrated on calibration writers. Only
`otemachi signatures train` and the demo call ``base()``; everything else loads."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from otemachi.core import store
from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.core.training import Plan, fit
from otemachi.signatures import augment, model, oneclass, prior
from otemachi.signatures.base import (
    BACKGROUND,
    DATA,
    MAX_REFS,
    Base,
    BaseConfig,
    dev_datasets,
    embed_writers,
    prior_dataset,
    qualified,
)
from otemachi.signatures.base import load as load_base
from otemachi.signatures.data import SignatureDataset
from otemachi.signatures.metrics import threshold_at_far
from otemachi.signatures.model import CNNConfig, SigNetSmall, prepare

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # images, forged flags, writer labels


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    epochs: int = 12
    batch: int = 64
    lr: float = 2e-3
    forgery_weight: float = 0.5  # SigNet-F: lambda of the forgery objective
    metric_weight: float = 0.0  # the metric loss (``metric_loss``); batches then hold few writers
    margin: float = 0.2  # between squared distances of unit embeddings (0 to 4)
    per_writer: int = 8  # images of one writer that enter a batch together (metric loss only)


def collect(
    data: SignatureDataset,
    writers: list[str],
    cfg: CNNConfig,
    views: int = 0,
    gen: np.random.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """Images of ``writers``: genuine ones labelled by writer index, skilled forgeries flagged;
    with ``views``, that many augmented views of each scan besides it, labelled the same."""
    images, labels, forged = [], [], []
    gen = gen or np.random.default_rng(0)
    for i, writer in enumerate(track(writers, "preparing signatures")):
        for kind, items in ((0, data.iter_genuine(writer)), (1, data.iter_forgery(writer))):
            for img in items:
                made = [img, *augment.views(img, views, gen)]
                images += made
                labels += [i] * len(made)
                forged += [kind] * len(made)
    return {
        "x": prepare(images, cfg),
        "writer": torch.tensor(labels),
        "forged": torch.tensor(forged, dtype=torch.float32),
    }


def _shift(x: torch.Tensor, gen: np.random.Generator) -> torch.Tensor:
    """Augment with a random translation of up to 4 pixels."""
    dy, dx = (int(v) for v in gen.integers(-4, 5, size=2))
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def metric_loss(emb: torch.Tensor, writer: torch.Tensor, forged: torch.Tensor, margin: float
                ) -> torch.Tensor:  # fmt: skip
    """Batch-hard triplet loss on unit embeddings, as in SigNet's Siamese training with skilled
    forgeries as the hardest negatives: for every genuine signature, its farthest genuine
    signature of the same writer must lie ``margin`` (squared distance) closer than the nearest
    signature that is not a genuine one of that writer (above all, that writer's forgeries)."""
    e = F.normalize(emb, dim=1)
    d = torch.cdist(e, e).pow(2)
    own = (writer[:, None] == writer[None, :]) & (forged == 0)[None, :]  # genuine, same writer
    pos = own & ~torch.eye(len(e), dtype=torch.bool)
    anchors = (forged == 0) & pos.any(1)
    if not anchors.any():
        return d.new_zeros(())
    far = (d * pos).max(1).values
    near = d.masked_fill(own, float("inf")).min(1).values
    return F.relu(margin + far - near)[anchors].mean()


def _by_writer(
    writer: torch.Tensor, tc: TrainConfig, gen: np.random.Generator
) -> list[torch.Tensor]:
    """One epoch's batches, each of about ``tc.batch`` images in runs of ``tc.per_writer`` from
    one writer (genuine and forged alike), so that a batch holds positives and hard negatives."""
    labels = writer.numpy()
    runs = []
    for w in np.unique(labels):
        idx = gen.permutation(np.flatnonzero(labels == w))
        runs += np.array_split(idx, max(1, len(idx) // tc.per_writer))
    order = [runs[i] for i in gen.permutation(len(runs))]
    per = max(1, tc.batch // tc.per_writer)
    return [torch.from_numpy(np.concatenate(order[i : i + per])) for i in range(0, len(order), per)]


def train_cnn(batch: dict[str, torch.Tensor], cfg: CNNConfig, tc: TrainConfig) -> SigNetSmall:
    """Train on development writers only: writer classification on genuine signatures, a
    genuine/forged loss on all of them (SigNet-F) and, with ``tc.metric_weight``, the metric
    loss."""
    gen = rng(tc.seed, "signatures", "cnn")
    n = len(batch["x"])

    def batches() -> Iterator[Batch]:
        if tc.metric_weight:
            order = _by_writer(batch["writer"], tc, gen)
        else:
            order = list(torch.from_numpy(gen.permutation(n)).split(tc.batch))
        for idx in order:
            yield _shift(batch["x"][idx], gen), batch["forged"][idx], batch["writer"][idx]

    def loss(net: SigNetSmall, b: Batch) -> torch.Tensor:
        x, forged, writer = b
        emb = net(x)
        genuine = forged == 0
        writer_loss = F.cross_entropy(net.writer_head(emb[genuine]), writer[genuine])
        forgery = F.binary_cross_entropy_with_logits(net.forgery_head(emb)[:, 0], forged)
        out = writer_loss + tc.forgery_weight * forgery
        if tc.metric_weight:
            out = out + tc.metric_weight * metric_loss(emb, writer, forged, tc.margin)
        return out

    plan = Plan(tc.epochs, tc.lr, "adamw", weight_decay=1e-4, one_cycle=True)
    return fit(
        lambda: SigNetSmall(cfg), plan, batches, loss,
        seed=tc.seed, description="train signature CNN", steps_per_epoch=-(-n // tc.batch),
    )  # fmt: skip


def calibrate(
    base: Base, calib: dict[str, tuple[np.ndarray, np.ndarray]], target_far: float
) -> None:
    """Global thresholds per method and number of references, set on calibration writers'
    skilled forgeries at the target FAR."""
    for method in oneclass.METHODS:
        base.thresholds[method] = {}
        for r in range(1, MAX_REFS + 1):
            skilled = []
            for w, (gen, forg) in calib.items():
                user = base.fit_user(w, gen[:r], method)
                skilled.append(oneclass.score(user, forg))
            base.thresholds[method][str(r)] = threshold_at_far(np.concatenate(skilled), target_far)


def build(cfg: BaseConfig, retrain: bool = False) -> Base:
    """The CNN (the stored one unless ``retrain``), background embeddings and calibrated
    thresholds; stores what it makes."""
    dev, calib = dev_datasets(cfg)
    cnn_cfg = CNNConfig(n_writers=cfg.dev_writers)
    views = rng(cfg.seed, "signatures", "base-views")
    batch = collect(dev, dev.writers(), cnn_cfg, cfg.views, views)

    def make_cnn() -> tuple[SigNetSmall, str]:
        tc = TrainConfig(seed=cfg.seed, epochs=cfg.epochs, metric_weight=cfg.metric)
        net = train_cnn(batch, cnn_cfg, tc)
        images = hashlib.sha256(batch["x"].numpy().tobytes()).hexdigest()[:16]
        meta = {"images_sha256": images}
        model.ARTIFACT.save(cfg.cnn(), net.state_dict(), meta, DATA, rebuild=cnn_cfg)
        return model.load(cfg.cnn())

    net, version = store.load_or_train(lambda: model.load(cfg.cnn()), make_cnn, retrain)
    genuine = batch["x"][batch["forged"] == 0]
    pick = np.random.default_rng(cfg.seed).choice(
        len(genuine), min(cfg.n_negatives, len(genuine)), replace=False
    )
    negatives = model.embed(net, genuine[np.sort(pick)])
    learners = prior_dataset(cfg)
    start = prior.learn_start(embed_writers(net, learners, learners.writers()), negatives, cfg.seed)
    base = Base(net, version, negatives, {}, ocnn_start=start)
    calibrate(base, embed_writers(net, calib, calib.writers()), cfg.target_far)
    base.seen_writers = (
        qualified(dev, dev.writers()) | qualified(calib, calib.writers())
        | qualified(learners, learners.writers())
    )  # fmt: skip
    meta = {
        "thresholds": base.thresholds,
        "seen_writers": sorted(base.seen_writers),
        "base_version": version,
    }
    tensors = {"negatives": base.negatives, **{f"ocnn_{k}": v for k, v in start.items()}}
    BACKGROUND.save(cfg, {k: torch.from_numpy(v) for k, v in tensors.items()}, meta, DATA)
    return base


def base(cfg: BaseConfig = BaseConfig(), retrain: bool = False) -> Base:
    """The stored base for ``cfg``, or a newly built and stored one (about 8 minutes)."""
    return store.load_or_train(lambda: load_base(cfg), lambda: build(cfg, retrain), retrain)
