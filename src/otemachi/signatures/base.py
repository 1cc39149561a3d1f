"""The shared base every person's model stands on: the CNN, its version, background embeddings
(random forgeries for SVMs) and global thresholds calibrated on development writers."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from otemachi.core.errors import CheckpointError, InvalidInput, NotFound
from otemachi.core.paths import artifact_dir
from otemachi.core.store import Artifact, rebuilding
from otemachi.signatures import augment, model, oneclass
from otemachi.signatures.data import SCANS, SignatureDataset, SynthDataset
from otemachi.signatures.synth import REVISION as DATA

MAX_REFS = 5
# Background embeddings and calibrated thresholds: they change with the network and with the
# per-person methods, so both revisions are in the key.
BACKGROUND = Artifact(
    "signatures",
    "background",
    "signatures.background",
    f"{model.ARTIFACT.revision}+oneclass/{oneclass.REVISION}",
    "otemachi signatures train",
    "signature base calibration",
)


@dataclass(frozen=True)
class BaseConfig:
    """Development corpus and training settings. Dev, calibration and evaluation writers are
    generated from different seeds and name prefixes, and checked disjoint."""

    dev_writers: int = 400
    calib_writers: int = 40
    dev_genuine: int = 12
    dev_forgeries: int = 6
    epochs: int = 12
    views: int = 1  # augmented views of each development scan the CNN also learns from
    metric: float = 1.0  # weight of the metric loss (forgeries as hard negatives); 0: none
    wide: float = 0.0  # share of development writers with wider hands, pens, papers, scanners
    scans: str = "plain"  # "both": every development signature also scanned under wider conditions
    n_negatives: int = 200
    target_far: float = 0.05  # global operating point: skilled-forgery FAR on calibration writers
    seed: int = 0

    KEY_SINCE: ClassVar[dict[str, object]] = {"scans": "plain"}  # bases stored before it stay found

    def __post_init__(self) -> None:
        if self.scans not in SCANS:
            raise InvalidInput(f"scans must be one of {list(SCANS)}, got {self.scans!r}")

    def cnn(self) -> "CNNTraining":
        """The settings the CNN depends on (its cache key); calibration settings are not."""
        return CNNTraining(
            self.dev_writers, self.dev_genuine, self.dev_forgeries, self.epochs, self.seed,
            self.views, self.metric, self.wide, self.scans,
        )  # fmt: skip


@dataclass(frozen=True)
class CNNTraining:
    """What the base CNN is trained from: the development corpus, the epochs and the seed."""

    dev_writers: int
    dev_genuine: int
    dev_forgeries: int
    epochs: int
    seed: int
    views: int
    metric: float
    wide: float
    scans: str

    KEY_SINCE: ClassVar[dict[str, object]] = {"scans": "plain"}


@dataclass
class Base:
    net: model.SigNetSmall
    version: str
    negatives: np.ndarray  # (M, E) embeddings of development writers' genuine signatures
    thresholds: dict[str, dict[str, float]]  # method -> number of references -> threshold
    seen_writers: set[str] = field(default_factory=set)  # qualified ids the base has used
    ocnn_start: oneclass.Params | None = None  # OC-NN's learned start (V, b, w), if any

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Batched, L2-normalised embeddings of raw scans."""
        return model.embed(self.net, model.prepare(images, self.net.cfg))

    def fit_user(
        self,
        user_id: str,
        refs: np.ndarray,
        method: str,
        seed: int = 0,
        views: list[np.ndarray] | None = None,
    ) -> oneclass.UserModel:
        """``oneclass.train_user`` on this base: its negatives, version and OC-NN start."""
        return oneclass.train_user(
            user_id, refs, method, self.negatives, self.version, seed, views, self.ocnn_start
        )


