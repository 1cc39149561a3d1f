"""HTTP face of otemachi.picking: the catalog, decisions on a scene (typed, or spoken as an
uploaded audio file), the system's questions as speech, and (``scene_api``) the camera image of
a scene and the arm."""

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.picking import audio, detect, model, scene_api, speech
from otemachi.picking.asr import Recogniser, Transcript
from otemachi.picking.asr import models as asr_models
from otemachi.picking.asr.beam import READINGS
from otemachi.picking.catalog import CATALOG, COLORS
from otemachi.picking.dialog import MAX_QUESTIONS, Picker, replies
from otemachi.picking.scenes import Scene, SceneIn, parse, type_problem

QUESTIONS_KEPT = 256  # questions whose speech can be fetched
MAX_INSTRUCTION = 500  # characters
Spoken = tuple[Recogniser, list[Any]]  # a recogniser and the decoded clips it is to transcribe
_state_lock = threading.Lock()  # guards the recognisers and questions kept on the app

router = APIRouter()


class Reading(BaseModel):
    text: str
    share: float = Field(description="the recogniser's belief in this reading, 0..1")


class ReadingIn(Reading):
    model_config = ConfigDict(strict=True)

    text: str = Field(max_length=MAX_INSTRUCTION)
    share: float = Field(ge=0.0, le=1.0)


class DecideRequest(BaseModel):
    """A scene, an instruction and the answers to the questions asked so far. Wrong types are
    refused (422) before anything runs; values (categories, boxes, ...) are checked by parse()."""

    model_config = ConfigDict(strict=True)

    scene: SceneIn = Field(description="A scene spec: {'objects': [...]}")
    instruction: str = Field(min_length=1, max_length=MAX_INSTRUCTION)
    answers: list[str] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    oracle_boxes: bool = False
    doubtful: bool = Field(
        False, description="the instruction is a transcript its recogniser doubted: ask first"
    )
    readings: list[ReadingIn] = Field(
        default_factory=list,
        max_length=READINGS,
        description=f"at most {READINGS} objects {{text, share}} (share 0..1, text at most "
        f"{MAX_INSTRUCTION} characters): a spoken instruction's readings, as its transcript "
        "gave them; with two or more, the decision weighs what each one means in place of "
        "the instruction's text",
    )


class Catalog(BaseModel):
    categories: dict[str, list[str]] = Field(description="category -> its synonyms")
    colors: list[str]


class Word(BaseModel):
    word: str
    start: float
    end: float
    confidence: float


class Heard(BaseModel):
    """A transcript: the text, the words with their times (s), the recogniser's confidence and
    whether it is below the backend's bar (for the instruction, the robot then asks before
    acting; for an answer it is only reported)."""

    text: str
    confidence: float
    doubtful: bool = Field(description="the confidence is below the backend's bar")
    backend: str
    ms: float
    words: list[Word]
    readings: list[Reading] = Field(description="the likeliest readings, with their shares")


class Decision(BaseModel):
    """What the instruction means: the object (its id and pixel box), the destination box, the
    confidence, and the question still open (with the URL of its speech), if any."""

    target: str | None
    box: list[float]
    destination: str
    confidence: float
    question: str | None
    question_audio: str | None
    questions_asked: int
    destination_scores: dict[str, float]
    transcript: Heard | None = None
    answer_transcripts: list[Heard] | None = None


@router.get("/catalog")
def catalog() -> Catalog:
    """Object categories with their synonyms, and the colours a scene may use."""
    return Catalog(
        categories={k: list(c.synonyms) for k, c in CATALOG.items()}, colors=list(COLORS)
    )


def _models(request: Request, oracle: bool) -> tuple[model.Grounder, detect.SSD | None]:
    """The stored models, loaded on first use and kept on the app (never trained here)."""
    state = request.app.state
    if getattr(state, "picking_grounder", None) is None:
        state.picking_grounder = model.load()
    if not oracle and getattr(state, "picking_detector", None) is None:
        state.picking_detector = detect.load()[0]
    return state.picking_grounder, None if oracle else state.picking_detector


# where the JSON body's schema sits in openapi.json, so its internal references resolve
JSON_BODY = "#/paths/~1api~1picking~1decide/post/requestBody/content/application~1json/schema"
MULTIPART = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["audio", "scene"],
            "properties": {
                "audio": {"type": "string", "format": "binary", "description": "WAV/FLAC/OGG"},
                "scene": {"type": "string", "description": "the scene spec as JSON"},
                "answers": {"type": "array", "items": {"type": "string"}},
                "answer_audio": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "asr": {"type": "string", "enum": ["rnn", "pocketsphinx"]},
                "oracle_boxes": {"type": "boolean"},
            },
        }
    }
}


@router.post(
    "/decide",
    response_model=Decision,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": DecideRequest.model_json_schema(
                        ref_template=JSON_BODY + "/$defs/{model}"
                    )
                },
                **MULTIPART,
            },
        }
    },
)
async def decide(request: Request) -> dict[str, Any]:
    """Render the scene, decide what the instruction means, and apply the given answers while
    the system keeps asking. The reply carries the question still open, if any, and where its
    speech is. A JSON body types the instruction; a multipart body uploads it spoken (field
    ``audio``, with ``scene`` as JSON text, optional ``answers`` typed and ``answer_audio``
    spoken, and ``asr``), and the reply adds the transcripts."""
    spoken: Spoken | None = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        body, clips, backend = await _spoken(request)
        if len(body.answers) + len(clips) - 1 > MAX_QUESTIONS:
            raise InvalidInput(f"give at most {MAX_QUESTIONS} answers, typed and spoken together")
        spoken = (await run_in_threadpool(_recogniser, request, backend), clips)
    else:
        raw = await request.body()
        try:
            body = DecideRequest.model_validate_json(raw)
        except ValidationError as exc:
            raise InvalidInput(_problem(exc, raw)) from None
    return await run_in_threadpool(_decide, request, body, spoken)


