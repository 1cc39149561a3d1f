"""Grounding: score every candidate box against what the instruction says. A candidate is its
looks (category, look, size probabilities from the crop model), its position on the table and
the box it lies in; the instruction is its slots (from the reader). The score adds, in log space,
how well the candidate matches the target's words (and not what they deny), how well it stands
in the named relation to the named landmark(s), whether it is the named extreme (a direction,
a corner or a size) and not the one set aside ("leave the one on the left"), and that it does not
already lie in the destination. Predicates are soft, so the scorer's weights and sharpness learn
with a softmax over each scene's candidates."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from otemachi.picking.catalog import SIZES
from otemachi.picking.language import CORNERS
from otemachi.picking.looks import Looks, image
from otemachi.picking.reading import VOCAB, denials
from otemachi.picking.world import BOXES, VIEW_HALF, Frame

Slots = dict[str, torch.Tensor]  # slot -> probabilities over VOCAB[slot], (|V|,)
EPS = 1e-6


@dataclass(frozen=True)
class Candidates:
    """What the robot sees: N boxes and what it believes about each."""

    boxes: np.ndarray  # (N, 4) xyxy pixels
    xy: torch.Tensor  # (N, 2) table position, metres (x right, y away from the robot)
    box: torch.Tensor  # (N, 4) one-hot over BOXES: which box it lies in
    cat: torch.Tensor  # (N, 12)
    look: torch.Tensor  # (N, 13)
    size: torch.Tensor  # (N, 2)

    def __len__(self) -> int:
        return len(self.boxes)


def candidates(model: Looks, frame: Frame, boxes: np.ndarray) -> Candidates:
    """Look at every box (N, 4 xyxy pixels) of a camera frame."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    h, w = frame.rgb.shape[:2]
    u, v = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    xy = torch.tensor(np.stack([(u / w * 2 - 1) * VIEW_HALF, (1 - v / h * 2) * VIEW_HALF], 1))
    quadrant = (xy[:, 0] >= 0).long() + 2 * (xy[:, 1] < 0).long()  # BOXES order tl tr bl br
    probs = model.probabilities(image(frame), boxes) if len(boxes) else _empty()
    return Candidates(
        boxes,
        xy.float(),
        nn.functional.one_hot(quadrant, len(BOXES)).float(),
        probs["cat"],
        probs["look"],
        probs["size"],
    )


def _empty() -> dict[str, torch.Tensor]:
    return {k: torch.zeros(0, len(VOCAB[k]) - 1) for k in ("cat", "look", "size")}


