"""Synthetic signatures: per-writer sigma-lognormal pen trajectories, natural variation between a
writer's samples, skilled forgeries with other dynamics, and scanned-paper rendering."""

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter
from scipy.special import erf

REVISION = "sigma-lognormal/1"  # bump when generated signatures change: stored bases rebuild


@dataclass(frozen=True)
class Style:
    """A writer's signature: sigma-lognormal components plus pen and layout habits."""

    t0: np.ndarray  # (K,) onset of each stroke component
    mu: np.ndarray  # (K,) log-time delay
    sigma: np.ndarray  # (K,) log-response time
    dist: np.ndarray  # (K,) distance travelled
    theta_s: np.ndarray  # (K,) start angle (radians)
    theta_e: np.ndarray  # (K,) end angle
    lifts: np.ndarray  # (L,) fractions of the duration where the pen leaves the paper
    slant: float  # shear, x += slant * y
    aspect: float  # width / height stretch
    pen: float  # pen width in pixels at 1x scale


def writer_style(rng: np.random.Generator) -> Style:
    """Draw a new writer."""
    k = int(rng.integers(18, 36))
    t0 = np.cumsum(rng.uniform(0.04, 0.12, k))  # strokes overlap in time, as in cursive
    theta_s = rng.uniform(-np.pi, np.pi, k)
    turn = rng.choice([-1.0, 1.0], k) * rng.uniform(1.5, 3.5, k)  # loops and hooks
    return Style(
        t0=t0,
        mu=rng.uniform(-2.2, -1.6, k),
        sigma=rng.uniform(0.2, 0.4, k),
        dist=rng.uniform(0.15, 0.5, k),
        theta_s=theta_s,
        theta_e=theta_s + turn,
        lifts=np.sort(rng.uniform(0.2, 0.9, int(rng.integers(0, 3)))),
        slant=float(rng.uniform(-0.4, 0.4)),
        aspect=float(rng.uniform(1.6, 3.0)),
        pen=float(rng.uniform(1.5, 3.5)),
    )


def vary(style: Style, rng: np.random.Generator, amount: float = 1.0) -> Style:
    """A genuine sample: the same writer, with natural variation scaled by ``amount``."""
    k = len(style.t0)
    jit = lambda scale: rng.normal(0, scale * amount, k)  # noqa: E731
    return replace(
        style,
        t0=style.t0 + jit(0.02),
        mu=style.mu + jit(0.03),
        sigma=np.clip(style.sigma + jit(0.015), 0.05, None),
        dist=style.dist * (1 + jit(0.04)),
        theta_s=style.theta_s + jit(0.05),
        theta_e=style.theta_e + jit(0.05),
        slant=style.slant + float(rng.normal(0, 0.03 * amount)),
        aspect=style.aspect * (1 + float(rng.normal(0, 0.03 * amount))),
        pen=max(1.0, style.pen * (1 + float(rng.normal(0, 0.08 * amount)))),
    )


def forge(style: Style, rng: np.random.Generator) -> tuple[Style, float]:
    """A skilled forgery: the shape imitated with slower, less fluent dynamics and shifted
    proportions. Returns the style and a tremor amplitude for rendering."""
    k = len(style.t0)
    forged = vary(style, rng, amount=2.5)
    forged = replace(
        forged,
        sigma=forged.sigma * rng.uniform(1.2, 1.6),  # slower, smoother velocity peaks
        dist=forged.dist * rng.uniform(0.85, 1.15, k),  # proportions drift stroke by stroke
        aspect=forged.aspect * float(rng.uniform(0.85, 1.15)),
        pen=forged.pen * float(rng.uniform(1.0, 1.4)),  # careful, heavier pen
    )
    return forged, float(rng.uniform(0.004, 0.012))


def trajectory(style: Style, n: int = 1500) -> np.ndarray:
    """Pen positions (n, 2) from the sigma-lognormal velocity model (Plamondon)."""
    t = np.linspace(0, style.t0.max() + 0.4, n)[:, None]  # (n, 1)
    dt = np.clip(t - style.t0[None, :], 1e-9, None)  # (n, K)
    z = (np.log(dt) - style.mu) / style.sigma
    speed = style.dist / (style.sigma * np.sqrt(2 * np.pi) * dt) * np.exp(-0.5 * z**2)
    angle = style.theta_s + (style.theta_e - style.theta_s) * 0.5 * (1 + erf(z / np.sqrt(2)))
    vel = np.stack([(speed * np.cos(angle)).sum(1), (speed * np.sin(angle)).sum(1)], axis=1)
    vel[:, 0] += 0.6 * (t[:, 0] < style.t0.max() + 0.2)  # left-to-right progression while writing
    xy = np.cumsum(vel, axis=0) * (t[1, 0] - t[0, 0])
    xy[:, 0] = xy[:, 0] * style.aspect + style.slant * xy[:, 1]
    return xy


