"""The scorer's arithmetic on hand-made candidates and slots (no training)."""

import dataclasses

import numpy as np
import torch

from otemachi.picking.catalog import CATEGORIES, LOOKS
from otemachi.picking.dialog import ask, settled
from otemachi.picking.ground import Candidates, Scorer, answer_score
from otemachi.picking.reading import VOCAB
from otemachi.picking.world import BOXES


def _cands(objs: list[tuple[str, str, float, float]]) -> Candidates:
    """Certain looks: (category, look, x, y) per candidate."""
    n = len(objs)
    cat, look = torch.zeros(n, len(CATEGORIES)), torch.zeros(n, len(LOOKS))
    xy = torch.tensor([(x, y) for _, _, x, y in objs], dtype=torch.float32)
    for i, (c, lk, _, _) in enumerate(objs):
        cat[i, CATEGORIES.index(c)] = 1
        look[i, LOOKS.index(lk)] = 1
    quadrant = (xy[:, 0] >= 0).long() + 2 * (xy[:, 1] < 0).long()
    box = torch.nn.functional.one_hot(quadrant, 4).float()
    size = torch.tensor([[1.0, 0.0]] * n)
    return Candidates(np.zeros((n, 4)), xy, box, cat, look, size)


def _slots(**said: str) -> dict[str, torch.Tensor]:
    out = {}
    for s, vocab in VOCAB.items():
        p = torch.zeros(len(vocab))
        for value in said.get(s, vocab[0] if s != "dest" else "tr").split("|"):  # "red|blue"
            p[vocab.index(value)] = 1
        out[s] = p
    return out


SCENE = _cands(
    [
        ("block", "red", -0.15, 0.10),  # 0
        ("block", "blue", -0.08, 0.10),  # 1
        ("mug", "white", -0.12, 0.10),  # 2: between 0 and 1
        ("block", "red", 0.12, -0.12),  # 3: the other red block, bottom right
        ("duck", "yellow", 0.06, -0.12),  # 4
    ]
)


def _best(slots: dict[str, torch.Tensor]) -> int:
    with torch.no_grad():
        return int(Scorer()(slots, SCENE).argmax())


def test_words_pick_the_described_candidate() -> None:
    assert _best(_slots(cat="block", look="blue")) == 1
    assert _best(_slots(cat="duck")) == 4
    assert _best(_slots(cat="block", look="red", box="br")) == 3


def test_relations_and_ordinals() -> None:
    assert _best(_slots(cat="block", rel="left of", l1_cat="mug")) == 0
    assert _best(_slots(cat="block", rel="right of", l1_cat="mug")) == 1
    assert _best(_slots(cat="block", rel="closest to", l1_cat="duck")) == 3
    assert (
        _best(
            _slots(
                cat="mug",
                rel="between",
                l1_cat="block",
                l1_look="red",
                l2_cat="block",
                l2_look="blue",
            )
        )
        == 2
    )
    assert _best(_slots(cat="block", ord="rightmost")) == 3
    assert _best(_slots(cat="block", ord="leftmost")) == 0
    assert _best(_slots(cat="block", look="red", ord="topmost")) == 0


def test_ambiguous_words_split_the_belief_and_an_answer_settles_it() -> None:
    with torch.no_grad():
        p = Scorer()(_slots(cat="block", look="red"), SCENE).softmax(0)
        assert abs(float(p[0]) - float(p[3])) < 1e-4 and float(p[0] + p[3]) > 0.99
        for answer, want in ((_slots(box="br"), 3), (_slots(side="left"), 0)):
            after = (p.log() + answer_score(answer, SCENE, p / p.max())).softmax(0)
            assert int(after.argmax()) == want and float(after.max()) > 0.9
    assert set(BOXES) == set(VOCAB["box"][1:])


def test_a_noun_in_an_answer_corrects_the_category() -> None:
    prior = torch.tensor([0.9, 0.04, 0.03, 0.02, 0.01])  # sure of the red block (misheard)
    with torch.no_grad():
        for answer in (_slots(cat="mug"), _slots(not_cat="block")):  # "the mug", "not a block"
            after = (prior.log() + answer_score(answer, SCENE, prior)).softmax(0)
            assert int(after.argmax()) == 2 and float(after.max()) > 0.6
        unnamed = answer_score(_slots(look="red"), SCENE, prior)  # "the red one": no noun
        assert float(unnamed[0]) == float(unnamed[3]) > float(unnamed[4]) + 5


def test_negation_excludes_what_the_words_deny() -> None:
    assert _best(_slots(cat="block", not_look="red")) == 1
    assert _best(_slots(cat="block", look="red", not_box="br")) == 0
    assert _best(_slots(cat="block", look="red", not_box="tl")) == 3
    assert (
        _best(_slots(box="br", not_cat="block")) == 4
    )  # "the thing in the br box that isn't a block"
    assert _best(_slots(box="tl", not_cat="block")) == 2


def test_the_one_set_aside_by_its_side_leaves_the_other() -> None:
    # "there are two red blocks; leave the one on the left and move the other one"
    assert _best(_slots(cat="block", look="red", not_ord="leftmost")) == 3
    assert _best(_slots(cat="block", look="red", not_ord="rightmost")) == 0
    assert _best(_slots(cat="block", look="red", not_ord="bottommost")) == 0
    # of three blocks, "not the leftmost" leaves two: the belief stays split between them
    with torch.no_grad():
        p = Scorer()(_slots(cat="block", not_ord="leftmost"), SCENE).softmax(0)
    assert float(p[0]) < 0.01 and min(float(p[1]), float(p[3])) > 0.4