def _agree(q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """log P(words and looks agree), (N,): q over (none, values...), p (N, values)."""
    hit = p @ q[1:]
    return torch.log(q[0] + hit + EPS)


def _differ(q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """log P(the candidate is not what the words deny), (N,): q over (none, values...), where
    two values may share the probability ("neither white nor black")."""
    return torch.log1p(-(p @ denials(q)).clamp(max=1 - EPS))


def describes(q: Slots, c: Candidates, role: str = "") -> torch.Tensor:
    """log-probability that each candidate is what the words for ``role`` describe, (N,). The
    target's words may also say what it is not ("the mug that isn't blue")."""
    s = _agree(q[f"{role}cat"], c.cat) + _agree(q[f"{role}look"], c.look)
    s = s + _agree(q[f"{role}size"], c.size)
    if not role:
        s = s + _agree(q["box"], c.box)
        for what, p in (("cat", c.cat), ("look", c.look), ("size", c.size), ("box", c.box)):
            s = s + _differ(q[f"not_{what}"], p)
    return s


def elsewhere(q: Slots, c: Candidates) -> torch.Tensor:
    """log P(each candidate lies outside the destination), (N,): nobody asks for a thing to be
    moved into the box it is already in. This also settles "put the ring in the bottom right
    box", where the words could say where the ring lies."""
    return torch.log1p(-(c.box @ q["dest"]).clamp(max=1 - EPS))


def _sig(x: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x * sharp)


def relations(c: Candidates, sharp: torch.Tensor) -> dict[str, torch.Tensor]:
    """Soft truth of ``candidate REL landmark``: (N, N) per relation, (N, N, N) for between."""
    d = c.xy[:, None, :] - c.xy[None, :, :]  # (N, N, 2): candidate minus landmark
    dx, dy, dist = d[..., 0], d[..., 1], d.norm(dim=-1)
    beside = _sig(0.04 - dy.abs(), sharp)
    level = _sig(0.04 - dx.abs(), sharp)
    out = {
        "next to": _sig(0.07 - dist, sharp),
        "left of": _sig(-dx - 0.02, sharp) * beside,
        "right of": _sig(dx - 0.02, sharp) * beside,
        "above": _sig(dy - 0.02, sharp) * level,
        "below": _sig(-dy - 0.02, sharp) * level,
        "closest to": torch.exp(-dist / 0.02),
    }
    seg = c.xy[None, :, :] - c.xy[:, None, :]  # (A, B, 2): from a to b
    rel = c.xy[:, None, None, :] - c.xy[None, :, None, :]  # (N, A, 1, 2): from a to candidate
    u = (rel * seg[None]).sum(-1) / (seg * seg).sum(-1).clamp_min(1e-6)[None]  # (N, A, B)
    off = (rel - u[..., None] * seg[None]).norm(dim=-1)
    out["between"] = _sig(u - 0.2, sharp) * _sig(0.8 - u, sharp) * _sig(0.03 - off, sharp)
    return out


def extreme(key: torch.Tensor, weight: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
    """log P(no other plausible candidate has a larger ``key``), (N,); ``weight`` (N,) is how
    plausible each one is."""
    ahead = _sig(key[None, :] - key[:, None], sharp)  # (N, N): is a ahead of c
    ahead = ahead * (1 - torch.eye(len(key)))
    return torch.log1p(-(weight[None, :] * ahead).clamp(max=1 - EPS)).sum(1)


def _axis_key(c: Candidates, word: str) -> torch.Tensor:
    """How far each candidate goes in the direction (metres) or size that ``word`` names; a
    size is P(large) in tenths, so that a sure difference weighs like 10 cm."""
    x, y, large = c.xy[:, 0], c.xy[:, 1], c.size[:, SIZES.index("large")] / 10
    if word in CORNERS:
        sx, sy = CORNERS[word]
        return (sx * x + sy * y) / 2**0.5
    return {
        "leftmost": -x,
        "rightmost": x,
        "topmost": y,
        "bottommost": -y,
        "largest": large,
        "smallest": -large,
        "left": -x,
        "right": x,
    }[word]


class Scorer(nn.Module):
    """Instruction slots + candidates -> one score per candidate (softmax gives P(target))."""

    def __init__(self) -> None:
        super().__init__()
        self.log_weight = nn.Parameter(torch.zeros(3))  # target words, relation, ordinal
        self.log_sharp = nn.Parameter(torch.full((2,), float(np.log(200.0))))  # relation, ordinal

    def forward(self, q: Slots, c: Candidates) -> torch.Tensor:
        w, sharp = self.log_weight.exp(), self.log_sharp.exp()
        target = describes(q, c)
        return (
            w[0] * target
            + w[1] * self._relation(q, c, target, sharp[0])
            + w[2] * self._ordinal(q, c, target, sharp[1])
            + elsewhere(q, c)
        )

    def _relation(
        self, q: Slots, c: Candidates, target: torch.Tensor, sharp: torch.Tensor
    ) -> torch.Tensor:
        n = len(c)
        l1 = describes(q, c, "l1_").softmax(0)  # (A,) which candidate is the landmark
        l2 = describes(q, c, "l2_").softmax(0)
        not_self = 1 - torch.eye(n)
        truth = relations(c, sharp)
        match = target.exp()  # (N,) how well each matches the target's own words
        total = q["rel"][0].expand(n)
        for k, rel in enumerate(VOCAB["rel"][1:], start=1):
            f = truth[rel]
            if rel == "between":  # two different landmarks, neither of them the candidate
                pair = l1[:, None] * l2[None, :] * not_self  # "the two purple balls": a != b
                pair = pair / pair.sum().clamp_min(EPS)
                f = f * not_self[:, :, None] * not_self[:, None, :]
                hold = torch.einsum("nab,ab->n", f, pair)
            else:
                if rel == "closest to":  # the nearest of the matching candidates
                    f = f * not_self * match[:, None]
                    f = f / f.sum(0, keepdim=True).clamp(EPS)
                hold = (f * not_self) @ l1
            total = total + q["rel"][k] * hold
        return torch.log(total + EPS)

    def _ordinal(
        self, q: Slots, c: Candidates, target: torch.Tensor, sharp: torch.Tensor
    ) -> torch.Tensor:
        """Being the named extreme, and not being the one set aside ("leave the one on the
        left": of two, the other). No sentence both names an extreme and sets it aside, so
        setting aside counts only as far as the extreme is not named."""
        out = torch.zeros(len(c))
        for k, word in enumerate(VOCAB["ord"][1:], start=1):
            e = extreme(_axis_key(c, word), target.exp(), sharp)
            aside = q["not_ord"][k] * (1 - q["ord"][k])
            out = out + q["ord"][k] * e + aside * torch.log1p(-e.exp().clamp(max=1 - EPS))
        return out


def answer_score(
    q: Slots, c: Candidates, prior: torch.Tensor, sharp: float = 200.0
) -> torch.Tensor:
    """How well each candidate fits an answer ("the red one", "the green lego", "the one on the
    left"), (N,); ``prior`` (N,) is the current belief, which decides what "left" is measured
    among. A noun in the answer counts: it corrects a misheard or misread category."""
    s = describes(q, c)  # category, look, size, box, and what the answer denies
    plausible = prior / prior.max().clamp_min(EPS)  # the likeliest ones count fully
    for k, word in enumerate(VOCAB["side"][1:], start=1):
        s = s + q["side"][k] * extreme(_axis_key(c, word), plausible, torch.tensor(sharp))
    return s
