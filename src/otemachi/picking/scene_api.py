"""The routes the picking page stands on: the camera image of a scene (new, or given), with a
decision drawn on it, and the arm carrying a decision out in the simulation."""

import base64
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, model_validator

from otemachi.core.errors import InvalidInput, RateLimited
from otemachi.core.options import SEED_MAX
from otemachi.picking import plots
from otemachi.picking.scenes import Scene, SceneIn, parse, seeded

MAX_LABEL = 500  # characters
RENDERS, ARMS = threading.BoundedSemaphore(4), threading.BoundedSemaphore(2)  # at once, per process
router = APIRouter()


class Mark(BaseModel):
    """What a decision chose: the candidate's pixel box, the destination box and a caption."""

    model_config = ConfigDict(strict=True)

    box: list[Annotated[float, Field(ge=-10_000, le=10_000)]] = Field(
        min_length=4, max_length=4, description="[x0, y0, x1, y1] camera pixels"
    )
    destination: Literal["tl", "tr", "bl", "br"]
    label: str = Field("", max_length=MAX_LABEL)

    @model_validator(mode="after")
    def _ordered(self) -> "Mark":
        x0, y0, x1, y1 = self.box
        if x1 < x0 or y1 < y0:
            raise ValueError("box must be [x0, y0, x1, y1] with x0 <= x1 and y0 <= y1")
        return self


class SceneRequest(BaseModel):
    """Either a seed for a new random scene, or a scene spec (and optionally a decision to
    mark on its image)."""

    model_config = ConfigDict(strict=True)

    seed: int | None = Field(None, ge=0, le=SEED_MAX)
    scene: SceneIn | None = None
    mark: Mark | None = None


class SceneImage(BaseModel):
    """A scene spec and its camera image (a PNG data URL, twice the camera's resolution)."""

    scene: dict[str, Any]
    image: str


class ExecuteRequest(BaseModel):
    """A decision to carry out: move object ``target`` of ``scene`` into box ``destination``."""

    model_config = ConfigDict(strict=True)

    scene: SceneIn
    target: str = Field(min_length=1, max_length=64)
    destination: Literal["tl", "tr", "bl", "br"]


class Executed(BaseModel):
    """What the arm did: success, the failure kind and detail, and the camera image after."""

    ok: bool
    failure: str | None
    detail: str
    image: str


def _png(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@contextmanager
def _slot(slots: threading.BoundedSemaphore, what: str, retry_after: float) -> Iterator[None]:
    """Hold one of a few simulation slots, or refuse at once (429): a flood of requests is
    told to come back rather than queued behind each other."""
    if not slots.acquire(blocking=False):
        raise RateLimited(f"{what} is busy with other requests; retry shortly", retry_after)
    try:
        yield
    finally:
        slots.release()


@router.post("/scene")
def scene_image(body: SceneRequest) -> SceneImage:
    """The camera image of a new random scene (``seed``) or of a given ``scene``, with a
    decision drawn on it when ``mark`` is given (the chosen object in red, the box in green)."""
    if (body.seed is None) == (body.scene is None):
        raise InvalidInput("give exactly one of seed (a new random scene) or scene (a spec)")
    spec = seeded(body.seed) if body.seed is not None else parse(body.scene)
    with _slot(RENDERS, "the camera", 1), Scene(spec) as scene:
        rgb = scene.render().rgb
    m = body.mark
    img = plots.mark(rgb, tuple(m.box), m.destination, m.label) if m else plots.enlarged(rgb)
    return SceneImage(scene=spec.to_dict(), image=_png(img))


@router.post("/execute")
def execute(body: ExecuteRequest) -> Executed:
    """Build the scene with the arm, pick ``target`` and place it in ``destination``, and show
    the table after (a real PyBullet simulation: several seconds; ARMS at once)."""
    spec = parse(body.scene)
    if body.target not in {o.id for o in spec.objects}:
        raise InvalidInput(f"the scene has no object {body.target!r}")
    with _slot(ARMS, "the arm", 5), Scene(spec, robot=True) as scene:
        assert scene.robot is not None
        done = scene.robot.pick_and_place(scene.bodies[body.target], body.destination)
        after = plots.enlarged(scene.render().rgb)
    return Executed(ok=done.ok, failure=done.failure, detail=done.detail, image=_png(after))
