"""Talking with the terminal user: a turn is typed text or the path of an audio file (then it
is transcribed and the transcript shown), and questions are spoken into a WAV file and played
when a sound device exists."""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from otemachi.core.errors import OtemachiError
from otemachi.core.progress import console
from otemachi.picking import audio, speech
from otemachi.picking.asr import Recogniser, Transcript
from otemachi.picking.asr import models as asr_models

AUDIO = (".wav", ".flac", ".ogg", ".oga")


class Listener:
    def __init__(self, backend: str | None, question_wav: Path):
        self.backend, self.question_wav = backend, question_wav
        self._recogniser: Recogniser | None = None
        if backend is not None:
            self.recogniser()  # a wrong --asr or a missing model is reported before any work

    def recogniser(self) -> Recogniser:
        if self._recogniser is None:
            self._recogniser = asr_models.load(self.backend)
        return self._recogniser

    def said(self, turn: str, hints: frozenset[str] = frozenset()) -> Transcript:
        """A turn as a transcript: typed text as it is, or the transcript of the audio file it
        names."""
        if not turn.strip().lower().endswith(AUDIO):
            return Transcript.typed(turn)
        return self.transcribe(audio.read(Path(turn.strip())), hints)

    def transcribe(self, samples: np.ndarray, hints: frozenset[str] = frozenset()) -> Transcript:
        """The transcript of decoded audio (``hints``: words of what the robot sees), shown with
        its confidence."""
        got = self.recogniser().transcribe(samples, hints)
        doubt = ", doubtful" if got.doubtful else ""
        console.print(
            f"heard ({got.backend}, confidence {got.confidence:.2f}{doubt}, {got.ms:.0f} ms): "
            f'"{got.text}"'
        )
        return got

    def ask(self, question: str, prompt: Callable[[str], str]) -> str:
        """Speak the question (WAV, and the sound device if any), then take the answer."""
        try:
            speech.save(question, self.question_wav)
            played = speech.play(self.question_wav)
            where = f"{self.question_wav}" + (" and played" if played else "")
            console.print(f"question spoken to {where}")
        except (OtemachiError, OSError) as exc:  # the question is still asked in text
            console.print(f"question not spoken: {exc}")
        return prompt(question)
