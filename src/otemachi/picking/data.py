"""PFN-PIC-compatible datasets: a generator writing images, scene specs and JSONL annotations from
simulated scenes, and a reader for PFN-PIC's real files (and ours)."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.core.files import input_file
from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.picking.instructions import instructions_for
from otemachi.picking.scenes import Scene, random_scene
from otemachi.picking.world import BOXES


@dataclass(frozen=True)
class PicObject:
    bbox: tuple[float, float, float, float]  # x, y, width, height in pixels
    dest_box: str
    instructions: list[str]
    extra: dict[str, Any] = field(default_factory=dict)  # our additions: id, category, tags, ...


@dataclass(frozen=True)
class PicImage:
    image: Path
    objects: list[PicObject]


def _record(n: int, scene: Scene, g: np.random.Generator, per_object: int) -> dict[str, Any]:
    frame = scene.render()
    boxes = scene.bboxes(frame)
    objects = []
    for o in scene.spec.objects:
        if o.id not in boxes:
            continue  # hidden under another object: not annotated, as in PFN-PIC
        dest = str(g.choice([b for b in BOXES if b != o.box]))
        found = instructions_for(scene.spec, o.id, dest, g, per_object)
        x, y, w, h = boxes[o.id]
        objects.append(
            {
                "dest_box": dest,
                "bbox": {"x": x, "y": y, "width": w, "height": h},
                "instructions": [i.text for i in found],
                "id": o.id,
                "category": o.category,
                "color": o.color,
                "size": o.size,
                "box": o.box,
                "instruction_tags": [i.tags for i in found],
                "clarifications": [i.clarification for i in found],
            }
        )
    return {
        "image_file": f"{n}.png",
        "scene_file": f"scenes/{n}.json",
        "objects": objects,
        "_rgb": frame.rgb,
    }


def generate(
    out: Path, scenes: int, seed: int = 0, val_frac: float = 0.1, per_object: int = 3
) -> dict[str, int]:
    """Write ``images/<n>.png``, ``scenes/<n>.json``, ``train.jsonl`` and ``validation.jsonl``.
    The last ``val_frac`` of the scenes (at least one when there are two or more) are validation."""
    if scenes < 1:
        raise InvalidInput(f"--scenes must be at least 1, got {scenes}")
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "scenes").mkdir(exist_ok=True)
    n_val = 0 if scenes < 2 else max(1, round(val_frac * scenes))
    counts = {"train": 0, "validation": 0, "objects": 0, "instructions": 0}
    with (out / "train.jsonl").open("w") as tr, (out / "validation.jsonl").open("w") as va:
        for n in track(range(1, scenes + 1), "generating scenes"):
            spec = random_scene(rng(seed, "picking", "scene", str(n)))
            with Scene(spec, seed=n) as scene:
                rec = _record(n, scene, rng(seed, "picking", "language", str(n)), per_object)
            Image.fromarray(rec.pop("_rgb")).save(out / "images" / rec["image_file"])
            (out / rec["scene_file"]).write_text(json.dumps(spec.to_dict(), indent=1))
            split = "validation" if n > scenes - n_val else "train"
            (va if split == "validation" else tr).write(json.dumps(rec) + "\n")
            counts[split] += 1
            counts["objects"] += len(rec["objects"])
            counts["instructions"] += sum(len(o["instructions"]) for o in rec["objects"])
    return counts


def _bbox(raw: Any, where: str) -> tuple[float, float, float, float]:
    if isinstance(raw, dict) and all(k in raw for k in ("x", "y", "width", "height")):
        vals = [raw["x"], raw["y"], raw["width"], raw["height"]]
    elif isinstance(raw, list) and len(raw) == 4:
        vals = raw
    else:
        raise InvalidInput(f"{where}: bbox must be {{x, y, width, height}} or [x, y, w, h]")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
        raise InvalidInput(f"{where}: bbox values must be numbers")
    x, y, w, h = (float(v) for v in vals)
    return x, y, w, h


def _objects(rec: Any, where: str) -> list[PicObject]:
    if (
        not isinstance(rec, dict)
        or not isinstance(rec.get("objects"), list)
        or "image_file" not in rec
    ):
        raise InvalidInput(f"{where}: expected an object with image_file and an objects list")
    out = []
    for k, o in enumerate(rec["objects"]):
        w = f"{where} objects[{k}]"
        if not isinstance(o, dict) or o.get("dest_box") not in BOXES:
            raise InvalidInput(f"{w}: dest_box must be one of {list(BOXES)}")
        if not isinstance(o.get("instructions"), list) or not all(
            isinstance(t, str) for t in o["instructions"]
        ):
            raise InvalidInput(f"{w}: instructions must be a list of strings")
        extra = {key: v for key, v in o.items() if key not in ("bbox", "dest_box", "instructions")}
        out.append(PicObject(_bbox(o.get("bbox"), w), o["dest_box"], o["instructions"], extra))
    return out


def read(root: Path, split: str = "train", lang: str = "en") -> list[PicImage]:
    """Read ``{lang}.{split}.jsonl`` with ``image_file/`` (PFN-PIC's layout) or ``{split}.jsonl``
    with ``images/`` (ours). A malformed line is an error naming the file and line."""
    root = Path(root)
    path = next(
        (p for p in (root / f"{lang}.{split}.jsonl", root / f"{split}.jsonl") if p.is_file()), None
    )
    if path is None:
        raise NotFound(f"no {lang}.{split}.jsonl or {split}.jsonl in {root}")
    images = next((d for d in (root / "image_file", root / "images") if d.is_dir()), root)
    out = []
    for where, rec in jsonl(path):
        objects = _objects(rec, where)  # validates the record before image_file is read
        out.append(PicImage(images / str(rec["image_file"]), objects))
    return out


def jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    """(``"<file> line N"``, parsed value) for every non-blank line; a line that is not UTF-8
    JSON (binary bytes, nesting too deep to be an episode) is an InvalidInput naming it."""
    with input_file(Path(path), "JSONL file").open("rb") as fh:
        for i, raw in enumerate(fh, start=1):
            where = f"{Path(path).name} line {i}"
            try:
                line = raw.decode("utf-8-sig" if i == 1 else "utf-8")  # a BOM may open it
            except UnicodeDecodeError:
                raise InvalidInput(f"{where}: not UTF-8 text; is this a JSONL file?") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{where}: not valid JSON ({exc.msg})") from exc
            except RecursionError:
                raise InvalidInput(f"{where}: the JSON is nested too deeply") from None
            yield where, value
