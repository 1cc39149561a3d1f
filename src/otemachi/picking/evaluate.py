"""Evaluation on an episodes file: render each scene from its spec, run the whole pipeline
(detector unless oracle boxes, grounding, questions answered with the episode's clarification and,
optionally, by a simulated person, optionally the robot) and summarise, overall and for seen vs
held-out phrasing."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from otemachi.core.progress import track
from otemachi.picking import detect
from otemachi.picking.asr import Transcript
from otemachi.picking.dialog import ASK_BELOW, Picker, replies
from otemachi.picking.episodes import Episode
from otemachi.picking.hearing import Ears, Heard, hear, hear_answer
from otemachi.picking.hearing import summary as hearing_summary
from otemachi.picking.model import Grounder
from otemachi.picking.person import Person
from otemachi.picking.scenes import Scene


@dataclass(frozen=True)
class Outcome:
    """One episode's result."""

    id: str
    split: str
    template: str
    first_ok: bool
    final_ok: bool
    destination_ok: bool
    questions: int
    question: str | None
    latency_ms: float  # instruction to decision (the scene already seen)
    perception_ms: float  # camera image, detector and looks
    placed: bool | None  # the intended object ended in the intended box (with --execute)
    candidates: int  # boxes the system chose among (chance is one in this many)
    heard: Heard | None = None  # what speech recognition made of the episode's audio
    unanswered: int = 0  # 1 when a question was left open (no answer, or nothing heard)
    person_answers: int = 0  # questions the simulated person answered


def episode(
    ep: Episode,
    model: Grounder,
    detector: detect.SSD | None,
    clarify: bool = True,
    execute: bool = False,
    ears: Ears | None = None,
    index: int = 0,
    person: bool = False,
) -> Outcome:
    """Run one episode; the system's first question gets the episode's clarification, if it has
    one, and with ``person`` the simulated person answers every question left (``Person``). With
    ``ears``, the instruction and the answers are what speech recognition heard, listening for
    the words of what the robot sees."""
    with Scene(ep.scene, robot=execute) as scene:
        picker = Picker(scene, model, detector, detector is None, ASK_BELOW if clarify else 0.0)
        t0 = time.perf_counter()
        n = len(picker.look())
        t1 = time.perf_counter()
        hints = picker.hints() if ears is not None else frozenset()
        heard = hear(ears, ep, index, hints) if ears is not None else None
        instruction, answer = ep.instruction, ep.clarification
        if heard is not None:
            instruction, answer = heard.instruction, heard.clarification
        if n == 0 or not instruction.strip():  # nothing seen or heard: the episode is lost
            return Outcome(
                ep.id,
                ep.split,
                ep.tags.get("template", "-"),
                False,
                False,
                False,
                0,
                None,
                0.0,
                (t1 - t0) * 1000,
                False if execute else None,
                n,
                heard,
            )
        t2 = time.perf_counter()  # the decision's latency starts when the words are in
        first = picker.instruct(
            instruction,
            doubtful=heard is not None and heard.doubtful,
            readings=heard.readings if heard is not None else (),
        )
        t3 = time.perf_counter()
        given = replies([answer] if answer else [])
        answerer = Person(ep.scene, ep.target, index) if person else None
        person_said: list[str] = []  # the simulated person's answers, before any hearing

        def reply(question: str) -> str | Transcript:
            nonlocal heard
            said = given(question)
            if said or answerer is None:
                return said
            text = answerer.answer(picker.named())
            person_said.append(text)
            if heard is None or ears is None:
                return text
            got, heard = hear_answer(ears, heard, text, index, len(person_said), hints)
            return got

        final = picker.clarify(reply)
        placed = None
        if execute:
            picker.execute()
            placed = scene.box_of(ep.target) == ep.destination
    return Outcome(
        ep.id,
        ep.split,
        ep.tags.get("template", "-"),
        first.target == ep.target,
        final.target == ep.target,
        final.destination == ep.destination,
        final.asked,
        first.question,
        (t3 - t2) * 1000,
        (t1 - t0) * 1000,
        placed,
        n,
        heard,
        int(final.question is not None),  # clarify stops with a question open only when unanswered
        len(person_said),
    )


def summary(rows: list[Outcome]) -> dict[str, Any]:
    """The evaluation's JSON object (pick_place_success only when the robot ran)."""
    lat = np.array([r.latency_ms for r in rows]) if rows else np.zeros(1)
    out: dict[str, Any] = {
        "episodes": len(rows),
        "target_accuracy": _mean([r.first_ok for r in rows]),
        "target_accuracy_clarified": _mean([r.final_ok for r in rows]),
        # episodes whose words can single out the target (all but the "ambiguous" template)
        "target_accuracy_unambiguous": _mean(
            [r.first_ok for r in rows if r.template != "ambiguous"]
        ),
        "destination_accuracy": _mean([r.destination_ok for r in rows]),
        "questions_asked": int(sum(r.questions for r in rows)),
        # episodes lost after a question the episode had no answer to: the system knew it was
        # unsure (with speech, mostly a misheard instruction), against those decided wrongly
        "lost_unanswered": int(sum(1 for r in rows if r.unanswered and not r.final_ok)),
        "lost_decided": int(sum(1 for r in rows if not r.unanswered and not r.final_ok)),
        "person_answers": int(sum(r.person_answers for r in rows)),
        "chance_accuracy": round(
            float(np.mean([1 / max(r.candidates, 1) for r in rows] or [0])), 4
        ),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 1),
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 1),
        "perception_ms_p50": round(float(np.median([r.perception_ms for r in rows] or [0])), 1),
    }
    if rows and rows[0].placed is not None:
        out["pick_place_success"] = _mean([bool(r.placed) for r in rows])
    heard = [r.heard for r in rows if r.heard is not None]
    if heard:
        out.update(hearing_summary(heard))
    return out


def _mean(xs: list[bool]) -> float | None:
    """Rounded mean; None (JSON null) when there is nothing to average."""
    return round(float(np.mean(xs)), 4) if xs else None


def run(
    episodes: list[Episode],
    model: Grounder,
    detector: detect.SSD | None,
    clarify: bool = True,
    execute: bool = False,
    ears: Ears | None = None,
    person: bool = False,
) -> tuple[dict[str, Any], list[Outcome]]:
    """Every episode, then the summary with a breakdown by split and by template (and by voice
    when the episodes were heard); ``person``: the simulated person answers the questions the
    episodes carry no answer to."""
    rows = [
        episode(ep, model, detector, clarify, execute, ears, i, person)
        for i, ep in enumerate(track(episodes, "running episodes"))
    ]
    result = summary(rows)
    groups = {
        "by_split": _by(rows, lambda r: r.split),
        "by_template": _by(rows, lambda r: r.template),
    }
    if any(r.heard for r in rows):
        groups["by_voice"] = _by(rows, lambda r: r.heard.voice if r.heard else "typed")
    for name, parts in groups.items():
        result[name] = {
            g: {
                k: v
                for k, v in summary(part).items()
                if not k.startswith(("latency", "perception", "asr_", "rtf"))
            }
            for g, part in parts.items()
        }
    return result, rows


def _by(rows: list[Outcome], key: Callable[[Outcome], str]) -> dict[str, list[Outcome]]:
    return {g: [r for r in rows if key(r) == g] for g in sorted({key(r) for r in rows})}
