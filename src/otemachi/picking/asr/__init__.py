"""Speech recognition for spoken instructions: ``transcribe(samples) -> Transcript`` with two
backends, pocketsphinx with the domain language model and the recurrent CTC recogniser trained
here (``otemachi picking train-asr`` builds both the language model and the network)."""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

BACKENDS = ("rnn", "pocketsphinx")
# Below this confidence a transcript is doubtful, and the robot asks before it acts
DOUBT_BELOW = {"rnn": 0.6, "pocketsphinx": 0.8}


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds
    end: float
    confidence: float  # 0..1


@dataclass(frozen=True)
class Transcript:
    text: str
    words: tuple[Word, ...]
    confidence: float  # 0..1
    backend: str
    ms: float  # time to transcribe
    # the recogniser's likeliest readings of the audio (the text among them) and their shares
    # of its belief, likeliest first (rnn); empty from pocketsphinx and for typed text
    readings: tuple[tuple[str, float], ...] = ()

    @classmethod
    def typed(cls, text: str) -> "Transcript":
        """Typed text as a transcript: sure of every word, one reading."""
        return cls(text, (), 1.0, "typed", 0.0)

    @property
    def doubtful(self) -> bool:
        return self.confidence < DOUBT_BELOW.get(self.backend, 0.0)

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "doubtful": self.doubtful,
            "backend": self.backend,
            "ms": round(self.ms, 1),
            "readings": [{"text": t, "share": p} for t, p in self.readings],  # not rounded
            "words": [
                {"word": w.text, "start": round(w.start, 2), "end": round(w.end, 2),
                 "confidence": round(w.confidence, 4)}
                for w in self.words
            ],
        }  # fmt: skip


class Recogniser(Protocol):
    name: str

    def transcribe(self, samples: np.ndarray, hints: frozenset[str] = ...) -> Transcript: ...


def timing(ms: list[float], seconds: float) -> dict[str, float]:
    """Median and 95th-percentile recognition time, and the real-time factor (recognition time
    over audio time)."""
    a = np.array(ms or [0.0])
    return {
        "ms_p50": round(float(np.percentile(a, 50)), 1),
        "ms_p95": round(float(np.percentile(a, 95)), 1),
        "rtf": round(float(a.sum() / 1000 / max(seconds, 1e-9)), 4),
    }


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words) between two normalised texts."""
    ref, hyp = reference.split(), hypothesis.split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref):
        new = [i + 1]
        for j, h in enumerate(hyp):
            new.append(min(row[j + 1] + 1, new[j] + 1, row[j] + (r != h)))
        row = new
    return row[-1], len(ref)


def error_rate(counts: list[tuple[int, int]]) -> float | None:
    """Word errors over reference words, from (errors, words) counts; None without words."""
    words = sum(n for _, n in counts)
    return sum(e for e, _ in counts) / words if words else None


def wer(pairs: list[tuple[str, str]]) -> float:
    """Word error rate over (reference, hypothesis) pairs (0 when they hold no words)."""
    return error_rate([word_errors(r, h) for r, h in pairs]) or 0.0
