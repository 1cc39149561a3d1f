"""The simulated person answers a question by telling their object from the ones it named."""

from dataclasses import replace

import numpy as np

from otemachi.picking.asr import Transcript
from otemachi.picking.catalog import CATALOG
from otemachi.picking.hearing import Ears, Heard, hear_answer
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
        among = Person(spec, "a", seed).answer(["a", "b"])
        assert not any(n in among.split() for n in nouns), among


class _Ears:
    """A recogniser that hears every answer as "the red one"."""

    name = "fake"

    def transcribe(self, samples: np.ndarray, hints: frozenset[str] = frozenset()) -> Transcript:
        return Transcript("the red one", (), 1.0, self.name, 5.0)


def test_the_persons_answer_is_spoken_heard_and_counted() -> None:
    heard = Heard("move the block", None, "en-us-nyc+m6", (0, 3), (0, 0), (7.0,), 1.5)
    ears = Ears(_Ears(), snr=20.0)
    got, after = hear_answer(ears, heard, "the blue one", 0, 1, frozenset())
    assert got == "the red one"
    assert after.clarification_errors == (1, 3) and after.ms == (7.0, 5.0)
    assert after.seconds > heard.seconds and after.errors == heard.errors
    typed = replace(heard, voice="file")  # speech from files: no voice to speak the answer
    assert hear_answer(ears, typed, "the blue one", 0, 1, frozenset()) == ("the blue one", typed)
