"""Scene specs (JSON) and the scenes built from them: validation, a layout that keeps every object
in its box and its left/right and up/down order while nudging overlaps apart, and a random
scene generator."""

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.core.files import input_file
from otemachi.core.seeding import rng
from otemachi.picking.catalog import CATALOG, COLORS, SIZE_SCALES
from otemachi.picking.world import BOX_INNER, BOXES, Frame, World, bboxes, box_bounds

GAP = 0.004  # metres kept between neighbouring objects' footprints
# The objects of one box may cover at most this many times its floor with their footprint discs:
# beyond that they pile up and the physics takes minutes to settle. Eight of the largest objects
# (the most random_scene puts in a box) stay just below it.
MAX_COVER = 2.0


class ObjectIn(BaseModel):
    """One object of a scene spec as JSON gives it: types only; values are checked in parse()."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    id: str | int = Field(description="a string, unique in the scene")
    category: str = Field(description=f"a catalog category, one of {sorted(CATALOG)}")
    color: str | None = Field(None, description=f"null or a colour, one of {sorted(COLORS)}")
    size: str | None = Field(None, description=f"null or one of {sorted(SIZE_SCALES)}")
    box: str = Field(description=f"one of {list(BOXES)}")
    x: float = Field(ge=0, le=1, description="a number in [0, 1] (left to right in its box)")
    y: float = Field(ge=0, le=1, description="a number in [0, 1] (top to bottom in its box)")


class SceneIn(BaseModel):
    """A scene spec as JSON gives it: ``{"objects": [...]}``."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    objects: list[ObjectIn] = Field(description="the objects, at least one")


def _kind(value: Any) -> str:
    """A short description of a JSON value, safe for huge or deeply nested ones."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def type_problem(exc: ValidationError, model: type[BaseModel], raw: dict[str, Any]) -> str:
    """The first problem pydantic found in ``raw``, as ``<field> must be <what>, got <value>``,
    using the field's description in ``model``."""
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else ""
    field = model.model_fields.get(name)
    if field is None or field.description is None:
        return f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
    return f"{name} must be {field.description}, got {_kind(raw.get(name))}"


@dataclass(frozen=True)
class ObjectSpec:
    id: str
    category: str
    color: str | None
    size: str | None
    box: str
    x: float  # 0..1 inside the box as seen in the image, growing right
    y: float  # 0..1 growing downward

    @property
    def radius(self) -> float:
        return CATALOG[self.category].extent * SIZE_SCALES[self.size or "small"] / 2


@dataclass(frozen=True)
class SceneSpec:
    objects: tuple[ObjectSpec, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"objects": [asdict(o) for o in self.objects]}

    def by_id(self, oid: str) -> ObjectSpec:
        for o in self.objects:
            if o.id == oid:
                return o
        raise NotFound(f"no object {oid!r} in the scene; it has {[o.id for o in self.objects]}")


def _check(obj: Any, i: int) -> ObjectSpec:
    where = f"objects[{i}]"
    if not isinstance(obj, dict):
        raise InvalidInput(f"{where} must be an object, got {_kind(obj)}")
    missing = [k for k in ("id", "category", "box", "x", "y") if k not in obj]
    if missing:
        raise InvalidInput(f"{where} lacks {missing}")
    try:
        o = ObjectIn.model_validate(obj)
    except ValidationError as exc:
        oid = f" ({obj['id']})" if isinstance(obj["id"], str | int) else ""
        raise InvalidInput(f"{where}{oid}: {type_problem(exc, ObjectIn, obj)}") from None
    oid = str(o.id)
    if o.category not in CATALOG:
        raise InvalidInput(
            f"{where} ({oid}): unknown category {o.category!r}; known: {sorted(CATALOG)}"
        )
    if o.color is not None and o.color not in COLORS:
        raise InvalidInput(f"{where} ({oid}): unknown colour {o.color!r}; known: {sorted(COLORS)}")
    if o.size is not None and o.size not in SIZE_SCALES:
        raise InvalidInput(f"{where} ({oid}): size must be one of {sorted(SIZE_SCALES)} or null")
    if o.box not in BOXES:
        raise InvalidInput(f"{where} ({oid}): box must be one of {list(BOXES)}, got {o.box!r}")
    return ObjectSpec(oid, o.category, o.color, o.size, o.box, o.x, o.y)


def _check_room(objs: tuple[ObjectSpec, ...]) -> None:
    """Refuse a box whose objects cannot lie in it side by side (see MAX_COVER)."""
    floor = BOX_INNER**2
    for box in BOXES:
        inside = [o for o in objs if o.box == box]
        cover = sum(math.pi * o.radius**2 for o in inside) / floor
        if cover > MAX_COVER:
            raise InvalidInput(
                f"box {box} is overfull: its {len(inside)} objects' footprints add up to "
                f"{cover:.1f} times its floor (at most {MAX_COVER:g}); move some objects to "
                "another box, make them small, or remove some"
            )