def test_an_extreme_named_is_not_also_set_aside() -> None:
    # two cans side by side, a reading torn between "the leftmost can" (0.45) and "leave the
    # leftmost can" (0.55): no sentence does both, so setting aside counts only as far as the
    # leftmost is not named (0.55 x 0.55 < 0.45), and the leftmost is chosen
    cans = _cands(
        [("can", "red", -0.02, -0.1), ("can", "red", 0.02, -0.1), ("duck", "yellow", 0.1, 0.1)]
    )
    said = _slots(cat="can", ord="leftmost")
    said["ord"] = 0.45 * said["ord"] + 0.55 * _slots()["ord"]
    said["not_ord"] = 0.45 * _slots()["not_ord"] + 0.55 * _slots(not_ord="leftmost")["not_ord"]
    with torch.no_grad():
        assert int(Scorer()(said, cans).argmax()) == 0
        # nothing named: the setting aside counts, and the other is chosen
        said["ord"] = _slots()["ord"]
        assert int(Scorer()(said, cans).argmax()) == 1


def test_the_target_is_not_already_in_the_destination() -> None:
    assert _best(_slots(cat="block", look="red", dest="br")) == 0
    assert _best(_slots(cat="block", look="red", dest="tl")) == 3
    # "put the red block in the bottom right box": the reader's box says br, less surely
    said = _slots(cat="block", look="red", dest="br")
    said["box"] = 0.2 * _slots()["box"] + 0.8 * _slots(box="br")["box"]
    assert _best(said) == 0
    said["dest"] = torch.full((4,), 0.25)  # no destination heard: no preference left
    assert _best(said) == 3


def test_two_denials_at_once_and_between_two_of_a_kind() -> None:
    scene = _cands(
        [
            ("block", "red", -0.15, 0.10),  # 0
            ("mug", "white", -0.10, 0.10),  # 1: between the two blocks
            ("block", "red", -0.05, 0.10),  # 2
            ("mug", "blue", 0.10, -0.10),  # 3
            ("mug", "green", 0.15, -0.10),  # 4
        ]
    )
    with torch.no_grad():
        p_of = lambda q: Scorer()(q, scene).softmax(0)  # noqa: E731
        p = lambda **said: p_of(_slots(**said))  # noqa: E731
        assert int(p(cat="mug", not_look="white|blue").argmax()) == 4  # neither white nor blue
        split = p(cat="mug", not_look="white")
        assert abs(float(split[3]) - float(split[4])) < 1e-4 and float(split[1]) < 0.01
        soft = _slots(cat="mug")  # as the reader says it: half on each denied value
        soft["not_look"] = 0.5 * (
            _slots(not_look="white")["not_look"] + _slots(not_look="blue")["not_look"]
        )
        assert int(p_of(soft).argmax()) == 4
        two = dict(rel="between", l1_cat="block", l1_look="red", l2_cat="block", l2_look="red")
        assert float(p(cat="mug", **two)[1]) > 0.99  # "the mug between the two red blocks"


def test_size_comparison_corners_and_extremes_inside_a_box() -> None:
    big = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [1.0, 0.0]])
    scene = dataclasses.replace(SCENE, size=big)
    with torch.no_grad():
        best = lambda **said: int(Scorer()(_slots(**said), scene).argmax())  # noqa: E731
        assert best(cat="block", ord="largest") == 1
        assert best(cat="block", look="red", ord="largest") == 3
        assert best(cat="block", look="red", ord="smallest") == 0
        # a vague noun: the extreme of everything in the named box
        assert best(box="tl", ord="rightmost") == 1
        assert best(box="br", ord="leftmost") == 4
        assert best(cat="block", ord="bottom right") == 3
        assert best(cat="block", ord="top left") == 0


def test_a_question_never_asks_what_the_instruction_settled() -> None:
    assert ask(SCENE, [0, 3]) == (
        "Do you mean the block in the top left box or the block in the bottom right box?"
    )
    assert "red" in ask(SCENE, [0, 1]) and "blue" in ask(SCENE, [0, 1])
    # "the red block" said the look: asking "the red or the blue one?" would not help
    asked = ask(SCENE, [0, 1], frozenset({"look"}))
    assert "blue" not in asked and "on the left" in asked and "on the right" in asked
    assert settled(_slots(cat="block", look="red")) == {"look"}
    assert settled(_slots(cat="block", box="br", size="small")) == {"box", "size"}


def test_questions_name_each_option_by_its_own_kind_and_answers_may_deny() -> None:
    asked = ask(SCENE, [1, 2], frozenset({"look"}))  # a blue block and a white mug, both tl
    assert "block" in asked and "mug" in asked, asked
    with torch.no_grad():
        prior = torch.tensor([0.5, 0.0, 0.0, 0.5, 0.0]) + 1e-6
        fit = answer_score(_slots(not_box="tl"), SCENE, prior)  # "not the one in the top left"
        assert int((prior.log() + fit).argmax()) == 3
