"""HTTP face of otemachi.picking: the catalog, decisions on a scene, and the HTML page."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from otemachi.picking import detect, model
from otemachi.picking.catalog import CATALOG, COLORS
from otemachi.picking.dialog import MAX_QUESTIONS, Picker, replies
from otemachi.picking.scenes import Scene, SceneIn, parse

router = APIRouter()
pages = APIRouter()


class DecideRequest(BaseModel):
    """A scene, an instruction and the answers to the questions asked so far. Wrong types are
    refused (422) before anything runs; values (categories, boxes, ...) are checked by parse()."""

    model_config = ConfigDict(strict=True)

    scene: SceneIn = Field(description="A scene spec: {'objects': [...]}")
    instruction: str = Field(min_length=1, max_length=500)
    answers: list[str] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    oracle_boxes: bool = False


@router.get("/catalog")
def catalog() -> dict[str, object]:
    """Object categories with their synonyms, and the colours a scene may use."""
    return {"categories": {k: list(c.synonyms) for k, c in CATALOG.items()}, "colors": list(COLORS)}


def _models(request: Request, oracle: bool) -> tuple[model.Grounder, detect.SSD | None]:
    """The stored models, loaded on first use and kept on the app (never trained here)."""
    state = request.app.state
    if getattr(state, "picking_grounder", None) is None:
        state.picking_grounder = model.load()
    if not oracle and getattr(state, "picking_detector", None) is None:
        state.picking_detector = detect.load()[0]
    return state.picking_grounder, None if oracle else state.picking_detector


@router.post("/decide")
def decide(body: DecideRequest, request: Request) -> dict[str, Any]:
    """Render the scene, decide what the instruction means, and apply the given answers while
    the system keeps asking. The reply carries the question still open, if any."""
    spec = parse(body.scene)
    grounder, det = _models(request, body.oracle_boxes)
    with Scene(spec) as scene:
        picker = Picker(scene, grounder, det, body.oracle_boxes)
        picker.instruct(body.instruction)
        d = picker.clarify(replies(body.answers))
    return {
        "target": d.target,
        "box": list(d.box),
        "destination": d.destination,
        "confidence": d.confidence,
        "question": d.question,
        "questions_asked": d.asked,
        "destination_scores": d.destination_scores,
    }


@pages.get("/", response_class=HTMLResponse)
def page() -> str:
    """The picking page."""
    return (
        "<h1>picking</h1><p>A simulated Panda arm picks the tabletop object an instruction "
        'means and asks when unsure. Run <code>otemachi picking run "move the duck to the '
        'top left box" --seed 0</code>, or POST a scene and an instruction to '
        "<code>/api/picking/decide</code>.</p>"
    )
