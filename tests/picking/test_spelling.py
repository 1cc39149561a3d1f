"""Misspelt words are put right; English words and the instruction language are left alone."""

import pytest

from otemachi.core.seeding import rng
from otemachi.picking import instructions, scenes
from otemachi.picking.spelling import distance, respell


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("moev the yelow blok", "move the yellow block"),
        ("put teh purpel can in the lower rigth bin", "put the purple can in the lower right bin"),
        ("the teddybear in the tpo left box", "the teddy bear in the top left box"),
        ("mvoe the whiet rabit", "move the white rabbit"),
        ("the soccerball at the botom", "the soccer ball at the bottom"),
    ],
)
def test_typos_are_put_right(said: str, meant: str) -> None:
    assert respell(said) == meant


def test_known_and_english_words_are_left_alone() -> None:
    text = "put the thing you kick or pour soup into, the one on the far left"
    assert respell(text) == text
    said = "dont take the two mugs, the cuddly long-eared one isnt teal: its littlest"
    assert respell(said) == said  # contractions, plurals, endings, short English words
    assert respell("Move the Red MUG!") == "move the red mug!"
    assert respell("zzqxv") == "zzqxv"  # nothing near: kept as said


def test_distance_counts_a_swap_as_one_edit() -> None:
    assert distance("rigth", "right") == 1
    assert distance("blok", "block") == 1
    assert distance("mug", "duck") == 3  # capped at the limit
    assert distance("", "abc") == 3


def test_generated_instructions_are_never_changed() -> None:
    for i in range(60):
        g = rng(i, "test-spelling")
        spec = scenes.random_scene(g)
        for o in spec.objects[:4]:
            for ins in instructions.instructions_for(spec, o.id, "tl", g, k=9):
                assert respell(ins.text) == ins.text.lower(), ins.text
                if ins.clarification:
                    assert respell(ins.clarification) == ins.clarification.lower()
