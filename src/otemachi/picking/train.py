"""Training every picking model, each with the core epoch loop: the SSD detector, the instruction
reader, the looks model and the grounding scorer (a softmax over each scene's candidates). Only
the training commands (`otemachi picking train`, `otemachi picking train-detector`) and the demo
call ``detector()`` and ``grounder()``, which store what they train; everything else loads."""

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn
from torchvision.models.detection.ssd import SSD

from otemachi.core import store
from otemachi.core.progress import console, track
from otemachi.core.seeding import rng
from otemachi.core.training import Plan, add_up, fit
from otemachi.picking import detect, looks, reading, sentence
from otemachi.picking.episodes import is_unseen
from otemachi.picking.ground import Candidates, Scorer
from otemachi.picking.instructions import instructions_for
from otemachi.picking.model import GroundConfig, Grounder
from otemachi.picking.model import load as load_grounder
from otemachi.picking.model import save as save_grounder
from otemachi.picking.scenes import Scene, random_scene
from otemachi.picking.world import BOXES

Example = tuple[dict[str, torch.Tensor], Candidates, int]  # slots, candidates, target index
IGNORE = reading.IGNORE
DetectorBatch = tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]  # images, targets


def train_detector(cfg: detect.DetectorConfig, data: list[detect.Sample]) -> SSD:
    """SSD from scratch with horizontal-flip augmentation; seeded."""
    gen = rng(cfg.seed, "picking", "detector-train")
    n_batches = -(-len(data) // cfg.batch)

    def batches() -> Iterator[DetectorBatch]:
        for idx in np.array_split(gen.permutation(len(data)), n_batches):
            images, targets = [], []
            for i in idx:
                rgb, boxes = data[i]
                img, b = detect.tensor(rgb), torch.from_numpy(boxes.copy())
                if gen.random() < 0.5:
                    img = img.flip(-1)
                    b[:, [0, 2]] = cfg.size - b[:, [2, 0]]
                images.append(img)
                targets.append({"boxes": b, "labels": torch.ones(len(b), dtype=torch.int64)})
            yield images, targets

    def loss(model: SSD, batch: DetectorBatch) -> torch.Tensor:
        return add_up(model(*batch).values())

    plan = Plan(cfg.epochs, cfg.lr, "adamw", weight_decay=1e-4, one_cycle=True)
    return fit(
        lambda: detect.build(cfg), plan, batches, loss,
        seed=cfg.seed, description="train SSD detector", steps_per_epoch=n_batches,
    )  # fmt: skip


def train_looks(cfg: looks.LooksConfig, data: list[looks.Shot], seed: int) -> looks.Looks:
    """Cross-entropy on the three heads, on freshly jittered crops every epoch; seeded."""
    gen = rng(seed, "picking", "looks-train")
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for i in gen.permutation(len(data)):
            img, boxes, y = data[i]
            yield (*looks.crops(img, looks.jitter(boxes, gen)), torch.from_numpy(y))

    def loss(
        model: looks.Looks, b: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    ) -> torch.Tensor:
        out = model(b[0], b[1])
        return add_up(loss_fn(out[k], b[2][:, j]) for j, k in enumerate(out))

    plan = Plan(cfg.epochs, cfg.lr, "adamw", weight_decay=1e-4, one_cycle=True)
    return fit(
        lambda: looks.Looks(cfg.width), plan, batches, loss,
        seed=seed, description="train looks model", steps_per_epoch=len(data),
    )  # fmt: skip


def train_reader(
    cfg: reading.ReaderConfig, data: list[reading.Example], seed: int
) -> reading.Reader:
    """Cross-entropy on every slot (against shared probabilities on the denials); seeded."""
    pieces = sentence.tokens([t for t, _, _ in data])
    classes = [reading.labels(sl, a) for _, sl, a in data]
    y = {
        s: torch.tensor([c[s] for c in classes]) for s in reading.VOCAB if s not in reading.DENIALS
    }
    for s in reading.DENIALS:
        y[s] = torch.tensor(np.stack([reading.denied(sl, s) for _, sl, _ in data]))
    gen = rng(seed, "picking", "reading-train")
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)

    def slot_loss(s: str, logits: torch.Tensor, want: torch.Tensor) -> torch.Tensor:
        if s in reading.DENIALS:  # "neither white nor black": half on each
            return nn.functional.cross_entropy(logits, want)
        return loss_fn(logits, want)

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor, np.ndarray]]:
        for idx in np.array_split(gen.permutation(len(data)), len(data) // cfg.batch):
            yield (*sentence.pad([pieces[i] for i in idx]), idx)

    def loss(
        model: reading.Reader, b: tuple[torch.Tensor, torch.Tensor, np.ndarray]
    ) -> torch.Tensor:
        out = model(b[0], b[1])
        return add_up(slot_loss(s, out[s], y[s][b[2]]) for s in reading.VOCAB)

    return fit(
        lambda: reading.Reader(cfg.hidden), Plan(cfg.epochs, cfg.lr, "adam"), batches, loss,
        seed=seed, description="train instruction reader",
    )  # fmt: skip


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
    """Cross-entropy of the target among its scene's candidates, full batch, ``steps`` times."""

    def loss(model: Scorer, batch: list[Example]) -> torch.Tensor:
        return torch.stack(
            [nn.functional.cross_entropy(model(q, c)[None], torch.tensor([t])) for q, c, t in batch]
        ).mean()

    return fit(
        lambda: scorer, Plan(steps, 0.05, "adam"), lambda: [data], loss,
        seed=seed, description="fit scorer over candidates",
    )  # fmt: skip


def top1(g: Grounder, data: list[Example]) -> float:
    return float(np.mean([int(g.score(q, c).argmax()) == t for q, c, t in data]))


def train_grounder(cfg: GroundConfig) -> Grounder:
    """Reader, then looks, then the scorer; metrics on data none of them trained on."""
    holdout = frozenset(cfg.holdout)
    text = reading.examples(cfg.text_examples, cfg.seed, holdout)
    plan = reading.ReaderConfig(epochs=cfg.reader_epochs)
    reader = reading.Readers([train_reader(plan, text, cfg.seed + i) for i in range(cfg.readers)])
    shots = looks.shots(cfg.looks_scenes, cfg.seed, "train")
    seen = train_looks(looks.LooksConfig(cfg.looks_width, cfg.looks_epochs), shots, cfg.seed)
    g = Grounder(reader, seen, Scorer(), cfg, {})
    fit = fit_examples(g, cfg.fit_scenes, cfg.seed, "fit")
    g.metrics["scorer_top1_before_fit"] = top1(g, fit)
    fit_scorer(g.scorer, fit, cfg.fit_steps, cfg.seed)
    test = fit_examples(g, max(cfg.fit_scenes // 4, 5), cfg.seed, "test")
    reader_acc = reading.accuracy(reader, reading.examples(800, cfg.seed + 1, frozenset()))
    looks_acc = looks.accuracy(seen, looks.shots(30, cfg.seed, "test"))
    g.metrics.update(
        {f"reader_{k}": v for k, v in reader_acc.items()}
        | {f"looks_{k}": v for k, v in looks_acc.items()}
        | {"scorer_top1_fit": top1(g, fit), "scorer_top1_test": top1(g, test)}
    )
    return g


def detector(
    cfg: detect.DetectorConfig = detect.DetectorConfig(), retrain: bool = False
) -> tuple[SSD, dict[str, float]]:
    """The stored detector, or a newly trained and stored one (about 2 minutes on 2 cores)."""

    def make() -> tuple[SSD, dict[str, float]]:
        model = train_detector(cfg, detect.samples(cfg.train_scenes, cfg.seed, "train"))
        metrics = {
            "map50_heldout": detect.evaluate(
                model, detect.samples(cfg.test_scenes, cfg.seed, "test")
            )
        }
        detect.ARTIFACT.save(cfg, model.state_dict(), metrics)
        return model, metrics

    return store.load_or_train(lambda: detect.load(cfg), make, retrain)


def grounder(cfg: GroundConfig = GroundConfig(), retrain: bool = False) -> Grounder:
    """The stored grounding model, or a newly trained and stored one (about 8 minutes)."""

    def make() -> Grounder:
        console.print("training the grounding model (reader, looks, scorer); it is stored after")
        g = train_grounder(cfg)
        save_grounder(g)
        return g

    return store.load_or_train(lambda: load_grounder(cfg), make, retrain)
