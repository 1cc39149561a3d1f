"""The domain's words and how they sound: a text corpus (the instruction generator's sentences,
the catalog's words and synonyms, colours, relations, box phrases and fillers), a trigram
language model over it in ARPA form, and a pronunciation for every word (the CMU dictionary
that pocketsphinx ships, else espeak-ng's phonemes mapped to ARPAbet)."""

import re
import subprocess
from functools import cache
from pathlib import Path

from pocketsphinx import get_model_path
from pocketsphinx.lm import ArpaBoLM

from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.picking.answers import ANSWERS
from otemachi.picking.catalog import CATALOG, COLORS, LOOKS, SIZES
from otemachi.picking.episodes import TEMPLATES, is_unseen
from otemachi.picking.instructions import generate
from otemachi.picking.language import (
    BOX_WORDS,
    CONTAINERS,
    ORDINALS,
    RELATIONS,
    VERBS,
)
from otemachi.picking.model import HOLDOUT
from otemachi.picking.scenes import random_scene
from otemachi.picking.speech import program
from otemachi.picking.world import BOXES

FILLERS = (
    "um", "uh", "okay", "ok", "so", "well", "hey", "robot", "please", "thanks", "thank you",
    "yes", "no", "i mean", "i want", "can you", "would you", "now", "just", "the one", "that one",
    "this one", "it", "there", "here", "on the left", "on the right", "in the middle",
)  # fmt: skip
CHARS = " abcdefghijklmnopqrstuvwxyz'"  # what the character recogniser writes


def normalise(text: str) -> str:
    """Lower case words of letters and apostrophes, one space apart ("top-left" -> "top left")."""
    return " ".join(re.findall(r"[a-z']+", text.lower().replace("-", " ")))


def sentences(n: int, seed: int = 0, holdout: frozenset[str] = frozenset(HOLDOUT)) -> list[str]:
    """Normalised instructions and answers the generator makes for ``n`` random scenes. Those
    that use a phrasing in ``holdout`` (default: the grounding model's) are left out, so that
    held-out phrasings reach the language model only as words (below), and decoding them tests
    its back-off."""
    return [s for s, tags, said in generated(n, seed) if not is_unseen(tags, holdout, said)]


@cache
def generated(n: int, seed: int) -> list[tuple[str, dict[str, str], str]]:
    """(normalised sentence, the tags of the instruction it came from, all that instruction
    says) for ``n`` random scenes."""
    out: list[tuple[str, dict[str, str], str]] = []
    for i in track(range(n), "generating sentences"):
        g = rng(seed, "picking", "asr-corpus", str(i))
        spec = random_scene(g)
        target = spec.objects[int(g.integers(len(spec.objects)))]
        dest = str(g.choice([b for b in BOXES if b != target.box]))
        ins = generate(spec, target.id, dest, g, str(g.choice(TEMPLATES)))
        if ins is None:
            continue
        said = f"{ins.text} {ins.clarification or ''}"
        out.extend((normalise(s), ins.tags, said) for s in (ins.text, ins.clarification) if s)
    return out


def phrases() -> list[str]:
    """Every word and short phrase of the domain, one per line, held-out phrasings included."""
    nouns = [w for c in CATALOG.values() for w in (c.name, *c.synonyms)]
    boxes = [f"{w} {c}" for ws in BOX_WORDS.values() for w in ws for c in CONTAINERS]
    answers = [
        a.replace("{v} ", "").replace(" {v}", "").replace("{noun}", "one")
        for forms in ANSWERS.values()
        for a in forms
    ]
    words = [*nouns, *COLORS, *LOOKS, *SIZES, *boxes, *VERBS, *ORDINALS, *FILLERS, *answers]
    words += [p for c in CATALOG.values() for p in c.description()]
    words += [w for ws in RELATIONS.values() for w in ws]
    return [normalise(w) for w in words if normalise(w)]


def corpus(n: int = 3000, seed: int = 0) -> list[str]:
    """The language model's training text."""
    return sentences(n, seed) + phrases()


def write_arpa(text: list[str], path: Path) -> Path:
    """A trigram ARPA model of ``text`` (absolute discounting with back-off)."""
    lm = ArpaBoLM(text="\n".join(text), add_start=True)
    lm.compute()
    with path.open("w") as f:
        lm.write(f)
    return path


IPA = {  # espeak-ng's English IPA -> ARPAbet; two-symbol sounds first
    "tʃ": "CH", "dʒ": "JH", "eɪ": "EY", "aɪ": "AY", "ɔɪ": "OY", "aʊ": "AW", "oʊ": "OW",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M",
    "n": "N", "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "j": "Y", "w": "W", "ɾ": "T", "ʔ": "T",
    "æ": "AE", "ɑ": "AA", "ɒ": "AA", "a": "AA", "ɔ": "AO", "ʌ": "AH", "ə": "AH", "ɐ": "AH",
    "ɪ": "IH", "ᵻ": "IH", "i": "IY", "ʊ": "UH", "u": "UW", "ɛ": "EH", "e": "EY", "o": "OW",
    "ɜ": "ER", "ɚ": "ER", "ɝ": "ER", "x": "K",
}  # fmt: skip


def ipa_to_arpabet(ipa: str) -> list[str]:
    """ARPAbet phones of an IPA string (stress, length and syllable marks dropped)."""
    s = re.sub("[ˈˌː̩ .-]", "", ipa)
    phones, i = [], 0
    while i < len(s):
        for size in (2, 1):
            if s[i : i + size] in IPA:
                phones.append(IPA[s[i : i + size]])
                i += size
                break
        else:
            i += 1  # a mark with no ARPAbet sound
    return [p for j, p in enumerate(phones) if j == 0 or p != "ER" or phones[j - 1] != "ER"]


@cache
def cmudict() -> dict[str, list[str]]:
    """The CMU dictionary that pocketsphinx ships: word -> its pronunciations."""
    out: dict[str, list[str]] = {}
    with open(get_model_path("en-us/cmudict-en-us.dict")) as f:
        for line in f:
            word, _, phones = line.strip().partition(" ")
            out.setdefault(word.split("(")[0], []).append(phones.strip())
    return out


def spoken(words: list[str]) -> dict[str, list[str]]:
    """A pronunciation (or several) for every word: the CMU dictionary's, or espeak-ng's."""
    known = cmudict()
    out = {w: known[w] for w in words if w in known}
    missing = [w for w in words if w not in known]
    if missing:
        ipa = (
            subprocess.run(
                [program("espeak-ng"), "-q", "--ipa", "-v", "en-us"],
                input="\n".join(missing).encode(),
                capture_output=True,
                check=True,
                timeout=60,
            )
            .stdout.decode()
            .split("\n")
        )
        for word, said in zip(missing, ipa, strict=False):
            phones = ipa_to_arpabet(said)
            if phones:
                out[word] = [" ".join(phones)]
    return out


def write_dict(words: list[str], path: Path) -> Path:
    """A pocketsphinx pronunciation dictionary for ``words``."""
    lines = []
    for word, prons in sorted(spoken(words).items()):
        lines += [f"{word}{'' if i == 0 else f'({i + 1})'} {p}" for i, p in enumerate(prons)]
    path.write_text("\n".join(lines) + "\n")
    return path


def vocabulary(text: list[str]) -> list[str]:
    return sorted({w for line in text for w in line.split()})
