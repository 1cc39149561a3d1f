"""Episodes: one scene, one instruction, the intended target and destination, and the answer to
give if the system asks. JSONL, one episode per line."""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.core.files import input_file
from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.picking.data import jsonl
from otemachi.picking.instructions import generate
from otemachi.picking.scenes import SceneSpec, parse, random_scene, type_problem
from otemachi.picking.world import BOXES

BASIC_TEMPLATES = ("attribute", "box", "relation", "ordinal", "ambiguous")
TEMPLATES = (*BASIC_TEMPLATES, "comparison", "position", "negation", "description", "other")


@dataclass(frozen=True)
class Episode:
    id: str
    scene: SceneSpec
    instruction: str
    target: str
    destination: str
    clarification: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    split: str = "seen"  # "unseen": made with a held-out template, synonym or phrasing
    audio: Path | None = None  # the instruction spoken (a WAV, FLAC or OGG file)
    clarification_audio: Path | None = None  # the answer spoken

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "scene": self.scene.to_dict(),
            "instruction": self.instruction,
            "target": self.target,
            "destination": self.destination,
            "clarification": self.clarification,
            "tags": self.tags,
            "split": self.split,
        }
        for key in ("audio", "clarification_audio"):
            if (path := getattr(self, key)) is not None:
                out[key] = str(path)
        return out


class EpisodeIn(BaseModel):
    """One episodes line as JSON gives it: types only; values are checked in _episode()."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    id: str | int | None = Field(None, description="a string or null")
    scene: dict[str, Any] | str = Field(
        description='a scene spec object {"objects": [...]}, or the name of one in scenes.json'
    )
    instruction: str = Field(description="a non-empty string")
    target: str | int = Field(description="the id (a string) of an object of the scene")
    destination: str = Field(description=f"one of {list(BOXES)}")
    clarification: str | None = Field(None, description="a string or null")
    tags: dict[str, str] | None = Field(None, description="an object whose values are strings")
    split: str = Field("seen", description="a string such as 'seen' or 'unseen'")
    audio: str | None = Field(None, description="a path relative to the episodes file, or null")
    clarification_audio: str | None = Field(None, description="a path, or null")


def _episode(
    raw: Any, where: str, folder: Path = Path(), named: Callable[[], dict[str, Any]] = dict
) -> Episode:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: an episode must be a JSON object")
    missing = [k for k in ("scene", "instruction", "target", "destination") if k not in raw]
    if missing:
        raise InvalidInput(f"{where}: missing {missing}")
    try:
        scene = parse(
            _named(raw["scene"], named) if isinstance(raw["scene"], str) else raw["scene"]
        )
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: scene: {exc}") from exc
    try:
        ep = EpisodeIn.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(f"{where}: {type_problem(exc, EpisodeIn, raw)}") from None
    if ep.destination not in BOXES:
        raise InvalidInput(f"{where}: destination must be one of {list(BOXES)}")
    if not ep.instruction.strip():
        raise InvalidInput(f"{where}: instruction must be a non-empty string")
    try:
        scene.by_id(str(ep.target))
    except NotFound as exc:
        raise InvalidInput(f"{where}: target: {exc}") from exc
    return Episode(
        where if ep.id is None else str(ep.id),
        scene,
        ep.instruction,
        str(ep.target),
        ep.destination,
        ep.clarification,
        dict(ep.tags or {}),
        ep.split,
        *(None if p is None else folder / p for p in (ep.audio, ep.clarification_audio)),
    )


def _named(name: str, named: Callable[[], dict[str, Any]]) -> Any:
    scenes = named()
    if name not in scenes:
        raise InvalidInput(f"no scene named {name!r} in scenes.json beside the episodes file")
    return scenes[name]


def read(path: Path) -> Iterator[Episode]:
    """Episodes of a JSONL file; a malformed line is an InvalidInput naming it. Audio paths are
    taken relative to the file's folder (and held, and written by to_dict, as absolute paths).
    A scene given by name is looked up in ``scenes.json`` in the same folder."""
    path = input_file(Path(path), "episodes file")
    folder = path.parent.resolve()

    @cache
    def named() -> dict[str, Any]:
        scenes = folder / "scenes.json"
        if not scenes.is_file():
            raise InvalidInput(f"{path} names its scenes, but {scenes} does not exist")
        try:
            found = json.loads(scenes.read_bytes().decode("utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidInput(f"{scenes}: not valid JSON ({exc})") from None
        if not isinstance(found, dict):
            raise InvalidInput(f"{scenes} must map scene names to scene specs")
        return found

    for where, raw in jsonl(path):
        yield _episode(raw, where, folder, named)


def is_unseen(tags: dict[str, str], holdout: set[str] | frozenset[str], text: str = "") -> bool:
    """True if any tag value (template, noun, relation, verb, sentence frame, ...) is held out,
    or a held-out phrase occurs in ``text`` as whole words (a landmark's noun, say)."""
    words = " " + " ".join(re.findall(r"[a-z]+", text.lower())) + " "
    return any(v in holdout for v in tags.values()) or any(
        f" {h.lower()} " in words for h in holdout if h.replace(" ", "").isalpha()
    )


def make(
    n: int,
    seed: int = 0,
    holdout: frozenset[str] = frozenset(),
    templates: tuple[str, ...] = TEMPLATES,
) -> list[Episode]:
    """``n`` episodes from random scenes, each with one of ``templates``; each is marked unseen if
    it uses a held-out tag value."""
    if not templates or set(templates) - set(TEMPLATES):
        raise InvalidInput(f"templates must be some of {list(TEMPLATES)}, got {list(templates)}")
    out: list[Episode] = []
    attempt = 0
    for _ in track(range(n), "generating episodes"):
        while True:
            g = rng(seed, "picking", "episode", str(attempt))
            attempt += 1
            spec = random_scene(g)
            target = spec.objects[int(g.integers(len(spec.objects)))]
            dest = str(g.choice([b for b in BOXES if b != target.box]))
            ins = generate(spec, target.id, dest, g, str(g.choice(templates)))
            if ins is not None:
                break
        said = f"{ins.text} {ins.clarification or ''}"
        split = "unseen" if is_unseen(ins.tags, holdout, said) else "seen"
        out.append(
            Episode(
                f"ep{len(out) + 1:05d}",
                spec,
                ins.text,
                ins.target,
                ins.destination,
                ins.clarification,
                ins.tags,
                split,
            )
        )
    return out


def write(episodes: list[Episode], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in episodes))
