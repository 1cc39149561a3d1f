"""The grounding model as one versioned artifact: the instruction reader, the looks model and
the scorer, trained in that order (the scorer with a softmax over each scene's candidates), saved
as one safetensors checkpoint, and cached under OTEMACHI_HOME."""

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from otemachi.core import checkpoint
from otemachi.core.errors import CheckpointError, NotFound
from otemachi.core.paths import artifact_dir
from otemachi.core.progress import console, progress, track
from otemachi.core.seeding import rng, torch_seeded
from otemachi.picking import looks, reading
from otemachi.picking.episodes import is_unseen
from otemachi.picking.ground import Candidates, Scorer, candidates
from otemachi.picking.language import instructions_for
from otemachi.picking.scenes import Scene, random_scene
from otemachi.picking.world import BOXES, Frame

KIND = "picking.grounder"
# Phrasings no part of the model trains on: synonyms, relation phrasings, a verb, a sentence
# frame, a destination form, a container word and an answer form.
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
)


@dataclass(frozen=True)
class GroundConfig:
    revision: int = 3  # bumped when training code changes, so a stale cache is not reused
    seed: int = 0
    text_examples: int = 8000
    reader_epochs: int = 6
    looks_scenes: int = 400
    looks_epochs: int = 25
    looks_width: int = 32
    fit_scenes: int = 100
    fit_steps: int = 60
    holdout: tuple[str, ...] = HOLDOUT


@dataclass
class Grounder:
    """The reader, the looks model and the scorer, with the config and metrics they came from."""

    reader: reading.Reader
    looks: looks.Looks
    scorer: Scorer
    config: GroundConfig
    metrics: dict[str, float]

    def candidates(self, frame: Frame, boxes: np.ndarray) -> Candidates:
        return candidates(self.looks, frame, boxes)

    def read(self, text: str) -> dict[str, torch.Tensor]:
        return {k: v[0] for k, v in self.reader.read([text]).items()}

    def score(self, slots: dict[str, torch.Tensor], c: Candidates) -> torch.Tensor:
        """log P(target) per candidate, (N,)."""
        with torch.no_grad():
            return self.scorer(slots, c).log_softmax(0)


Example = tuple[dict[str, torch.Tensor], Candidates, int]  # slots, candidates, target index


def fit_examples(g: Grounder, n_scenes: int, seed: int, split: str) -> list[Example]:
    """Rendered scenes, jittered ground-truth boxes as candidates, and generated instructions
    (held-out phrasings left out) with the index of their target."""
    texts, cands, targets = [], [], []
    holdout = frozenset(g.config.holdout)
    for i in track(range(n_scenes), f"rendering {split} scenes for the scorer"):
        gen = rng(seed, "picking", "scorer", split, str(i))
        spec = random_scene(gen)
        with Scene(spec, seed=i) as scene:
            frame = scene.render()
            found = scene.bboxes(frame)
        ids = [o.id for o in spec.objects if o.id in found]
        boxes = np.array([(x, y, x + w, y + h) for x, y, w, h in (found[k] for k in ids)])
        c = g.candidates(frame, looks.jitter(boxes.astype(np.float32), gen, 0.05))
        for k in gen.permutation(len(ids))[:6]:
            target = spec.by_id(ids[int(k)])
            dest = str(gen.choice([b for b in BOXES if b != target.box]))
            said = instructions_for(spec, target.id, dest, gen, k=5)
            for ins in [i for i in said if not is_unseen(i.tags, holdout, i.text)][:1]:
                texts.append(ins.text)
                cands.append(c)
                targets.append(int(k))
    slots = g.reader.read(texts)
    return [({s: v[i] for s, v in slots.items()}, cands[i], targets[i]) for i in range(len(texts))]


