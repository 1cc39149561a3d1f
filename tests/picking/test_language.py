import re

import numpy as np
import pytest

from otemachi.core.seeding import rng
from otemachi.picking import instructions, language, scenes
from otemachi.picking.catalog import CATALOG
from otemachi.picking.language import SIZE_WORDS


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
    attr = instructions.generate(SPEC, "a", "br", g, "attribute")
    assert attr is not None and "red" in attr.text and not attr.ambiguous
    assert any(w in attr.text for w in language.BOX_WORDS["br"])
    mug = instructions.generate(SPEC, "c", "tl", g, "attribute")
    assert mug is not None and "white" not in mug.text  # the only mug needs no colour


def test_ordinal_picks_the_extreme() -> None:
    made = [
        instructions.generate(SPEC, "a", "br", np.random.default_rng(s), "ordinal")
        for s in range(20)
    ]
    found = [got for got in made if got is not None]
    assert found, "block a is the leftmost block: some seed must describe it by an ordinal"
    for got in found:
        assert got.tags["ordinal"] == "leftmost", got.text  # a is left of b, same height
        assert got.slots["ord"] == "leftmost" and "left" in got.text


def test_ambiguous_instruction_comes_with_its_answer() -> None:
    amb = instructions.generate(SPEC, "b", "bl", np.random.default_rng(1), "ambiguous")
    assert amb is not None and amb.ambiguous and amb.clarification is not None
    assert "blue" in amb.clarification and amb.answer_slots == {"look": "blue"}
    assert instructions.generate(SPEC, "c", "bl", np.random.default_rng(1), "ambiguous") is None


def test_relation_left_of() -> None:
    texts = []
    for seed in range(60):
        got = instructions.generate(SPEC, "a", "br", np.random.default_rng(seed), "relation")
        if got is not None:
            texts.append(got)
    assert texts, "some relation should single out block a"
    for t in texts:
        assert t.tags["relation"] in ("left of", "next to", "closest to"), t.text


@pytest.mark.parametrize("seed", range(5))
def test_every_instruction_is_tagged_and_deterministic(seed: int) -> None:
    spec = scenes.random_scene(rng(seed, "test-language"))
    a = [
        instructions.instructions_for(spec, o.id, "tl", rng(seed, "l", o.id)) for o in spec.objects
    ]
    b = [
        instructions.instructions_for(spec, o.id, "tl", rng(seed, "l", o.id)) for o in spec.objects
    ]
    assert a == b
    flat = [i for group in a for i in group]
    assert len({i.tags["template"] for i in flat}) >= 3
    for i in flat:
        assert {"template", "noun", "verb", "dest_form", "sentence"} <= set(i.tags)
        assert i.ambiguous == (i.clarification is not None)
        assert i.slots["cat"] in (spec.by_id(i.target).category, "none")  # "the thing ..."
        assert set(i.slots) <= set(language.SLOTS)


def _all(template: str, target: str, seeds: int = 40) -> list[language.Instruction]:
    made = [
        instructions.generate(SPEC, target, "bl", np.random.default_rng(s), template)
        for s in range(seeds)
    ]
    return [m for m in made if m is not None]


def test_negation_names_what_only_the_others_are() -> None:
    found = _all("negation", "b")  # the blue block, beside the red one in the same box
    assert found
    for got in found:
        assert got.slots.get("not_look") == "red", got.text
        said = got.text.lower()
        assert "not" in said or "n't" in said or "non-" in said
    assert not _all("negation", "d")  # the only duck, alone in its box: nothing to deny


