"""The simulated person answers a question by telling their object from the ones it named."""

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
