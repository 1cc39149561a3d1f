"""A second, independent way of making signatures, for evaluation only: never used to train a
base or to choose a setting. Everything differs from ``synth``:

- trajectory: Hollerbach's coupled-oscillator model of cursive writing (a horizontal and a
  vertical oscillation, the letters made by changing their amplitudes and phase difference at
  each half cycle, riding on a steady rightward drift), with a flourished capital, a separate
  surname and sometimes an underline, instead of sigma-lognormal strokes;
- pen: a ballpoint whose line narrows where the pen moves fast and skips where it barely
  touches, in blue or black ink, instead of a constant-width line;
- paper: a brighter sheet on another canvas size, lit unevenly by the scanner, with dust and often
  a printed signature line, instead of textured paper;
- forgeries: imitated freehand (looser shape, slower, shakier, heavier) or traced (the shape
  close, the line hesitant, with extra lifts).
"""

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter

SIZE = (180, 480)  # canvas (H, W)


@dataclass(frozen=True)
class Hand:
    """A writer: one row per half cycle of the oscillation."""

    height: np.ndarray  # (N,) vertical amplitude of each half cycle (ascenders, x-height)
    width: np.ndarray  # (N,) horizontal amplitude
    phase: np.ndarray  # (N,) phase of the horizontal oscillation against the vertical (loops)
    pace: np.ndarray  # (N,) duration of each half cycle
    lift: int  # half cycle where the first name ends and the surname starts
    drift: float  # rightward speed
    slant: float
    tilt: float  # baseline rotation (radians)
    underline: bool
    pen: float  # line width (pixels)
    ink: float  # ink darkness on paper (0-255 scale, lower is darker)


