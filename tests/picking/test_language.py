import numpy as np
import pytest

from otemachi.core.seeding import rng
from otemachi.picking import language, scenes


def _obj(
    oid: str, cat: str, color: str | None, size: str | None, box: str, x: float
) -> dict[str, object]:
    return {"id": oid, "category": cat, "color": color, "size": size, "box": box, "x": x, "y": 0.5}


SPEC = scenes.parse(
    {
        "objects": [
            _obj("a", "block", "red", "small", "tl", 0.2),
            _obj("b", "block", "blue", "small", "tl", 0.8),
            _obj("c", "mug", None, None, "br", 0.5),
            _obj("d", "duck", None, "large", "tr", 0.5),
        ]
    }
)


def test_unique_references_and_destinations() -> None:
    g = np.random.default_rng(0)
    attr = language.generate(SPEC, "a", "br", g, "attribute")
    assert attr is not None and "red" in attr.text and not attr.ambiguous
    assert any(w in attr.text for w in language.BOX_WORDS["br"])
    mug = language.generate(SPEC, "c", "tl", g, "attribute")
    assert mug is not None and "white" not in mug.text  # the only mug needs no colour


def test_ordinal_picks_the_extreme() -> None:
    made = [
        language.generate(SPEC, "a", "br", np.random.default_rng(s), "ordinal") for s in range(20)
    ]
    found = [got for got in made if got is not None]
    assert found, "block a is the leftmost block: some seed must describe it by an ordinal"
    for got in found:
        assert got.tags["ordinal"] == "leftmost", got.text  # a is left of b, same height
        assert "leftmost" in got.text and got.slots["ord"] == "leftmost"


def test_ambiguous_instruction_comes_with_its_answer() -> None:
    amb = language.generate(SPEC, "b", "bl", np.random.default_rng(1), "ambiguous")
    assert amb is not None and amb.ambiguous and amb.clarification is not None
    assert "blue" in amb.clarification and amb.answer_slots == {"look": "blue"}
    assert language.generate(SPEC, "c", "bl", np.random.default_rng(1), "ambiguous") is None


def test_relation_left_of() -> None:
    texts = []
    for seed in range(60):
        got = language.generate(SPEC, "a", "br", np.random.default_rng(seed), "relation")
        if got is not None:
            texts.append(got)
    assert texts, "some relation should single out block a"
    for t in texts:
        assert t.tags["relation"] in ("left of", "next to", "closest to"), t.text


@pytest.mark.parametrize("seed", range(5))
def test_every_instruction_is_tagged_and_deterministic(seed: int) -> None:
    spec = scenes.random_scene(rng(seed, "test-language"))
    a = [language.instructions_for(spec, o.id, "tl", rng(seed, "l", o.id)) for o in spec.objects]
    b = [language.instructions_for(spec, o.id, "tl", rng(seed, "l", o.id)) for o in spec.objects]
    assert a == b
    flat = [i for group in a for i in group]
    assert len({i.tags["template"] for i in flat}) >= 3
    for i in flat:
        assert {"template", "noun", "verb", "dest_form", "sentence"} <= set(i.tags)
        assert i.ambiguous == (i.clarification is not None)
        assert i.slots["cat"] == spec.by_id(i.target).category
        assert set(i.slots) <= set(language.SLOTS)