@dataclass(frozen=True)
class Scan:
    """How one signature met pen, paper and scanner, beyond the plain default of ``render``."""

    fill: float  # the signature's share of the image's width or height
    shift: tuple[float, float]  # off-centre placement, fractions of the free margin
    rotate: float  # degrees
    pressure: float  # 0: an even line; up to 1: slow strokes that much thicker, fast ones thinner
    paper: float  # paper brightness, 0-255
    grain: float  # paper texture, grey levels
    dark: float  # ink brightness
    blur: float  # scanner blur, pixels
    gamma: float  # scanner response
    rule: bool  # a printed line under the signature, as on a cheque or a form
    binary: bool  # a black-and-white scan


def wide(style: Style, rng: np.random.Generator) -> Style:
    """The same writer with slant, proportions and pen drawn from wider ranges than
    ``writer_style``'s: hands the default population does not have."""
    return replace(
        style,
        slant=float(rng.uniform(-0.8, 0.8)),
        aspect=float(rng.uniform(1.1, 4.0)),
        pen=float(rng.uniform(0.8, 5.5)),
    )


def scan(rng: np.random.Generator) -> Scan:
    """Conditions of one scan: pens, papers and scanners far wider than ``render``'s default."""
    return Scan(
        fill=float(rng.uniform(0.5, 0.95)),
        shift=(float(rng.uniform(-0.8, 0.8)), float(rng.uniform(-0.8, 0.8))),
        rotate=float(rng.uniform(-6, 6)),
        pressure=float(rng.uniform(0, 1)) * (rng.random() < 0.6),
        paper=float(rng.uniform(170, 252)),
        grain=float(rng.uniform(1, 14)),
        dark=float(rng.uniform(5, 120)),
        blur=float(rng.uniform(0.2, 1.5)),
        gamma=float(rng.uniform(0.6, 1.6)),
        rule=bool(rng.random() < 0.3),
        binary=bool(rng.random() < 0.1),
    )


def _strokes(draw: ImageDraw.ImageDraw, part: np.ndarray, pen: float, pressure: float) -> None:
    if not pressure:
        draw.line([tuple(p) for p in part], fill=255, width=max(1, round(pen)))
        return
    speed = np.linalg.norm(np.diff(part, axis=0), axis=1)
    slow = 1 - speed / max(float(np.median(speed)) * 2, 1e-6)  # 1 at rest, < 0 when fast
    widths = np.clip(pen * (1 + pressure * slow), 1, None)
    for a, b, width in zip(part[:-1], part[1:], widths, strict=True):
        draw.line([tuple(a), tuple(b)], fill=255, width=max(1, round(float(width))))


def render(
    style: Style,
    rng: np.random.Generator,
    size: tuple[int, int] = (160, 400),
    tremor: float = 0.0,
    how: Scan | None = None,
) -> np.ndarray:
    """A grayscale scan (H, W) uint8: dark ink on textured paper, as ``how`` says (None: the
    default population's pen, paper and scanner)."""
    h, w = size
    xy = trajectory(style)
    if tremor:
        xy = xy + rng.normal(0, tremor, xy.shape).cumsum(0) * 0.15 + rng.normal(0, tremor, xy.shape)
    if how is not None and how.rotate:
        a = np.deg2rad(how.rotate)
        xy = xy @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    xy = xy - xy.min(0)
    fill = 0.8 if how is None else how.fill
    scale = fill * min(w / max(xy[:, 0].max(), 1e-6), h / max(xy[:, 1].max(), 1e-6))
    margin = (np.array([w, h]) - xy.max(0) * scale) / 2
    shift = np.zeros(2) if how is None else np.array(how.shift)
    xy = xy * scale + margin * (1 + shift)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    cuts = (style.lifts * len(xy)).astype(int)
    for part in np.split(xy, cuts):
        if len(part) > 1:
            _strokes(draw, part, style.pen, 0.0 if how is None else how.pressure)
    if how is None:
        ink = gaussian_filter(np.asarray(img, float) / 255, 0.6)
        paper = 235 + gaussian_filter(rng.normal(0, 6, (h, w)), 8) + rng.normal(0, 3, (h, w))
        dark = rng.uniform(20, 70)
        return np.clip(paper * (1 - ink) + dark * ink, 0, 255).astype(np.uint8)
    return _scanned(np.asarray(img, float) / 255, xy, how, rng)


def _scanned(ink: np.ndarray, xy: np.ndarray, how: Scan, rng: np.random.Generator) -> np.ndarray:
    h, w = ink.shape
    if how.rule:  # a thin printed line just below the lowest stroke
        y = int(min(h - 2, xy[:, 1].max() + rng.uniform(2, 12)))
        ink[y : y + 1, :] = np.maximum(ink[y : y + 1, :], rng.uniform(0.3, 0.7))
    ink = gaussian_filter(ink, how.blur)
    texture = gaussian_filter(rng.normal(0, how.grain, (h, w)), rng.uniform(2, 12))
    paper = how.paper + texture + rng.normal(0, how.grain / 2, (h, w))
    out = np.clip(paper * (1 - ink) + how.dark * ink, 0, 255)
    if how.binary:
        out = np.where(out < (how.paper + how.dark) / 2, 0.0, 255.0)
    return (255 * (out / 255) ** how.gamma).round().astype(np.uint8)
