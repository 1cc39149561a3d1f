"""Instructions: every way of referring to the target (by its words, its box, a relation to a
landmark, an extreme of its kind in the scene or in its box, what it is not, or a description of
its shape, material, parts or use), wrapped in a sentence that names the destination. Each comes
with the slots the reader learns and tags naming the phrasings that made it."""

from collections.abc import Callable

import numpy as np

from otemachi.picking.answers import clarify
from otemachi.picking.catalog import DESCRIPTIONS
from otemachi.picking.denials import other_sentence, ref_negation
from otemachi.picking.language import (
    CORNERS,
    COUNTS,
    ORDINALS,
    SIZE_EXTREMES,
    VAGUE,
    Ctx,
    Instruction,
    box_phrase,
    colour_word,
    count_first,
    group_names,
    key,
    matches,
    minimal,
    phrase,
    plural,
    ref_attribute,
    ref_box,
    ref_relation,
    sentence,
)
from otemachi.picking.scenes import ObjectSpec, SceneSpec, layout


def _corner(c: str) -> tuple[str, ...]:
    return (f"the {{n}} in the {c} corner", f"the {c} {{n}}", f"the {{n}} nearest the {c} corner")


# How people say "the extreme one": forms for any number of candidates, and for exactly two.
EXTREME_FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "leftmost": (
        ("the leftmost {n}", "the left-most {n}", "the {n} furthest to the left",
         "the {n} on the far left"),
        ("the {n} further to the left", "the {n} on the left", "the left {n}"),
    ),
    "rightmost": (
        ("the rightmost {n}", "the right-most {n}", "the {n} furthest to the right",
         "the {n} on the far right"),
        ("the {n} further to the right", "the {n} on the right", "the right {n}"),
    ),
    "topmost": (
        ("the topmost {n}", "the highest {n}", "the uppermost {n}", "the {n} nearest the top"),
        ("the higher of the two {ns}", "the upper {n}", "the {n} further up"),
    ),
    "bottommost": (
        ("the bottommost {n}", "the lowest {n}", "the {n} nearest the bottom"),
        ("the lower of the two {ns}", "the {n} further down", "the lower {n}"),
    ),
    "largest": (
        ("the largest {n}", "the biggest {n}", "the largest of the {ns}"),
        ("the bigger {n}", "the larger of the two {ns}", "the bigger of the two {ns}"),
    ),
    "smallest": (
        ("the smallest {n}", "the tiniest {n}", "the smallest of the {ns}"),
        ("the smaller {n}", "the smaller of the two {ns}", "the littler {n}"),
    ),
    **{c: (_corner(c),) * 2 for c in CORNERS},
}  # fmt: skip
# "the block at the top of the top left box": where an extreme lies inside a box
EDGES = {"leftmost": "left", "rightmost": "right", "topmost": "top", "bottommost": "bottom"}
EDGE_FORMS = ("the {n} at the {e} of the {b}", "the {n} closest to the {e} edge of the {b}",
              "the {n} on the {e} side of the {b}")  # fmt: skip


def _extreme(ctx: Ctx, t: ObjectSpec, tags: dict[str, str], words: tuple[str, ...],
             in_box: bool) -> str | None:  # fmt: skip
    """ "the leftmost red mug", "the bigger of the two ducks", "the block at the top of the top
    left box": ``t`` as the extreme of its kind (in its box when ``in_box``)."""
    objs = [o for o in ctx.spec.objects if o.box == t.box or not in_box]
    kinds = [(True, None)] if in_box else []  # "the thing at the top of the top left box"
    for word in map(str, ctx.rng.permutation(list(words))):
        margin = 0.5 if word in SIZE_EXTREMES else 0.02
        for vague, color in [*kinds, (False, None), (False, colour_word(t))]:
            pool = [o for o in objs if vague or matches(o, t.category, color, None)]
            ranked = sorted(((key(ctx, o, word), o.id) for o in pool), reverse=True)
            if len(pool) >= 2 and ranked[0][1] == t.id and ranked[0][0] - ranked[1][0] > margin:
                return _say_extreme(ctx, t, tags, word, (vague, color, len(pool)), in_box)
    return None