def fit_scorer(scorer: Scorer, data: list[Example], steps: int, seed: int) -> Scorer:
    """Cross-entropy of the target among its scene's candidates (a softmax over candidates)."""
    with torch_seeded(seed):
        opt = torch.optim.Adam(scorer.parameters(), lr=0.05)
        with progress() as bar:
            task = bar.add_task("fit scorer over candidates", total=steps, info="")
            for _ in range(steps):
                loss = torch.stack(
                    [
                        nn.functional.cross_entropy(scorer(q, c)[None], torch.tensor([t]))
                        for q, c, t in data
                    ]
                ).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                bar.update(task, advance=1, info=f"loss {float(loss.detach()):.3f}")
    return scorer


def top1(g: Grounder, data: list[Example]) -> float:
    return float(np.mean([int(g.score(q, c).argmax()) == t for q, c, t in data]))


def train(cfg: GroundConfig) -> Grounder:
    """Reader, then looks, then the scorer; metrics on data none of them trained on."""
    holdout = frozenset(cfg.holdout)
    text = reading.examples(cfg.text_examples, cfg.seed, holdout)
    reader = reading.train(reading.ReaderConfig(epochs=cfg.reader_epochs), text, cfg.seed)
    shots = looks.shots(cfg.looks_scenes, cfg.seed, "train")
    seen = looks.train(looks.LooksConfig(cfg.looks_width, cfg.looks_epochs), shots, cfg.seed)
    g = Grounder(reader, seen, Scorer(), cfg, {})
    fit = fit_examples(g, cfg.fit_scenes, cfg.seed, "fit")
    g.metrics["scorer_top1_before_fit"] = top1(g, fit)
    fit_scorer(g.scorer, fit, cfg.fit_steps, cfg.seed)
    test = fit_examples(g, max(cfg.fit_scenes // 4, 5), cfg.seed, "test")
    reader_acc = reading.accuracy(reader, reading.examples(800, cfg.seed + 1, frozenset()))
    g.metrics.update(
        {f"reader_{k}": v for k, v in reader_acc.items()}
        | {
            f"looks_{k}": v
            for k, v in looks.accuracy(seen, looks.shots(30, cfg.seed, "test")).items()
        }
        | {"scorer_top1_fit": top1(g, fit), "scorer_top1_test": top1(g, test)}
    )
    return g


def _path(cfg: GroundConfig) -> Path:
    tag = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True).encode()).hexdigest()[:12]
    return artifact_dir("picking", "models") / f"grounder-{tag}"


def save(g: Grounder, path: Path) -> None:
    tensors = {
        f"{name}.{k}": v
        for name, part in (("reader", g.reader), ("looks", g.looks), ("scorer", g.scorer))
        for k, v in part.state_dict().items()
    }
    checkpoint.save(path, checkpoint.Checkpoint(KIND, tensors, asdict(g.config), g.metrics))


def load(path: Path) -> Grounder:
    ckpt = checkpoint.load(path, KIND)
    cfg = checkpoint.config_from(GroundConfig, ckpt.config)
    parts: dict[str, nn.Module] = {
        "reader": reading.Reader(),
        "looks": looks.Looks(cfg.looks_width),
        "scorer": Scorer(),
    }
    for name, part in parts.items():
        prefix = f"{name}."
        part.load_state_dict(
            {k[len(prefix) :]: v for k, v in ckpt.tensors.items() if k.startswith(prefix)}
        )
        part.eval()
    return Grounder(parts["reader"], parts["looks"], parts["scorer"], cfg, ckpt.metrics)  # type: ignore[arg-type]


def load_or_train(cfg: GroundConfig = GroundConfig(), train_missing: bool = True) -> Grounder:
    """The cached grounder for ``cfg``, or a newly trained one (about 8 minutes on 2 cores);
    with ``train_missing=False`` a missing model is a NotFound naming the command that makes it."""
    path = _path(cfg)
    try:
        return load(path)
    except CheckpointError as exc:
        if not train_missing:
            raise NotFound(
                f"no trained grounding model ({exc}); run `otemachi picking train`"
            ) from exc
    console.print("training the grounding model (reader, looks, scorer); it is cached after")
    g = train(cfg)
    save(g, path)
    return g
