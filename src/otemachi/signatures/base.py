"""The shared base every person's model stands on: the CNN, its version, background embeddings
(random forgeries for SVMs) and global thresholds calibrated on development writers."""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from otemachi.core import checkpoint
from otemachi.core.errors import CheckpointError, InvalidInput
from otemachi.core.paths import artifact_dir
from otemachi.core.progress import console
from otemachi.signatures import features, oneclass
from otemachi.signatures.datasets import SignatureDataset, SynthDataset
from otemachi.signatures.metrics import threshold_at_far

KIND = "signatures.background"
MAX_REFS = 5


@dataclass(frozen=True)
class BaseConfig:
    """Development corpus and training settings. Dev, calibration and evaluation writers are
    generated from different seeds and name prefixes, and checked disjoint."""

    dev_writers: int = 400
    calib_writers: int = 40
    dev_genuine: int = 12
    dev_forgeries: int = 6
    epochs: int = 12
    n_negatives: int = 200
    target_far: float = 0.05  # global operating point: skilled-forgery FAR on calibration writers
    seed: int = 0

    def tag(self) -> str:
        key = json.dumps(
            {**asdict(self), "arch": features.ARCH, "oneclass": oneclass.REVISION}, sort_keys=True
        )
        return hashlib.sha256(key.encode()).hexdigest()[:10]


@dataclass
class Base:
    net: features.SigNetSmall
    version: str
    negatives: np.ndarray  # (M, E) embeddings of development writers' genuine signatures
    thresholds: dict[str, dict[str, float]]  # method -> number of references -> threshold
    seen_writers: set[str] = field(default_factory=set)  # qualified ids the base has used

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Batched, L2-normalised embeddings of raw scans."""
        return features.embed(self.net, features.prepare(images, self.net.cfg))


def dev_datasets(cfg: BaseConfig) -> tuple[SynthDataset, SynthDataset]:
    dev = SynthDataset(cfg.dev_writers, cfg.dev_genuine, cfg.dev_forgeries, cfg.seed, prefix="dev")
    calib = SynthDataset(cfg.calib_writers, 10, 5, cfg.seed, prefix="cal")
    return dev, calib


def qualified(data: SignatureDataset, writers: list[str]) -> set[str]:
    """Writer identities that stay distinct across datasets."""
    if isinstance(data, SynthDataset):
        return {f"synth:{data.seed}:{w}" for w in writers}
    return {
        f"{type(data).__name__}:{Path(getattr(data, 'root', '')).resolve()}:{w}" for w in writers
    }


def assert_disjoint(seen: set[str], evaluated: set[str]) -> None:
    """Refuse to evaluate on any writer the base network or its calibration has seen."""
    overlap = seen & evaluated
    if overlap:
        raise InvalidInput(
            f"{len(overlap)} evaluation writers were used to build the base, "
            f"e.g. {sorted(overlap)[:3]}"
        )


def embed_writers(
    base_net: features.SigNetSmall, data: SignatureDataset, writers: list[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """writer -> (genuine (G, E), skilled forgeries (F, E)) embeddings, in sorted file order."""
    out = {}
    for w in writers:
        gen, forg = list(data.iter_genuine(w)), list(data.iter_forgery(w))
        prep = features.prepare(gen + forg, base_net.cfg) if gen + forg else None
        emb = (
            features.embed(base_net, prep)
            if prep is not None
            else np.zeros((0, base_net.cfg.embed))
        )
        out[w] = (emb[: len(gen)], emb[len(gen) :])
    return out


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
                model = oneclass.train_user(w, gen[:r], method, base.negatives, base.version)
                skilled.append(oneclass.score(model, forg))
            base.thresholds[method][str(r)] = threshold_at_far(np.concatenate(skilled), target_far)


def build(cfg: BaseConfig) -> Base:
    """Train the CNN on development writers, embed background and calibrate; save everything."""
    dev, calib = dev_datasets(cfg)
    cnn_cfg = features.CNNConfig(n_writers=cfg.dev_writers)
    batch = features.collect(dev, dev.writers(), cnn_cfg)
    net = features.train(batch, cnn_cfg, features.TrainConfig(seed=cfg.seed, epochs=cfg.epochs))
    folder = artifact_dir("signatures", "models")
    data_hash = hashlib.sha256(batch["x"].numpy().tobytes()).hexdigest()[:16]
    features.save(folder / f"base-{cfg.tag()}", net, {}, data_hash)
    net, version = features.load(folder / f"base-{cfg.tag()}")
    genuine = batch["x"][batch["forged"] == 0]
    pick = np.random.default_rng(cfg.seed).choice(
        len(genuine), min(cfg.n_negatives, len(genuine)), replace=False
    )
    base = Base(net, version, features.embed(net, genuine[np.sort(pick)]), {})
    calibrate(base, embed_writers(net, calib, calib.writers()), cfg.target_far)
    base.seen_writers = qualified(dev, dev.writers()) | qualified(calib, calib.writers())
    meta = {
        "thresholds": base.thresholds,
        "seen_writers": sorted(base.seen_writers),
        "base_version": version,
    }
    ckpt = checkpoint.Checkpoint(
        KIND, {"negatives": torch.from_numpy(base.negatives)}, asdict(cfg), meta, data_hash
    )
    checkpoint.save(folder / f"background-{cfg.tag()}", ckpt)
    return base


def load_or_build(cfg: BaseConfig = BaseConfig()) -> Base:
    """The cached base for ``cfg``, or a freshly trained one (with progress) if none is cached."""
    folder = artifact_dir("signatures", "models")
    try:
        net, version = features.load(folder / f"base-{cfg.tag()}")
        bg = checkpoint.load(folder / f"background-{cfg.tag()}", KIND)
        if bg.metrics.get("base_version") != version:
            raise CheckpointError("background was computed with another base network")
    except CheckpointError:
        console.print("training the signature base network (cached afterwards)")
        return build(cfg)
    return Base(
        net,
        version,
        bg.tensors["negatives"].numpy(),
        bg.metrics["thresholds"],
        set(bg.metrics["seen_writers"]),
    )
