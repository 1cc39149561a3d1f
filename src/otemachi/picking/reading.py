"""Reading instructions: a bidirectional GRU over the sentence encoder's word-piece vectors,
with one attention head per slot (the target's category, look, size and box, what it is not, a
relation and its landmarks, an ordinal, a side, the destination). Trained on generated
instructions and answers; held-out phrasings never reach training."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from otemachi.core.errors import InvalidInput
from otemachi.core.seeding import rng
from otemachi.picking import sentence
from otemachi.picking.catalog import CATEGORIES, LOOKS, SIZES
from otemachi.picking.episodes import is_unseen
from otemachi.picking.instructions import generate, instructions_for
from otemachi.picking.language import EXTREMES, RELATIONS, SLOTS
from otemachi.picking.scenes import random_scene
from otemachi.picking.world import BOXES

NONE = "none"
VOCAB: dict[str, tuple[str, ...]] = {
    "cat": (NONE, *CATEGORIES),
    "look": (NONE, *LOOKS),
    "size": (NONE, *SIZES),
    "box": (NONE, *BOXES),
    "rel": (NONE, *RELATIONS),
    "ord": (NONE, *EXTREMES),
    "side": (NONE, "left", "right"),
    "not_cat": (NONE, *CATEGORIES),
    "not_look": (NONE, *LOOKS),
    "not_size": (NONE, *SIZES),
    "not_box": (NONE, *BOXES),
    "not_ord": (NONE, *EXTREMES),  # the extreme set aside: "leave the one on the left"
    "l1_cat": (NONE, *CATEGORIES),
    "l1_look": (NONE, *LOOKS),
    "l1_size": (NONE, *SIZES),
    "l2_cat": (NONE, *CATEGORIES),
    "l2_look": (NONE, *LOOKS),
    "l2_size": (NONE, *SIZES),
    "dest": BOXES,
}
assert set(VOCAB) == {*SLOTS, "dest"}
# What the words deny may be two values ("neither white nor black"): these slots hold
# "|"-joined values, and learn to share their probability between them.
DENIALS = ("not_cat", "not_look", "not_size", "not_box")
IGNORE = -100
Example = tuple[str, dict[str, str], bool]  # text, slots, is an answer


class Reader(nn.Module):
    """Word pieces (B, T, 384) -> per slot, logits over that slot's vocabulary."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.gru = nn.GRU(sentence.DIM, hidden, batch_first=True, bidirectional=True)
        self.attend = nn.ModuleDict({s: nn.Linear(2 * hidden, 1) for s in VOCAB})
        self.heads = nn.ModuleDict({s: nn.Linear(2 * hidden, len(v)) for s, v in VOCAB.items()})

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        h, _ = self.gru(x)  # (B, T, 2H)
        out = {}
        for s in VOCAB:
            a = self.attend[s](h).squeeze(-1).masked_fill(~mask, -1e9)  # (B, T)
            pooled = (a.softmax(-1).unsqueeze(-1) * h).sum(1)  # (B, 2H)
            out[s] = self.heads[s](pooled)  # (B, |V_s|)
        return out