def test_comparison_and_position_inside_a_box() -> None:
    bigger = scenes.parse(
        {
            "objects": [
                *SPEC.to_dict()["objects"][:3],
                {**_obj("e", "duck", None, "small", "tl", 0.5)},
                {**_obj("d", "duck", None, "large", "tr", 0.5)},
            ]
        }
    )
    got = instructions.generate(bigger, "d", "bl", np.random.default_rng(0), "comparison")
    assert got is not None and got.slots["ord"] == "largest", got
    assert instructions.generate(bigger, "a", "bl", np.random.default_rng(0), "comparison") is None
    found = _all("position", "b")
    assert found
    for got in found:
        assert got.slots["box"] == "tl", got.text
        assert got.slots["ord"] in ("rightmost", "top right", "bottom right"), got.text


def test_descriptions_name_the_category_without_its_noun() -> None:
    found = _all("description", "c")
    assert found
    for got in found:
        assert got.slots["cat"] == "mug" and got.tags["description"] in CATALOG["mug"].description()
        assert got.tags["description"] in got.text and "mug" not in got.text


def test_animals_may_be_described_as_animals_and_objects_never_are() -> None:
    heads = {got.tags["noun"] for got in _all("description", "d")}
    assert "animal" in " ".join(heads)
    assert not any("animal" in got.text for got in _all("description", "c"))


def test_destinations_said_with_in_are_boxes_not_corners() -> None:
    made = [
        instructions.generate(SPEC, "a", "br", np.random.default_rng(s), "attribute")
        for s in range(300)
    ]
    said_in = [m for m in made if m and m.tags["dest_form"] == language.IN_FORM]
    assert said_in
    for m in said_in:  # never "take the duck in the top right box": that is where it lies
        assert m.tags["container"] != "corner" and not m.tags["sentence"].startswith("{dest}")
        assert (
            m.tags["verb"] in ("put", "place", "drop")
            or "put it" in m.tags["sentence"]
            or ("goes" in m.tags["sentence"])
        ), m.text


def test_two_attributes_may_be_coordinated() -> None:
    spec = scenes.parse(
        {
            "objects": [
                _obj("a", "mug", "red", "large", "tl", 0.2),
                _obj("b", "mug", "red", "small", "tl", 0.8),
                _obj("c", "mug", "blue", "large", "tr", 0.5),
            ]
        }
    )
    made = [instructions.generate(spec, "a", "bl", rng(s, "and"), "attribute") for s in range(30)]
    said = [m for m in made if m is not None and m.tags.get("coordination")]
    assert said, "some seed must say 'the mug that is large and red'"
    for m in said:
        assert any(
            f"{a} and {b}" in m.text
            for a, b in [("red", "large"), ("red", "big"), ("large", "red"), ("big", "red")]
        )
        assert m.slots["look"] == "red" and m.slots["size"] == "large"


THREE = scenes.parse(  # three blocks in a row, the middle one between the two mugs
    {
        "objects": [
            _obj("r", "block", "red", "small", "tl", 0.2),
            _obj("g", "block", "green", "small", "tl", 0.5),
            _obj("b", "block", "blue", "small", "tl", 0.8),
            _obj("m1", "mug", None, None, "tr", 0.2),
            _obj("m2", "mug", None, None, "tr", 0.8),
        ]
    }
)


def _in(spec: scenes.SceneSpec, template: str, target: str) -> list[language.Instruction]:
    made = [
        instructions.generate(spec, target, "br", np.random.default_rng(s), template)
        for s in range(200)
    ]
    return [m for m in made if m is not None]


def test_two_things_may_be_denied_at_once() -> None:
    doubles = [i for i in _in(THREE, "negation", "g") if "|" in i.slots.get("not_look", "")]
    assert doubles, "the green block is the one neither red nor blue"
    for got in doubles:
        assert got.slots["not_look"] == "blue|red", got.text
        # "the block that ...", or "the thing in the top left box that ..." (all three are there)
        assert got.slots["cat"] == "block" or got.slots["box"] == "tl", got.text
        assert "red" in got.text and "blue" in got.text, got.text