def parse(data: Any) -> SceneSpec:
    """Validate a scene spec dict; every problem is an InvalidInput naming the object."""
    if isinstance(data, SceneIn):
        data = data.model_dump()
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise InvalidInput('a scene spec is {"objects": [...]}')
    objs = tuple(_check(o, i) for i, o in enumerate(data["objects"]))
    if not objs:
        raise InvalidInput("a scene needs at least one object")
    dup = sorted(i for i, n in Counter(o.id for o in objs).items() if n > 1)
    if dup:
        raise InvalidInput(f"object ids must be unique; repeated: {dup}")
    _check_room(objs)
    return SceneSpec(objs)


def load_spec(path: Path) -> SceneSpec:
    """Read and validate a scene spec JSON file."""
    path = input_file(Path(path), "scene file")
    try:
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from exc
    except RecursionError:
        raise InvalidInput(f"{path}: the JSON is nested too deeply to be a scene spec") from None
    return parse(raw)


def _rank_restore(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Give the sorted new values back in the order of the old ones: order never changes."""
    out = np.empty_like(new)
    out[np.argsort(old, kind="stable")] = np.sort(new)
    return out


def layout(spec: SceneSpec) -> dict[str, tuple[float, float]]:
    """World (x, y) of every object: inside its box, overlaps nudged apart, orders kept."""
    return dict(_layout(spec))


@lru_cache(maxsize=256)
def _layout(spec: SceneSpec) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for box in BOXES:
        objs = [o for o in spec.objects if o.box == box]
        if not objs:
            continue
        x0, x1, y0, y1 = box_bounds(box)
        r = np.array([o.radius for o in objs])
        m = float(r.max())  # one margin for the box, so the mapping keeps the spec's order
        lo_x, hi_x, lo_y, hi_y = x0 + m, x1 - m, y0 + m, y1 - m
        sx, sy = np.array([o.x for o in objs]), np.array([o.y for o in objs])
        px, py = lo_x + sx * (hi_x - lo_x), hi_y - sy * (hi_y - lo_y)
        for _ in range(60):
            moved = False
            for i in range(len(objs)):
                for j in range(i + 1, len(objs)):
                    d = np.array([px[j] - px[i], py[j] - py[i]])
                    need = r[i] + r[j] + GAP
                    dist = float(np.hypot(*d))
                    if dist < need:
                        u = d / dist if dist > 1e-9 else np.array([1.0, 0.0])
                        push = (need - dist) / 2 * u
                        px[i], py[i] = px[i] - push[0], py[i] - push[1]
                        px[j], py[j] = px[j] + push[0], py[j] + push[1]
                        moved = True
            px = _rank_restore(np.clip(px, lo_x, hi_x), sx)
            py = _rank_restore(np.clip(py, lo_y, hi_y), -sy)
            if not moved:
                break
        for o, x, y in zip(objs, px, py, strict=True):
            out[o.id] = (float(x), float(y))
    return out


def random_scene(rng: np.random.Generator, n: int | None = None) -> SceneSpec:
    """4-30 random objects, at most 8 per box."""
    n = int(rng.integers(4, 31)) if n is None else n
    if not 1 <= n <= 32:
        raise InvalidInput(f"a random scene holds 1 to 32 objects, got {n}")
    boxes = rng.permutation(np.repeat(np.array(BOXES), 8))[:n]
    cats, colors = sorted(CATALOG), sorted(COLORS)
    objs = []
    for i, box in enumerate(boxes):
        cat = cats[int(rng.integers(len(cats)))]
        color = None if rng.random() < 0.25 else colors[int(rng.integers(len(colors)))]
        size = ("small", "large")[int(rng.random() < 0.3)]
        xy = rng.uniform(0.05, 0.95, 2)
        objs.append(
            ObjectSpec(
                f"o{i + 1}",
                cat,
                color,
                size,
                str(box),
                round(float(xy[0]), 3),
                round(float(xy[1]), 3),
            )
        )
    return SceneSpec(tuple(objs))


def seeded(seed: int) -> SceneSpec:
    """The random scene of ``seed`` that ``--seed N`` and the web page show."""
    return random_scene(rng(seed, "picking", "cli-scene"))


class Scene:
    """A spec built in a World; optionally with the robot (it is out of the camera's view)."""

    def __init__(self, spec: SceneSpec, robot: bool = False, seed: int = 0) -> None:
        from otemachi.picking.robot import Robot

        self.spec = spec
        self.world = World()
        self.robot = Robot(self.world) if robot else None
        yaw = np.random.default_rng(seed).uniform(-np.pi, np.pi, len(spec.objects))
        where = layout(spec)
        self.bodies = {
            o.id: self.world.add_object(o.category, o.color, o.size, *where[o.id], float(a))
            for o, a in zip(spec.objects, yaw, strict=True)
        }
        self.world.settle()

    def close(self) -> None:
        self.world.close()

    def __enter__(self) -> "Scene":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render(self) -> Frame:
        return self.world.render()

    def bboxes(self, frame: Frame | None = None) -> dict[str, tuple[int, int, int, int]]:
        """[x, y, w, h] pixel boxes from the segmentation mask."""
        return bboxes((frame or self.render()).seg, self.bodies)

    def box_of(self, oid: str) -> str | None:
        """The box an object's footprint centre is in now, if any."""
        lo, hi = self.world.aabb(self.bodies[oid])
        cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
        for box in BOXES:
            x0, x1, y0, y1 = box_bounds(box)
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                return box
        return None