def _problem(exc: ValidationError, raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return "the body is not valid JSON"
    if not isinstance(data, dict):
        return "the body must be a JSON object with scene and instruction"
    return type_problem(exc, DecideRequest, data)


async def _spoken(request: Request) -> tuple[DecideRequest, list[Any], str | None]:
    """The form of a spoken request: the decoded audio (the instruction, then any spoken
    answers), the other fields as a DecideRequest."""
    fields_max = 2 * MAX_QUESTIONS + 4
    async with request.form(max_files=1 + MAX_QUESTIONS, max_fields=fields_max) as form:
        upload = form.get("audio")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("a multipart request needs a file field 'audio' (WAV, FLAC or OGG)")
        uploads = [upload, *(f for f in form.getlist("answer_audio") if isinstance(f, UploadFile))]
        clips = [await _clip(f) for f in uploads]
        try:
            scene = json.loads(str(form.get("scene", "")))
        except (ValueError, RecursionError):
            raise InvalidInput("the field 'scene' must be the scene spec as JSON text") from None
        fields = {
            "scene": scene,
            "instruction": "(spoken)",
            "answers": [str(a) for a in form.getlist("answers")],
            "oracle_boxes": str(form.get("oracle_boxes", "")).lower() in ("1", "true", "yes"),
        }
        backend = form.get("asr")
    try:
        body = DecideRequest.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(type_problem(exc, DecideRequest, fields)) from None
    return body, clips, None if backend is None else str(backend)


async def _clip(upload: UploadFile) -> Any:
    name = f"the upload {upload.filename or 'audio'}"
    if (upload.size or 0) > audio.MAX_BYTES:
        raise InvalidInput(f"{name} is larger than 50 MB")
    return await run_in_threadpool(audio.read, await upload.read(), name)


def _recogniser(request: Request, backend: str | None) -> Recogniser:
    """The stored recogniser of ``backend``, loaded once and kept on the app."""
    state = request.app.state
    with _state_lock:
        kept = getattr(state, "picking_recognisers", None)
        if kept is None:
            kept = state.picking_recognisers = {}
        if backend not in kept:
            kept[backend] = asr_models.load(backend)
        return kept[backend]


def _decide(request: Request, body: DecideRequest, spoken: Spoken | None = None) -> dict[str, Any]:
    """The decision; with ``spoken`` (a recogniser and the decoded clips: the instruction, then
    spoken answers) the words are first transcribed, listening for what the robot sees."""
    spec = parse(body.scene)
    grounder, det = _models(request, body.oracle_boxes)
    heard: list[Transcript] = []
    with Scene(spec) as scene:
        picker = Picker(scene, grounder, det, body.oracle_boxes)
        if spoken is not None:
            recogniser, clips = spoken
            hints = picker.hints()
            heard = [recogniser.transcribe(c, hints) for c in clips]
            if not heard[0].text.strip():
                raise InvalidInput("nothing was heard in the audio; say what to move and where")
            body = body.model_copy(update={"instruction": heard[0].text[:MAX_INSTRUCTION]})
        doubtful = body.doubtful or (bool(heard) and heard[0].doubtful)
        readings = heard[0].readings if heard else [(r.text, r.share) for r in body.readings]
        picker.instruct(body.instruction, doubtful=doubtful, readings=readings)
        d = picker.clarify(replies([*body.answers, *heard[1:]]))
    transcripts: dict[str, Any] = {}
    if heard:
        transcripts = {
            "transcript": heard[0].to_dict(),
            "answer_transcripts": [a.to_dict() for a in heard[1:]],
        }
    return {
        "target": d.target,
        "box": list(d.box),
        "destination": d.destination,
        "confidence": d.confidence,
        "question": d.question,
        "question_audio": _keep_question(request, d.question),
        "questions_asked": d.asked,
        "destination_scores": d.destination_scores,
        **transcripts,
    }


def _keep_question(request: Request, question: str | None) -> str | None:
    """Remember a question (the latest QUESTIONS_KEPT) and return the URL of its speech."""
    if question is None:
        return None
    state = request.app.state
    key = hashlib.sha256(question.encode()).hexdigest()[:16]
    with _state_lock:
        kept = getattr(state, "picking_questions", None)
        if kept is None:
            kept = state.picking_questions = OrderedDict()
        kept[key] = question
        kept.move_to_end(key)
        while len(kept) > QUESTIONS_KEPT:
            kept.popitem(last=False)
    return f"/api/picking/questions/{key}.wav"


@router.get(
    "/questions/{key}.wav",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "16 kHz mono WAV"}},
)
def question_audio(key: str, request: Request) -> Response:
    """A question the system asked, spoken by espeak-ng as a 16 kHz WAV."""
    with _state_lock:
        question = (getattr(request.app.state, "picking_questions", None) or {}).get(key)
    if question is None:
        raise NotFound(f"no question {key!r} was asked recently; ask /api/picking/decide again")
    return Response(audio.to_wav(speech.say(question)), media_type="audio/wav")


router.include_router(scene_api.router)