def test_the_other_one_of_two_denies_the_one_named() -> None:
    others = [i for i in _in(SPEC, "negation", "b") if "other" in i.text]
    assert others, "of two blocks, the blue one is the other one"
    for got in others:
        assert got.slots.get("not_look") == "red" and "red" in got.text, got.text
    assert not [i for i in _in(THREE, "negation", "g") if "other" in i.text]  # three blocks


def test_a_look_denied_in_a_box_and_a_category_denied_of_a_colour() -> None:
    made = _in(THREE, "negation", "g") + _in(SPEC, "negation", "c")
    in_box = [i for i in made if i.tags["negation"] == "look in box"]
    assert in_box, "the green block is the thing in the top left box that is not red or blue"
    for got in in_box:  # only the top left box has three things of different colours
        assert got.slots["cat"] == "none" and got.slots["box"] == "tl", got.text
        assert got.slots["not_look"] == "blue|red", got.text
    spec = scenes.parse({"objects": [_obj("m", "mug", "red", None, "tl", 0.2),
                                     _obj("k", "can", "red", None, "br", 0.5),
                                     _obj("n", "can", "blue", None, "br", 0.8)]})  # fmt: skip
    of_look = [i for i in _in(spec, "negation", "m") if i.tags["negation"] == "cat of look"]
    assert of_look, "the mug is the red thing that isn't a can"
    for got in of_look:
        assert got.slots["look"] == "red" and got.slots["not_cat"] == "can", got.text
        assert got.slots["cat"] == "none" and "red" in got.text, got.text


PAIR = scenes.parse(  # a can between two ducks, another can elsewhere
    {
        "objects": [
            _obj("d1", "duck", None, None, "tl", 0.2),
            _obj("c1", "can", "red", None, "tl", 0.5),
            _obj("d2", "duck", None, None, "tl", 0.8),
            _obj("c2", "can", "red", None, "br", 0.5),
        ]
    }
)


def test_between_the_two_of_a_kind() -> None:
    named = language.twins(PAIR.by_id("c1"), list(PAIR.objects))
    assert [(a.id, b.id, said) for a, b, said in named] == [
        ("d1", "d2", ""),
        ("d1", "d2", "yellow"),
        ("d1", "d2", "small"),  # "the two ducks", "the two yellow ducks", "the two small ducks"
    ]
    for_duck = language.twins(PAIR.by_id("d1"), list(PAIR.objects))  # no pair holds d1
    assert {(a.id, b.id) for a, b, _ in for_duck} == {("c1", "c2")}
    two = [i for i in _in(PAIR, "relation", "c1") if i.tags.get("landmarks") == "the two"]
    assert two, "the can lies between the only two ducks"
    for got in two:
        assert "the two" in got.text and "duck" in got.text, got.text
        assert got.slots["rel"] == "between"
        assert got.slots["l1_cat"] == got.slots["l2_cat"] == "duck", got.slots


def test_a_pair_set_up_and_one_set_aside_leaves_the_other() -> None:
    found = _in(SPEC, "other", "b")  # two blocks: the red one on the left, the blue one
    assert found
    for got in found:
        said = got.text.lower()
        assert "other" in said and got.slots["cat"] == "block", said
        if "not_look" in got.slots:
            assert got.slots["not_look"] == "red" and "red" in said, said
        else:
            assert got.slots["not_ord"] == "leftmost" and "left" in said, said
    assert {"not_look", "not_ord"} <= {
        k for got in found for k in got.slots if got.slots[k] != "none"
    }
    spec = scenes.random_scene(rng(40, "pairs"))
    for o in spec.objects:  # what the slots say of the target, the words say
        for s in range(40):
            got = instructions.generate(spec, o.id, "tl", np.random.default_rng(s), "other")
            if got is None:
                continue
            assert got.slots.get("look", "none") in ("none", *got.text.split()), got
            size = got.slots.get("size", "none")
            assert size == "none" or set(SIZE_WORDS[size]) & set(got.text.split()), got
    assert not _in(SPEC, "other", "c")  # the only mug: no pair
    forms = {got.tags["set_aside"] for got in found}
    assert {
        "one {p}; {verb} the other {o} {dest}",
        "{e} can stay. {verb} the other {o} {dest}",
    } <= forms
    named = [got for got in found if "red block" in got.text or " is red" in got.text]
    assert named, "the red one set aside as 'the red block' or 'one is red'"
    for got in named:  # red is what the target is not, never what it is
        assert got.slots["not_look"] == "red" and got.slots.get("look", "none") == "none", got