def embed_views(
    net: model.SigNetSmall, scans: list[np.ndarray], counts: list[int], gen: np.random.Generator
) -> list[np.ndarray]:
    """Embeddings of ``counts[i]`` augmented views of each scan ``scans[i]`` (a list of
    (counts[i], E) arrays), each set moved so that its mean is its scan's own embedding.

    Views give the shape of a person's variation, the scans its place: noise and a thicker pen
    move every view of a scan the same way, and left as they are they pull a person's model
    off their real signatures (on 40 tuning writers with the base of 2026-11-26, the OC-NN's EER
    at one reference went from 13.9% to 23.9%; moved back, 14.1%)."""
    prepared = model.prepare(list(scans), net.cfg)
    emb = model.embed(net, torch.cat([prepared, augment.prepared_views(prepared, counts, gen)]))
    own, rest = emb[: len(scans)], np.split(emb[len(scans) :], np.cumsum(counts)[:-1])
    return [v - v.mean(0) + o if len(v) else v for o, v in zip(own, rest, strict=True)]


def dev_datasets(cfg: BaseConfig) -> tuple[SynthDataset, SynthDataset]:
    dev = SynthDataset(
        cfg.dev_writers,
        cfg.dev_genuine,
        cfg.dev_forgeries,
        cfg.seed,
        prefix="dev",
        wide=cfg.wide,
        scans=cfg.scans,
    )
    calib = SynthDataset(cfg.calib_writers, 10, 5, cfg.seed, prefix="cal")
    return dev, calib


PRIOR_WRITERS = 5  # per calibration writer: 200 for the default 40


def prior_dataset(cfg: BaseConfig) -> SynthDataset:
    """The writers OC-NN's start is learned on (``prior``), neither development nor calibration
    writers: five times as many as the calibration writers."""
    return SynthDataset(PRIOR_WRITERS * cfg.calib_writers, 10, 5, cfg.seed, prefix="pri")


def qualified(data: SignatureDataset, writers: list[str]) -> set[str]:
    """Writer identities that stay distinct across datasets."""
    if isinstance(data, SynthDataset):
        kind = "synth" if data.generator == "lognormal" else f"synth-{data.generator}"
        return {f"{kind}:{data.seed}:{w}" for w in writers}
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
    base_net: model.SigNetSmall, data: SignatureDataset, writers: list[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """writer -> (genuine (G, E), skilled forgeries (F, E)) embeddings, in sorted file order."""
    out = {}
    for w in writers:
        gen, forg = list(data.iter_genuine(w)), list(data.iter_forgery(w))
        prep = model.prepare(gen + forg, base_net.cfg) if gen + forg else None
        emb = model.embed(base_net, prep) if prep is not None else np.zeros((0, base_net.cfg.embed))
        out[w] = (emb[: len(gen)], emb[len(gen) :])
    return out


def load(cfg: BaseConfig = BaseConfig()) -> Base:
    """The stored base for ``cfg``; never trains.

    Raises ModelNotTrained (naming `otemachi signatures train`) when it is not stored, and
    CheckpointError when a stored file is damaged or the two files do not belong together.
    """
    net, version = model.load(cfg.cnn())
    bg = BACKGROUND.load(cfg, DATA)
    if bg.metrics.get("base_version") != version:
        raise CheckpointError(
            f"the stored background for base {version} was computed with another base network; "
            "`otemachi signatures train --retrain` rebuilds both"
        )
    with rebuilding(bg):
        meta = bg.metrics
        start = {k: bg.tensors[f"ocnn_{k}"].numpy() for k in ("V", "b", "w")}
        return Base(
            net, version, bg.tensors["negatives"].numpy(), meta["thresholds"],
            set(meta["seen_writers"]), start,
        )  # fmt: skip


def stored() -> dict[str, BaseConfig]:
    """Every base stored under OTEMACHI_HOME by this code revision: version -> its config."""
    out = {}
    for side in sorted(artifact_dir("signatures", "models").glob("background-*.json")):
        try:
            meta = json.loads(side.read_text())
            cfg = BaseConfig(**meta["config"])
            version = meta["metrics"]["base_version"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a background sidecar of this code: not a base to offer
        if BACKGROUND.path(cfg, DATA).with_suffix(".json") == side:
            out[version] = cfg
    return out


def load_version(version: str) -> Base:
    """The stored base whose version is ``version``; NotFound naming the stored ones if none."""
    bases = stored()
    if version not in bases:
        raise NotFound(f"no stored base has version {version!r}; stored: {sorted(bases) or 'none'}")
    found = load(bases[version])
    if found.version != version:
        raise NotFound(f"base {version} was replaced by {found.version} (trained again)")
    return found
