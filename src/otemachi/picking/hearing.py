"""Episodes heard instead of read: an episode's instruction and answer come from its audio files,
or are spoken by espeak-ng voices when it has none, then transcribed, and so are the simulated
person's answers (``hear_answer``); word errors and recognition time are kept for the
evaluation."""

from dataclasses import dataclass, replace

import numpy as np

from otemachi.core.seeding import rng
from otemachi.picking import audio, speech
from otemachi.picking.asr import Recogniser, Transcript, error_rate, timing, word_errors
from otemachi.picking.asr.lexicon import normalise
from otemachi.picking.episodes import Episode


@dataclass(frozen=True)
class Ears:
    recogniser: Recogniser
    voices: tuple[str, ...] = ()  # espeak-ng voices for episodes that carry no audio
    snr: float | None = None  # white noise added before recognition, dB below the speech


@dataclass(frozen=True)
class Heard:
    instruction: str
    clarification: str | None
    voice: str  # the espeak-ng voice, or "file"
    errors: tuple[int, int]  # word errors, reference words (instruction)
    clarification_errors: tuple[int, int]  # every answer heard, the simulated person's too
    ms: tuple[float, ...]  # recognition time of each utterance (the person's answers too)
    seconds: float  # audio heard
    doubtful: bool = False  # the recogniser doubts the instruction's transcript
    readings: tuple[tuple[str, float], ...] = ()  # the instruction's readings and their shares


def has_audio(ep: Episode) -> bool:
    return ep.audio is not None or ep.clarification_audio is not None


def hear(ears: Ears, ep: Episode, index: int, hints: frozenset[str] = frozenset()) -> Heard | None:
    """The episode as transcribed (``hints``: words of what the robot sees); None when it has
    no audio and no voice is given. What has neither an audio file nor a voice to speak it stays
    typed."""
    if not has_audio(ep) and not ears.voices:
        return None
    voice = "file" if has_audio(ep) else ears.voices[index % len(ears.voices)]
    g = rng(index, "picking", "hearing-noise")
    ms, seconds, doubtful = [], 0.0, False
    readings: tuple[tuple[str, float], ...] = ()
    said: list[tuple[str | None, tuple[int, int]]] = []
    utterances = ((ep.instruction, ep.audio), (ep.clarification, ep.clarification_audio))
    for turn, (text, path) in enumerate(utterances):
        if text is None and path is None:
            said.append((None, (0, 0)))
            continue
        if path is not None:
            samples = audio.read(path)
        elif text is not None and voice != "file":
            samples = speech.speak(text, voice)
        else:  # typed text in an episode whose other utterance is a file
            said.append((text, (0, 0)))
            continue
        got, errors, length = _transcribe(ears, samples, text, hints, g)
        ms.append(got.ms)
        seconds += length
        if turn == 0:  # the instruction; a doubtful answer changes nothing
            doubtful, readings = got.doubtful, got.readings
        said.append((got.text, errors))
    (instruction, errors), (clar, clar_errors) = said
    return Heard(
        instruction or "", clar, voice, errors, clar_errors, tuple(ms), seconds, doubtful, readings
    )


def hear_answer(
    ears: Ears, heard: Heard, text: str, index: int, turn: int, hints: frozenset[str]
) -> tuple[Transcript, Heard]:
    """An answer ``text`` that the simulated person gives on ``turn``, spoken in the episode's
    voice: its transcript, and ``heard`` with it counted among the answers. It stays typed when
    the episode's speech came from files (there is no voice to speak it)."""
    if heard.voice == "file":
        return Transcript.typed(text), heard
    g = rng(index, "picking", "hearing-noise", "person", str(turn))
    got, (e, n), length = _transcribe(ears, speech.speak(text, heard.voice), text, hints, g)
    e0, n0 = heard.clarification_errors
    return got, replace(
        heard, clarification_errors=(e0 + e, n0 + n), ms=(*heard.ms, got.ms),
        seconds=heard.seconds + length,
    )  # fmt: skip


def _transcribe(
    ears: Ears, samples: np.ndarray, text: str | None, hints: frozenset[str],
    g: np.random.Generator,
) -> tuple[Transcript, tuple[int, int], float]:  # fmt: skip
    """(transcript, word errors against ``text``, seconds of audio)."""
    if ears.snr is not None:
        samples = audio.with_noise(samples, ears.snr, g)
    got = ears.recogniser.transcribe(samples, hints)
    errors = word_errors(normalise(text), got.text) if text else (0, 0)
    return got, errors, len(samples) / audio.RATE


def summary(heard: list[Heard]) -> dict[str, object]:
    """WER of instructions and answers, recognition time and real-time factor."""
    times = timing([m for h in heard for m in h.ms], sum(h.seconds for h in heard))
    return {
        "wer": _rounded(error_rate([h.errors for h in heard])),
        "wer_clarification": _rounded(error_rate([h.clarification_errors for h in heard])),
        "asr_ms_p50": times["ms_p50"],
        "asr_ms_p95": times["ms_p95"],
        "rtf": times["rtf"],
    }


def _rounded(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)