def test_how_many_there_are_said_first_then_the_one() -> None:
    # in the top left box a mug lies left of two blocks: "the thing on the left" is the mug
    boxed = scenes.parse({"objects": [_obj("m", "mug", None, None, "tl", 0.1),
                                      _obj("a", "block", "red", None, "tl", 0.5),
                                      _obj("b", "block", "red", None, "tl", 0.9)]})  # fmt: skip
    in_box = [i for i in _in(boxed, "position", "a") if "setup" in i.tags]
    assert in_box, "'The top left box has two blocks. Move the one on the left ...'"
    made = _in(SPEC, "ordinal", "b") + in_box
    plurals = {language.plural(n) for n in (CATALOG["block"].name, *CATALOG["block"].synonyms)}
    for got in [i for i in made if "setup" in i.tags]:
        first, rest = got.text.lower().split(".", 1)
        assert "two" in first and any(f"two {p}" in first for p in plurals), got.text
        assert " one" in rest and "block" not in rest and got.slots["cat"] == "block", got.text
        assert got.slots["ord"] != "none", got.text  # rightmost, leftmost, a corner
        # in a box, the set-up says which box and the box slot records it
        if got in in_box:
            assert got.slots["box"] == "tl" and any(w in first for w in language.BOX_WORDS["tl"]), (
                got.text
            )
    said = [i for i in _in(SPEC, "attribute", "b") if "setup" in i.tags]
    assert said, "'There are two blocks. Move the blue one ...'"
    for got in said:  # the colour is the target's own, as in "the blue block"
        assert "two" in got.text.split(".")[0] and "blue one" in got.text, got.text
        assert got.slots["look"] == "blue" and got.slots["cat"] == "block", got.text


def test_a_group_is_named_without_a_look_or_box_and_an_opening_comes_first() -> None:
    # a plain soccer ball beside a red one, a small and a large block: the group is "two soccer
    # balls", never "two black and white balls", and the blocks are never "two boxes"
    spec = scenes.parse({"objects": [_obj("s", "soccer ball", None, None, "tl", 0.2),
                                     _obj("r", "soccer ball", "red", None, "tl", 0.8),
                                     _obj("a", "block", None, "small", "br", 0.2),
                                     _obj("b", "block", None, "large", "br", 0.8)]})  # fmt: skip
    made = [
        m for t in ("s", "a") for k in ("other", "attribute", "ordinal") for m in _in(spec, k, t)
    ]
    setups = [m for m in made if "setup" in m.tags or m.tags.get("pair_setup")]
    assert len(setups) > 20
    for got in setups:
        first = got.text.lower().split(".")[0]
        assert "black and white" not in first and "boxes" not in first, got.text
        if "opening" in got.tags:  # "Hi there, there are two cups. ..."
            assert got.text.lower().startswith(got.tags["opening"]), got.text
    openings = [m for m in made if "setup" in m.tags and "opening" in m.tags]
    assert openings, "an opening before a how-many sentence"
    # "leave the bigger one": the small block is not the largest of the two
    compared = [m for m in _in(spec, "other", "a") if m.slots.get("not_ord") == "largest"]
    assert compared, "the large block set aside as the bigger one"
    for got in compared:
        assert {"bigger", "larger"} & set(re.findall(r"\w+", got.text.lower())), got.text
        assert got.slots.get("not_size", "none") == "none", got.text
