"""The simulated person answers a question by telling their object from the ones it named."""

from dataclasses import replace

import numpy as np

from otemachi.picking.asr import Transcript
from otemachi.picking.catalog import CATALOG
from otemachi.picking.episodes import Episode
from otemachi.picking.hearing import Ears, Heard, hear, hear_answer
from otemachi.picking.language import BOX_WORDS
from otemachi.picking.person import Person
from otemachi.picking.scenes import ObjectSpec, SceneSpec


def _block(oid: str, color: str, box: str, x: float) -> ObjectSpec:
    return ObjectSpec(oid, "block", color, "small", box, x, 0.5)


def test_the_answer_names_what_tells_the_target_from_the_options() -> None:
    spec = SceneSpec((_block("a", "red", "tl", 0.3), _block("b", "blue", "tl", 0.7),
                      _block("c", "red", "br", 0.5)))  # fmt: skip
    assert "red" in Person(spec, "a").answer(["a", "b"])  # only the target is red of the two
    assert "blue" in Person(spec, "b").answer(["a", "c"])  # not among them: still picked out
    said = Person(spec, "c").answer(["a", "c"])  # both red and small: the box tells them apart
    assert any(w in said for w in BOX_WORDS["br"]), said
    answer = Person(spec, "a", 3).answer
    assert answer(["a", "b"]) == Person(spec, "a", 3).answer(["a", "b"])  # seeded


def test_a_target_the_question_missed_is_named() -> None:
    spec = SceneSpec((_block("a", "red", "tl", 0.3), _block("b", "blue", "tl", 0.7),
                      ObjectSpec("m", "mug", "green", "small", "br", 0.5, 0.5)))  # fmt: skip
    nouns = ("mug", *CATALOG["mug"].synonyms)
    for seed in range(5):
        said = Person(spec, "m", seed).answer(["a", "b"])  # "the red block or the blue block?"
        assert "green" in said and any(n in said.split() for n in nouns), said
    blocks = ("block", *CATALOG["block"].synonyms)
    among = [Person(spec, "a", seed).answer(["a", "b"]) for seed in range(5)]  # it was named
    assert any(not any(n in a.split() for n in blocks) for a in among), among  # "the red one"


class _Ears:
    """A recogniser that hears every answer as "the red one"."""

    name = "fake"

    def transcribe(self, samples: np.ndarray, hints: frozenset[str] = frozenset()) -> Transcript:
        return Transcript("the red one", (), 1.0, self.name, 5.0)


def test_the_persons_answer_is_spoken_heard_and_counted() -> None:
    heard = Heard("move the block", None, "en-us-nyc+m6", (0, 3), (0, 0), (7.0,), 1.5)
    ears = Ears(_Ears(), snr=20.0)
    got, after = hear_answer(ears, heard, "the blue one", 0, 1, frozenset())
    assert got.text == "the red one" and got.backend == "fake"
    assert after.clarification_errors == (1, 3) and after.ms == (7.0, 5.0)
    assert after.seconds > heard.seconds and after.errors == heard.errors
    typed = replace(heard, voice="file")  # speech from files: no voice to speak the answer
    assert hear_answer(ears, typed, "the blue one", 0, 1, frozenset()) == (
        Transcript.typed("the blue one"),
        typed,
    )


class _Doubting:
    """A recogniser sure of nothing but the utterances it is told to be sure of, in turn."""

    name = "rnn"

    def __init__(self, *sure: bool) -> None:
        self.sure = list(sure)

    def transcribe(self, samples: np.ndarray, hints: frozenset[str] = frozenset()) -> Transcript:
        return Transcript("move it", (), 0.99 if self.sure.pop(0) else 0.01, self.name, 1.0)


def test_only_a_doubtful_instruction_makes_the_episode_doubtful() -> None:
    spec = SceneSpec((_block("a", "red", "tl", 0.3),))
    ep = Episode("e", spec, "move the block", "a", "br", clarification="the red one")
    ears = Ears(_Doubting(False, True), ("en-us",))  # in doubt of the instruction
    heard = hear(ears, ep, 0)
    assert heard is not None and heard.doubtful
    heard = hear(Ears(_Doubting(True, False), ("en-us",)), ep, 0)  # in doubt of the answer only
    assert heard is not None and not heard.doubtful
