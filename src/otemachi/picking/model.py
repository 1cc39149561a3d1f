"""The grounding model as one stored artifact: the instruction reader, the looks model and the
scorer, with the config they were trained from, saved as one safetensors checkpoint in the model
store. Loading never trains: `otemachi picking train` makes it."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from otemachi.core.checkpoint import config_from
from otemachi.core.store import Artifact, rebuilding
from otemachi.picking import looks, reading
from otemachi.picking.ground import Candidates, Scorer, candidates
from otemachi.picking.spelling import respell
from otemachi.picking.world import Frame

ARTIFACT = Artifact(
    "picking",
    "grounder",
    "picking.grounder",
    revision="grounder/12",
    command="otemachi picking train",
    title="grounding model",
)
# Phrasings no part of the model trains on: synonyms, relation phrasings, a verb, sentence
# frames, a destination form, a container word, an answer form, an opening and a closing,
# forms of extremes and of negation, and parts of the categories' descriptions.
HOLDOUT = (
    "beside",
    "nearest to",
    "in between",
    "bunny",
    "coffee mug",
    "wedge",
    "stuffed animal",
    "transfer",
    "{ref} goes {dest}",
    "over to the {b} {c}",
    "tray",
    "the one further",
    "i'd like {ref} moved {dest}",
    "alright,",
    "cheers",
    "the tiniest {n}",
    "the {n} further up",
    "the {n} closest to the {e} edge of the {b}",
    "the {n} which isn't {v}",
    "the {n} that's not {v} and not {w}",
    "skip {e} and {verb} the other {n} {dest}",
    "{e} is fine where it is; {verb} the other {o} {dest}",
    "that floats in a bathtub",
    "ramp-shaped",
    "a hole through it",
    "studs on top",
    "long floppy ears",
    "for hot drinks",
)


@dataclass(frozen=True)
class GroundConfig:
    seed: int = 0
    text_examples: int = 20000
    reader_epochs: int = 6
    readers: int = 5  # trained from seeds seed, seed + 1, ...; their readings averaged
    looks_scenes: int = 400
    looks_epochs: int = 25
    looks_width: int = 32
    fit_scenes: int = 100
    fit_steps: int = 60
    holdout: tuple[str, ...] = HOLDOUT


@dataclass
class Grounder:
    """The reader, the looks model and the scorer, with the config and metrics they came from."""

    reader: reading.Readers
    looks: looks.Looks
    scorer: Scorer
    config: GroundConfig
    metrics: dict[str, float]

    def candidates(self, frame: Frame, boxes: np.ndarray) -> Candidates:
        return candidates(self.looks, frame, boxes)

    def read(self, text: str) -> dict[str, torch.Tensor]:
        """Slot probabilities of ``text``, misspelt words put right first."""
        return self.read_all([text])[0]

    def read_all(self, texts: list[str]) -> list[dict[str, torch.Tensor]]:
        """Slot probabilities of each of ``texts``, each as it reads alone."""
        return self.reader.read_each([respell(t) for t in texts])

    def score(self, slots: dict[str, torch.Tensor], c: Candidates) -> torch.Tensor:
        """log P(target) per candidate, (N,)."""
        with torch.no_grad():
            return self.scorer(slots, c).log_softmax(0)


def _parts(g: Grounder) -> dict[str, nn.Module]:
    return {"reader": g.reader, "looks": g.looks, "scorer": g.scorer}


def save(g: Grounder) -> Path:
    """Store the three parts as one checkpoint, keyed by the config they were trained from."""
    tensors = {f"{n}.{k}": v for n, part in _parts(g).items() for k, v in part.state_dict().items()}
    return ARTIFACT.save(g.config, tensors, g.metrics)


def load(cfg: GroundConfig = GroundConfig()) -> Grounder:
    """The stored grounding model for ``cfg``.

    Raises ModelNotTrained when none is stored and CheckpointError when the file is damaged.
    """
    ckpt = ARTIFACT.load(cfg)
    with rebuilding(ckpt):
        stored = config_from(GroundConfig, ckpt.config)
        n = len({k.split(".")[2] for k in ckpt.tensors if k.startswith("reader.members.")})
        readers = reading.Readers([reading.Reader() for _ in range(max(n, 1))])  # as stored
        parts = (readers, looks.Looks(stored.looks_width), Scorer())
        g = Grounder(*parts, stored, ckpt.metrics)
        for name, part in _parts(g).items():
            prefix = f"{name}."
            part.load_state_dict(
                {k[len(prefix) :]: v for k, v in ckpt.tensors.items() if k.startswith(prefix)}
            )
            part.eval()
    return g
