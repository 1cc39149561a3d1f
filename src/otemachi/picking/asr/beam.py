"""CTC prefix beam search over characters with a word n-gram language model: each prefix keeps
its probability of ending in a blank and in a character; a word is scored by the language model
when a space or the end closes it, and a partial word that starts no known word pays the
unknown-word penalty at once."""

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from otemachi.picking.asr.ctc import BLANK
from otemachi.picking.asr.lexicon import CHARS
from otemachi.picking.asr.ngram import UNK, NGram

SPACE = CHARS.index(" ") + 1
NEG = -math.inf
READINGS = 8  # the most likely distinct readings a decode reports


def _add(a: float, b: float) -> float:
    if a == NEG:
        return b
    if b == NEG:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


@dataclass
class _Beam:
    blank: float = NEG  # ln P(prefix, ending in blank)
    char: float = NEG  # ln P(prefix, ending in its last character)
    lm: float = 0.0  # language-model score of the closed words (and penalties)
    words: tuple[str, ...] = ()
    partial: str = ""
    steps: tuple[int, ...] = field(default=())  # step of each character emitted

    @property
    def ctc(self) -> float:
        return _add(self.blank, self.char)


@dataclass(frozen=True)
class Hypothesis:
    words: tuple[str, ...]
    steps: tuple[int, ...]  # one per non-space character of the text
    score: float  # acoustic + weighted language model + word bonus
    confidence: float  # share of the beam's probability held by this hypothesis
    readings: tuple[tuple[str, float], ...] = ()  # the likeliest texts and their shares


@dataclass(frozen=True)
class Bias:
    """Words the scene makes likely (the names and colours of what the robot sees), each
    rewarded by ``bonus`` (log domain) when the beam closes it."""

    words: frozenset[str] = frozenset()
    bonus: float = 0.0


def _close(
    b: _Beam, lm: NGram | None, alpha: float, beta: float, bias: Bias
) -> tuple[float, tuple[str, ...]]:
    """LM score and words after the partial word is closed."""
    if not b.partial:
        return b.lm, b.words
    score = b.lm + beta + (bias.bonus if b.partial in bias.words else 0.0)
    if lm is not None:
        score += alpha * (lm.score(("<s>", *b.words), b.partial) - (
            UNK if b.partial not in lm.prefixes else 0.0))  # fmt: skip
    return score, (*b.words, b.partial)


def decode(
    logp: np.ndarray,
    lm: NGram | None = None,
    width: int = 16,
    alpha: float = 0.5,
    beta: float = 1.0,
    prune: float = -8.0,
    bias: Bias = Bias(),
) -> Hypothesis:
    """The best transcript of (steps, classes) log-probabilities; ``alpha`` weighs the language
    model, ``beta`` rewards each word, ``bias`` the scene's words, classes below ``prune`` at a
    step are skipped."""
    beams: dict[str, _Beam] = {"": _Beam(blank=0.0)}
    for t, row in enumerate(logp):
        nxt: dict[str, _Beam] = {}
        classes = [int(c) for c in np.flatnonzero(row >= prune)] or [int(row.argmax())]
        for text, b in beams.items():
            for c in classes:
                p = float(row[c])
                if c == BLANK:
                    n = nxt.setdefault(text, _copy(b))
                    n.blank = _add(n.blank, b.ctc + p)
                    continue
                ch = CHARS[c - 1]
                last = text[-1] if text else ""
                if ch == last:  # a repeat without a blank between stays the same prefix
                    n = nxt.setdefault(text, _copy(b))
                    n.char = _add(n.char, b.char + p)
                    if b.blank == NEG:
                        continue
                    source = b.blank + p
                else:
                    source = b.ctc + p
                if ch == " " and (not text or last == " "):
                    continue  # no leading or double spaces
                new = text + ch
                if new not in nxt:
                    nxt[new] = _extend(b, ch, t, lm, alpha, beta, bias)
                nxt[new].char = _add(nxt[new].char, source)
        beams = dict(sorted(nxt.items(), key=lambda kv: -(kv[1].ctc + kv[1].lm))[:width])
    finals = [(_close(b, lm, alpha, beta, bias), b) for b in beams.values()]
    scored = []
    for (lm_score, words), b in finals:
        end = alpha * lm.score(("<s>", *words), "</s>") if lm is not None and words else 0.0
        scored.append((b.ctc + lm_score + end, words, b.steps))
    best = max(scored, key=lambda s: s[0])
    merged: dict[tuple[str, ...], float] = {}
    for score, words, _ in scored:  # "ab" and "ab " say the same words: their shares add up
        merged[words] = _add(merged.get(words, NEG), score)
    total = functools.reduce(_add, merged.values(), NEG)
    shares = sorted(((" ".join(w), math.exp(s - total)) for w, s in merged.items()),
                    key=lambda r: -r[1])  # fmt: skip
    return Hypothesis(best[1], best[2], best[0], math.exp(merged[best[1]] - total),
                      tuple(shares[:READINGS]))  # fmt: skip


def _copy(b: _Beam) -> _Beam:
    return _Beam(NEG, NEG, b.lm, b.words, b.partial, b.steps)


def _extend(
    b: _Beam, ch: str, t: int, lm: NGram | None, alpha: float, beta: float, bias: Bias
) -> _Beam:
    if ch == " ":
        score, words = _close(b, lm, alpha, beta, bias)
        return _Beam(NEG, NEG, score, words, "", b.steps)
    partial = b.partial + ch
    penalty = 0.0
    known = lm is not None and (not b.partial or b.partial in lm.prefixes)
    if known and lm is not None and partial not in lm.prefixes:
        penalty = alpha * UNK  # leaves every known word: pay now, not at the space
    return _Beam(NEG, NEG, b.lm + penalty, b.words, partial, (*b.steps, t))
