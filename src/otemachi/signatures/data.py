"""Signature corpora as per-writer records: a synthetic one, the generic folder layout, and CEDAR.

Every dataset answers ``writers()``, ``iter_genuine(writer)`` and ``iter_forgery(writer)`` (skilled
forgeries), yielding grayscale uint8 images in a stable (sorted) order.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.signatures import oscillator, synth
from otemachi.signatures.preprocess import read_image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}


class SignatureDataset(Protocol):
    """What evaluation and training need from a corpus."""

    def writers(self) -> list[str]: ...

    def iter_genuine(self, writer: str) -> Iterator[np.ndarray]: ...

    def iter_forgery(self, writer: str) -> Iterator[np.ndarray]: ...


# The second generator's corpora: its forgeries of both kinds, or of one.
FORGERS = {
    "oscillator": oscillator.forgery,
    "oscillator-freehand": oscillator.freehand,
    "oscillator-traced": oscillator.traced,
}
GENERATORS = ("lognormal", *FORGERS)
SCANS = ("plain", "wide", "both")


@dataclass
class SynthDataset:
    """Synthetic writers ``{prefix}{i:04d}``, each generated from its own seed stream, on demand."""

    n_writers: int
    n_genuine: int = 10
    n_forgeries: int = 5
    seed: int = 0
    prefix: str = "w"
    # or "oscillator": the second generator, for evaluation only; "oscillator-freehand" and
    # "oscillator-traced": the same writers and genuine signatures, with one kind of forgery
    generator: str = "lognormal"
    wide: float = 0.0  # share of writers with wider hands, pens, papers and scanners
    # "plain": the default pen, paper and scanner; "wide": each signature scanned under wider
    # conditions (``synth.scan``) instead; "both": each one plain, then again scanned wide
    scans: str = "plain"
    _cache: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("generator", self.generator, GENERATORS), ("scans", self.scans, SCANS)
        ):  # fmt: skip
            if value not in allowed:
                raise InvalidInput(f"{name} must be one of {list(allowed)}, got {value!r}")

    def writers(self) -> list[str]:
        return [f"{self.prefix}{i:04d}" for i in range(self.n_writers)]

    def _samples(self, writer: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
        if writer not in self._cache:
            make = self._oscillator if self.generator in FORGERS else self._lognormal
            self._cache[writer] = make(writer)
        return self._cache[writer]

    def _lognormal(self, writer: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
        r = rng(self.seed, "signatures", writer)
        style = synth.writer_style(r)
        wide = bool(rng(self.seed, "signatures", writer, "wide").random() < self.wide)
        how = lambda: synth.scan(r) if wide else None  # noqa: E731
        if wide:  # (synth.wide, synth.scan)
            style = synth.wide(style, r)
        again = rng(self.seed, "signatures", writer, "rescan")
        genuine: list[np.ndarray] = []
        forged: list[np.ndarray] = []
        for kind in [0] * self.n_genuine + [1] * self.n_forgeries:
            sample, tremor = (synth.vary(style, r), 0.0) if kind == 0 else synth.forge(style, r)
            made = [synth.render(sample, r, tremor=tremor, how=how())]
            if self.scans != "plain":  # the same signature, on another pen, paper and scanner
                made.append(synth.render(sample, again, tremor=tremor, how=synth.scan(again)))
            # "wide" still renders the plain scan: it draws from r, and the next signature too
            (genuine if kind == 0 else forged).extend(made[1:] if self.scans == "wide" else made)
        return genuine, forged

    def _oscillator(self, writer: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
        r = rng(self.seed, "signatures", "oscillator", writer)
        hand = oscillator.writer(r)
        forge = FORGERS[self.generator]
        return (
            [oscillator.genuine(hand, r) for _ in range(self.n_genuine)],
            [forge(hand, r) for _ in range(self.n_forgeries)],
        )

    def iter_genuine(self, writer: str) -> Iterator[np.ndarray]:
        yield from self._samples(writer)[0]

    def iter_forgery(self, writer: str) -> Iterator[np.ndarray]:
        yield from self._samples(writer)[1]


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


@dataclass(frozen=True)
class FolderDataset:
    """``ROOT/<writer>/genuine/*`` and ``ROOT/<writer>/forged/*`` (png, jpg, tif, bmp)."""

    root: Path

    def __post_init__(self) -> None:
        _folder(self.root)
        if not self.writers():
            raise InvalidInput(
                f"{self.root} holds no <writer>/genuine/ folders with images; "
                "expected ROOT/<writer>/genuine/*.png and ROOT/<writer>/forged/*.png"
            )

    def writers(self) -> list[str]:
        return sorted(d.name for d in self.root.iterdir() if _images(d / "genuine"))

    def iter_genuine(self, writer: str) -> Iterator[np.ndarray]:
        for path in _images(self.root / writer / "genuine"):
            yield read_image(path)

    def iter_forgery(self, writer: str) -> Iterator[np.ndarray]:
        for path in _images(self.root / writer / "forged"):
            yield read_image(path)


CEDAR_NAME = re.compile(r"^(original|forgeries)_(\d+)_(\d+)\.(png|jpg|tif)$", re.IGNORECASE)


@dataclass(frozen=True)
class CedarDataset:
    """CEDAR's naming, anywhere under ROOT: ``original_W_S.png`` and ``forgeries_W_S.png``."""

    root: Path

    def _index(self) -> dict[tuple[str, str], list[Path]]:
        index: dict[tuple[str, str], list[tuple[int, Path]]] = {}
        for path in self.root.rglob("*"):
            m = CEDAR_NAME.match(path.name)
            if m:
                kind, writer, sample = m.group(1).lower(), m.group(2), int(m.group(3))
                index.setdefault((writer, kind), []).append((sample, path))
        return {k: [p for _, p in sorted(v)] for k, v in index.items()}

    def writers(self) -> list[str]:
        return sorted({w for w, kind in self._index() if kind == "original"}, key=int)

    def iter_genuine(self, writer: str) -> Iterator[np.ndarray]:
        for path in self._index().get((writer, "original"), []):
            yield read_image(path)

    def iter_forgery(self, writer: str) -> Iterator[np.ndarray]:
        for path in self._index().get((writer, "forgeries"), []):
            yield read_image(path)


def _folder(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{root} is a file; give the folder that holds the signatures")
    if not root.is_dir():
        raise NotFound(f"no such folder: {root}")


def open_dataset(root: Path) -> SignatureDataset:
    """A folder in CEDAR naming if it has such files, otherwise the generic layout."""
    _folder(root)
    cedar = CedarDataset(root)
    return cedar if cedar.writers() else FolderDataset(root)


def write(dataset: SignatureDataset, out: Path) -> int:
    """Write ``dataset`` in the generic folder layout; return the number of images written."""
    count = 0
    for writer in track(dataset.writers(), "writing signatures"):
        for kind, images in (
            ("genuine", dataset.iter_genuine(writer)),
            ("forged", dataset.iter_forgery(writer)),
        ):
            folder = out / writer / kind
            folder.mkdir(parents=True, exist_ok=True)
            for i, img in enumerate(images):
                Image.fromarray(img).save(folder / f"{i:03d}.png")
                count += 1
    return count
