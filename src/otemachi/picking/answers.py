"""Answers to "which one?": the forms people answer in ("the red one", "the one in the top left
bin", "the one on the left"), and ``clarify``, the short answer that picks an object out of the
ones it may be confused with. The instruction generator's ambiguous episodes and the simulated
person (``person``) answer with it."""

from otemachi.picking.catalog import CATALOG
from otemachi.picking.language import BOX_WORDS, Ctx, colour_word, size_word
from otemachi.picking.scenes import ObjectSpec

ANSWERS = {  # how people answer "which one?"
    "look": ("the {v} one", "{v}", "the {v} {noun}", "I mean the {v} one"),
    "size": ("the {v} one", "{v}", "the {v} {noun}"),
    "box": ("the one in the {v} box", "the one in the {v} bin", "the {v} one"),
    "side": ("the one on the {v}", "the {v} one", "the one further {v}"),
}
# how people answer when the robot asked about other things than the one they meant
NAMING = {
    "look": "the {v} {noun}",
    "size": "the {v} {noun}",
    "box": "the {noun} in the {v} box",
    "side": "the {noun} on the {v}",
}


def clarify(
    ctx: Ctx, t: ObjectSpec, pool: list[ObjectSpec], naming: bool = False
) -> tuple[str, dict[str, str]]:
    """A short answer that picks ``t`` out of the confusable ``pool``, and its slots;
    ``naming``: say its noun ("the red mug", not "the red one")."""
    col, size = colour_word(t), t.size or "small"
    xs = {o.id: ctx.where[o.id][0] for o in pool}
    side = "left" if min(xs, key=lambda k: xs[k]) == t.id else None
    side = "right" if max(xs, key=lambda k: xs[k]) == t.id else side
    if col and sum(colour_word(o) == col for o in pool) == 1:
        slot, value, said = "look", col, col
    elif sum((o.size or "small") == size for o in pool) == 1:
        slot, value, said = "size", size, size_word(ctx, size)
    elif sum(o.box == t.box for o in pool) == 1 or side is None:
        slot, value, said = "box", t.box, ctx.pick(BOX_WORDS[t.box])
    else:
        slot, value, said = "side", side, side
    noun = ctx.pick((CATALOG[t.category].name, *CATALOG[t.category].synonyms))
    form = NAMING[slot] if naming else ctx.pick(ANSWERS[slot])
    return form.format(v=said, noun=noun), {slot: value}