class Readers(nn.Module):
    """Readers trained alike from different seeds, read as one: their probabilities are
    averaged. One reader's accuracy on hand-written sentences moves by points with its seed;
    the average of three moves less and is higher than any of them."""

    def __init__(self, members: list[Reader]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def read(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Probabilities per slot, (N, |V_s|) each: the members' mean, on one encoding of the
        words."""
        if not texts:
            return {s: torch.zeros(0, len(v)) for s, v in VOCAB.items()}
        return self._read(*sentence.pad(sentence.tokens(texts)))

    def read_each(self, texts: list[str]) -> list[dict[str, torch.Tensor]]:
        """Each text's probabilities as ``read`` gives them for it alone (to float noise),
        (|V_s|,) per slot: the word pieces are encoded as one batch, and the GRUs read texts of
        one length together, so no text is padded for them."""
        seqs = sentence.tokens(texts)
        out: list[dict[str, torch.Tensor]] = [{} for _ in seqs]
        for n in {len(s) for s in seqs}:
            at = [i for i, s in enumerate(seqs) if len(s) == n]
            got = self._read(*sentence.pad([seqs[i] for i in at]))
            for j, i in enumerate(at):
                out[i] = {s: v[j] for s, v in got.items()}
        return out

    def _read(self, x: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            outs = [m.eval()(x, mask) for m in self.members]
        return {s: torch.stack([o[s].softmax(-1) for o in outs]).mean(0) for s in VOCAB}


def labels(slots: dict[str, str], answer: bool) -> dict[str, int]:
    """Class index per slot but the denials (see ``denied``); an answer says nothing about the
    category or the destination."""
    out = {s: VOCAB[s].index(slots.get(s, NONE)) for s in SLOTS if s not in DENIALS}
    out["dest"] = BOXES.index(slots["dest"]) if "dest" in slots else IGNORE
    if answer:
        out["cat"] = IGNORE
    return out


def denied(slots: dict[str, str], slot: str) -> np.ndarray:
    """What a denial slot should read, (|V_s|,): all on "none", or shared by the denied values."""
    said = slots.get(slot, NONE).split("|")
    return np.array([v in said for v in VOCAB[slot]], np.float32) / len(said)


def denials(q: torch.Tensor) -> torch.Tensor:
    """How surely each value is denied, (..., |V_s| - 1), from a denial slot's probabilities:
    the likeliest value counts fully, one as likely as it too, all times P(something is)."""
    values = q[..., 1:]
    top = values.max(-1, keepdim=True).values.clamp_min(1e-9)
    return values / top * (1 - q[..., :1])


def examples(n: int, seed: int, holdout: frozenset[str]) -> list[Example]:
    """About ``n`` generated instructions (and the answers of the ambiguous ones) whose words
    use no held-out phrasing."""
    out: list[Example] = []
    i = 0
    while len(out) < n:
        if i > 10 * n:
            raise InvalidInput(
                f"the held-out phrasings {sorted(holdout)} leave too little to train on"
            )
        g = rng(seed, "picking", "reading", str(i))
        i += 1
        spec = random_scene(g)
        for o in g.permutation(len(spec.objects))[:3]:
            target = spec.objects[int(o)]
            dest = str(g.choice([b for b in BOXES if b != target.box]))
            said = instructions_for(spec, target.id, dest, g, k=3)
            if g.random() < 0.5 and all(i.tags["template"] != "other" for i in said):
                said += [i for i in [generate(spec, target.id, dest, g, "other")] if i]  # rare
            for ins in said:
                if not is_unseen(ins.tags, holdout, ins.text):
                    out.append((ins.text, {**ins.slots, "dest": dest}, False))
            amb = generate(spec, target.id, dest, g, "ambiguous")  # for its answer
            if amb and amb.clarification and not is_unseen({}, holdout, amb.clarification):
                out.append((amb.clarification, amb.answer_slots, True))
    return out


@dataclass(frozen=True)
class ReaderConfig:
    hidden: int = 64
    epochs: int = 6
    batch: int = 64
    lr: float = 3e-3


def accuracy(model: Readers, data: list[Example]) -> dict[str, float]:
    """Per-slot accuracy on labelled slots."""
    probs = model.read([t for t, _, _ in data])
    out = {}
    for s in VOCAB:
        if s in DENIALS:  # the whole set of denied values must be right
            y = np.stack([denied(sl, s)[1:] > 0 for _, sl, _ in data])
            out[s] = float(((denials(probs[s]).numpy() > 0.5) == y).all(1).mean())
            continue
        y = np.array([labels(sl, a)[s] for _, sl, a in data])
        keep = y != IGNORE
        out[s] = float((probs[s].argmax(-1).numpy()[keep] == y[keep]).mean())
    return out