def writer(rng: np.random.Generator) -> Hand:
    """Draw a new writer."""
    n = int(rng.integers(14, 30))
    height = rng.choice([0.5, 1.0, 1.6], n, p=[0.55, 0.3, 0.15]) * rng.uniform(0.8, 1.2, n)
    height[:2] *= rng.uniform(1.8, 2.6)  # the capital
    return Hand(
        height=height,
        width=rng.uniform(0.3, 0.8, n),
        phase=rng.uniform(0.2, 1.4, n) * rng.choice([-1.0, 1.0]),
        pace=rng.uniform(0.8, 1.3, n),
        lift=int(rng.integers(3, max(n // 2, 4))),
        drift=float(rng.uniform(0.12, 0.22)),
        slant=float(rng.uniform(-0.5, 0.3)),
        tilt=float(rng.uniform(-0.08, 0.08)),
        underline=bool(rng.random() < 0.4),
        pen=float(rng.uniform(1.2, 2.8)),
        ink=float(rng.choice([rng.uniform(15, 50), rng.uniform(80, 130)])),  # black or blue
    )


def varied(hand: Hand, rng: np.random.Generator, amount: float = 1.0) -> Hand:
    """The same writer another day: every half cycle a little different."""
    n = len(hand.height)
    jit = lambda scale: 1 + rng.normal(0, scale * amount, n)  # noqa: E731
    return replace(
        hand,
        height=hand.height * jit(0.05),
        width=hand.width * jit(0.05),
        phase=hand.phase + rng.normal(0, 0.06 * amount, n),
        pace=hand.pace * jit(0.04),
        drift=hand.drift * (1 + float(rng.normal(0, 0.04 * amount))),
        slant=hand.slant + float(rng.normal(0, 0.03 * amount)),
        tilt=hand.tilt + float(rng.normal(0, 0.02 * amount)),
        pen=hand.pen * (1 + float(rng.normal(0, 0.06 * amount))),
    )


def path(hand: Hand, steps: int = 40) -> list[np.ndarray]:
    """Pen-down pieces of the signature, (M, 2) positions with the speed as a third column."""
    pieces, x0, t0 = [], 0.0, 0.0
    for start, stop in ((0, hand.lift), (hand.lift, len(hand.height))):
        pts = []
        for k in range(start, stop):
            t = np.linspace(0, np.pi, steps, endpoint=False)
            sign = 1 if k % 2 == 0 else -1  # up strokes and down strokes alternate
            y = sign * hand.height[k] * np.sin(t)
            x = hand.width[k] * np.sin(t + hand.phase[k]) + x0 + hand.drift * t * hand.pace[k]
            x0 = x0 + hand.drift * np.pi * hand.pace[k]
            pts.append(np.stack([x, y], 1))
        xy = np.concatenate(pts)
        pieces.append(xy)
        x0 += 0.6  # the space between the names
        t0 += 1
    if hand.underline:
        last = pieces[-1]
        span = np.linspace(last[-1, 0], pieces[0][0, 0], 80)
        low = min(p[:, 1].min() for p in pieces) - 0.4
        pieces.append(np.stack([span, low + 0.1 * np.sin(np.linspace(0, 3, 80))], 1))
    out = []
    rot = np.array(
        [[np.cos(hand.tilt), -np.sin(hand.tilt)], [np.sin(hand.tilt), np.cos(hand.tilt)]]
    )
    for xy in pieces:
        xy = xy @ rot.T
        xy[:, 0] += hand.slant * xy[:, 1]
        speed = np.r_[0, np.linalg.norm(np.diff(xy, axis=0), axis=1)]
        out.append(np.column_stack([xy, speed]))
    return out


def render(hand: Hand, rng: np.random.Generator, tremor: float = 0.0, lifts: int = 0) -> np.ndarray:
    """A grayscale scan (H, W) uint8 of the writer's signature; ``tremor`` shakes the line and
    ``lifts`` adds that many hesitations (short gaps)."""
    h, w = SIZE
    pieces = path(hand)
    if tremor:
        pieces = [
            np.column_stack([p[:, :2] + rng.normal(0, tremor, (len(p), 2)).cumsum(0) * 0.2,
                             p[:, 2]])
            for p in pieces
        ]  # fmt: skip
    allxy = np.concatenate([p[:, :2] for p in pieces])
    lo, hi = allxy.min(0), allxy.max(0)
    scale = rng.uniform(0.6, 0.8) * min(w / max(hi[0] - lo[0], 1e-6), h / max(hi[1] - lo[1], 1e-6))
    offset = np.array([rng.uniform(0.05, 0.95) * (w - (hi[0] - lo[0]) * scale),
                       rng.uniform(0.1, 0.9) * (h - (hi[1] - lo[1]) * scale)])  # fmt: skip
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    for p in pieces:
        xy = (p[:, :2] - lo) * scale + offset
        xy[:, 1] = h - xy[:, 1]  # y up on paper
        fast = p[:, 2] / max(p[:, 2].max(), 1e-9)
        width = hand.pen * (1.2 - 0.6 * fast)  # a ballpoint thins where it moves fast
        skip = rng.random(len(xy)) < 0.02 + 0.04 * fast  # and skips where it barely touches
        gaps = set(rng.integers(0, len(xy), lifts).tolist())
        for i in range(1, len(xy)):
            if skip[i] or i in gaps:
                continue
            draw.line([tuple(xy[i - 1]), tuple(xy[i])], fill=255, width=max(1, round(width[i])))
    ink = gaussian_filter(np.asarray(canvas, float) / 255, 0.5)
    light = 250 - 12 * np.linspace(0, 1, w)[None, :] * rng.uniform(0.3, 1)  # uneven scanner lamp
    paper = np.broadcast_to(light, (h, w)) + rng.normal(0, 2, (h, w))
    if rng.random() < 0.6:  # a printed signature line under the name
        row = min(int(offset[1] + (hi[1] - lo[1]) * scale * 1.05), h - 3)
        paper[row : row + 1, int(0.05 * w) : int(0.95 * w)] = rng.uniform(170, 205)
    dust = rng.integers(0, h * w, int(rng.integers(0, 12)))
    paper.flat[dust] = rng.uniform(60, 160, len(dust))
    return np.clip(paper * (1 - ink) + hand.ink * ink, 0, 255).astype(np.uint8)


def genuine(hand: Hand, rng: np.random.Generator) -> np.ndarray:
    return render(varied(hand, rng), rng)


def forgery(hand: Hand, rng: np.random.Generator) -> np.ndarray:
    """Half imitated freehand, half traced."""
    return freehand(hand, rng) if rng.random() < 0.5 else traced(hand, rng)


def freehand(hand: Hand, rng: np.random.Generator) -> np.ndarray:
    """A forgery imitated freehand: the shape looser, the line slower, shakier and heavier."""
    fake = varied(hand, rng, amount=3.0)
    fake = replace(fake, pen=fake.pen * float(rng.uniform(1.0, 1.4)))
    return render(fake, rng, tremor=float(rng.uniform(0.01, 0.03)))


def traced(hand: Hand, rng: np.random.Generator) -> np.ndarray:
    """A forgery traced over a genuine signature: the shape close, the line hesitant, with lifts."""
    fake = varied(hand, rng, amount=1.5)
    return render(fake, rng, tremor=float(rng.uniform(0.005, 0.015)), lifts=int(rng.integers(2, 6)))