def _say_extreme(ctx: Ctx, t: ObjectSpec, tags: dict[str, str], word: str,
                 kind: tuple[bool, str | None, int], in_box: bool) -> str:  # fmt: skip
    vague, color, among = kind
    tags["ordinal"] = word
    ctx.slots["ord"] = word
    noun = phrase(
        ctx, t, color, None, tags, vague=vague, noun=None if vague else ctx.pick(group_names(t))
    )
    box = ""
    if in_box:
        ctx.slots["box"] = t.box
        box = box_phrase(ctx, t.box)
    many, two = EXTREME_FORMS[word]
    forms = two if among == 2 else many
    if not vague and among in COUNTS and ctx.rng.random() < 0.2:
        count_first(ctx, tags, among, noun, box)  # "There are three ducks in the top left box."
        form = tags["extreme_form"] = ctx.pick([f for f in forms if "{ns}" not in f])
        return form.format(n="one")
    if in_box and word in EDGES and ctx.rng.random() < 0.5:
        form = tags["extreme_form"] = ctx.pick(EDGE_FORMS)
        return form.format(n=noun, e=EDGES[word], b=box)
    form = tags["extreme_form"] = ctx.pick(forms)
    ref = form.format(n=noun, ns=plural(noun))
    return f"{ref} in the {box}" if in_box else ref


def ref_ordinal(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    return _extreme(ctx, t, tags, tuple(ORDINALS), in_box=False)


def ref_comparison(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    return _extreme(ctx, t, tags, SIZE_EXTREMES, in_box=False)


def ref_position(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    return _extreme(ctx, t, tags, (*ORDINALS, *CORNERS), in_box=True)


ANIMALS = frozenset({"duck", "teddy bear", "rabbit"})  # "the animal with long ears"


def ref_description(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    """ "the triangular thing", "the red thing with a handle", "the bath toy": a description of
    its shape, material, parts or use, or another everyday name of its kind, instead of its
    noun."""
    part = ctx.pick(list(DESCRIPTIONS[t.category]))
    said = ctx.pick(DESCRIPTIONS[t.category][part])
    # "plastic" fits a prism and a lego brick: the words must single it out among both
    alike = frozenset(c for c, d in DESCRIPTIONS.items() if said in d[part])
    m = minimal(t, list(ctx.spec.objects), alike)
    if m is None:
        return None
    tags["description"] = said
    head = ctx.pick((*VAGUE, "animal") if t.category in ANIMALS else VAGUE)
    noun = {
        "shape": f"{said} {head}",
        "material": f"{said} {head}",
        "parts": f"{head} with {said}",
        "use": f"{head} {said}",
        "kind": said,
    }[part]
    return "the " + phrase(ctx, t, *m, tags, noun=noun)


REFERENCES: dict[str, Callable[[Ctx, ObjectSpec, dict[str, str]], str | None]] = {
    "attribute": ref_attribute,
    "box": ref_box,
    "relation": ref_relation,
    "ordinal": ref_ordinal,
    "comparison": ref_comparison,
    "position": ref_position,
    "negation": ref_negation,
    "description": ref_description,
}


def generate(
    spec: SceneSpec, target: str, dest: str, rng: np.random.Generator, template: str | None = None
) -> Instruction | None:
    """One instruction moving ``target`` to ``dest`` with ``template`` (a key of REFERENCES or
    "ambiguous"; random if None). None if that template cannot refer to the target here."""
    ctx = Ctx(spec, rng, layout(spec))
    t = spec.by_id(target)
    chosen = template or ctx.pick([*REFERENCES, "other", "ambiguous"])
    tags = {"template": chosen}
    if chosen == "ambiguous":
        pool = [o for o in spec.objects if o.category == t.category]
        if len(pool) < 2:
            return None
        ref = "the " + phrase(ctx, t, None, None, tags)
        text = sentence(ctx, ref, dest, tags)
        answer, said = clarify(ctx, t, pool)
        return Instruction(text, target, dest, tags, True, answer, dict(ctx.slots), said)
    if chosen == "other":
        whole = other_sentence(ctx, t, dest, tags)
        tags["sentence"] = "pair set aside"
        if whole is None:
            return None
        return Instruction(whole, target, dest, tags, slots=dict(ctx.slots))
    found = REFERENCES[chosen](ctx, t, tags)
    if found is None:
        return None
    text = sentence(ctx, found, dest, tags)
    return Instruction(text, target, dest, tags, slots=dict(ctx.slots))


def instructions_for(
    spec: SceneSpec, target: str, dest: str, rng: np.random.Generator, k: int = 3
) -> list[Instruction]:
    """Up to ``k`` instructions for one target, each from a different template that works."""
    out = []
    for template in rng.permutation([*REFERENCES, "other", "ambiguous"]):
        got = generate(spec, target, dest, rng, str(template))
        if got is not None:
            out.append(got)
        if len(out) == k:
            break
    return out
