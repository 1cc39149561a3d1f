"""Instructions: every way of referring to the target (by its words, its box, a relation to a
landmark, an extreme of its kind in the scene or in its box, what it is not, or a description of
its shape, material, parts or use), wrapped in a sentence that names the destination. Each comes
with the slots the reader learns and tags naming the phrasings that made it."""

from collections.abc import Callable

import numpy as np

from otemachi.picking.catalog import CATALOG, DESCRIPTIONS
from otemachi.picking.language import (
    BOX_WORDS,
    CONTAINERS,
    CORNERS,
    DEST_FORMS,
    ORDINALS,
    SIZE_EXTREMES,
    VAGUE,
    VERBS,
    Ctx,
    Instruction,
    box_phrase,
    clarify,
    colour_word,
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


def _key(ctx: Ctx, o: ObjectSpec, word: str) -> float:
    """How far ``o`` goes in the direction (or size) that ``word`` names."""
    x, y = ctx.where[o.id]
    if word in ORDINALS:
        axis, sign = ORDINALS[word]
        return sign * (x, y)[axis]
    if word in CORNERS:
        sx, sy = CORNERS[word]
        return (sx * x + sy * y) / np.sqrt(2)
    large = float((o.size or "small") == "large")
    return large if word == "largest" else -large


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
            ranked = sorted(((_key(ctx, o, word), o.id) for o in pool), reverse=True)
            if len(pool) >= 2 and ranked[0][1] == t.id and ranked[0][0] - ranked[1][0] > margin:
                return _say_extreme(ctx, t, tags, word, (vague, color, len(pool)), in_box)
    return None


def _say_extreme(ctx: Ctx, t: ObjectSpec, tags: dict[str, str], word: str,
                 kind: tuple[bool, str | None, int], in_box: bool) -> str:  # fmt: skip
    vague, color, among = kind
    tags["ordinal"] = word
    ctx.slots["ord"] = word
    noun = phrase(ctx, t, color, None, tags, vague=vague)
    box = ""
    if in_box:
        ctx.slots["box"] = t.box
        box = box_phrase(ctx, t.box)
        if word in EDGES and ctx.rng.random() < 0.5:
            form = tags["extreme_form"] = ctx.pick(EDGE_FORMS)
            return form.format(n=noun, e=EDGES[word], b=box)
    many, two = EXTREME_FORMS[word]
    form = tags["extreme_form"] = ctx.pick(two if among == 2 else many)
    ref = form.format(n=noun, ns=plural(noun))
    return f"{ref} in the {box}" if in_box else ref


def ref_ordinal(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    return _extreme(ctx, t, tags, tuple(ORDINALS), in_box=False)


def ref_comparison(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    return _extreme(ctx, t, tags, SIZE_EXTREMES, in_box=False)


def ref_position(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    return _extreme(ctx, t, tags, (*ORDINALS, *CORNERS), in_box=True)


NEGATIONS = {
    "look": ("the {n} that isn't {v}", "the {n} that is not {v}", "the non-{v} {n}",
             "the {n} which isn't {v}", "the {n} that isn't the {v} one"),
    "size": ("the {n} that isn't {v}", "the {n} that is not {v}", "the {n} which is not {v}",
             "the {n} that isn't the {v} one"),
    "box": ("the {n} that isn't in the {v}", "the {n} not in the {v}",
            "the {n} that is not in the {v}"),
    "cat": ("the {n} in the {b} that isn't a {v}", "the {n} in the {b} that is not a {v}",
            "the {n} in the {b} which isn't a {v}"),
}  # fmt: skip
# two values denied at once ("the ball that is neither white nor black")
DOUBLE_NEGATIONS = {
    "look": ("the {n} that is neither {v} nor {w}", "the {n} that isn't {v} or {w}",
             "the {n} that's not {v} and not {w}", "the {n} that is not {v} or {w}"),
    "box": ("the {n} that is neither in the {v} nor in the {w}",
            "the {n} not in the {v} or the {w}"),
    "cat": ("the {n} in the {b} that is neither a {v} nor a {w}",
            "the {n} in the {b} that isn't a {v} or a {w}"),
}  # fmt: skip
# a look or a size and a box denied together
MIXED_NEGATIONS = ("the {n} that is neither {v} nor in the {w}",
                   "the {n} that isn't {v} and isn't in the {w}",
                   "the {n} that is not {v} and not in the {w}")  # fmt: skip
# one of two, named by what it is not ("the other mug, not the red one")
OTHER_FORMS = {
    "look": ("the other {n}, not the {v} one", "not the {v} {n} but the other one"),
    "size": ("the other {n}, not the {v} one", "not the {v} {n} but the other one"),
    "box": ("the other {n}, not the one in the {v}",),
}


def _denied(ctx: Ctx, what: str, pool: list[ObjectSpec], t: ObjectSpec,
            value: Callable[[ObjectSpec], str | None]) -> tuple[str, ...] | None:  # fmt: skip
    """One value (or two: 35% of the time, where the pool has them) that every other object of
    ``pool`` has and ``t`` has not."""
    others = sorted(v for v in {value(o) for o in pool if o.id != t.id} - {value(t)} if v)
    options: list[tuple[str, ...]] = [(v,) for v in others]
    pairs: list[tuple[str, ...]] = [(v, w) for i, v in enumerate(others) for w in others[i + 1 :]]
    if what in DOUBLE_NEGATIONS and pairs and ctx.rng.random() < 0.35:
        options = pairs
    for vs in options:
        if [o.id for o in pool if value(o) not in vs] == [t.id]:
            return vs
    return None


def _neither_nor(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    """ "the ring that is neither small nor in the top right box": a look or size and a box,
    both needed to single ``t`` out of its kind."""
    same = [o for o in ctx.spec.objects if o.category == t.category]
    options = [
        (what, v, b)
        for what, value in (("look", colour_word), ("size", lambda o: o.size or "small"))
        for v in sorted(x for x in {value(o) for o in same} - {value(t)} if x)
        for b in sorted({o.box for o in same} - {t.box})
        if [o.id for o in same if value(o) != v and o.box != b] == [t.id]
        and len([o for o in same if value(o) != v]) > 1
        and len([o for o in same if o.box != b]) > 1
    ]
    if not options:
        return None
    what, v, b = options[int(ctx.rng.integers(len(options)))]
    tags["negation"] = f"{what} and box"
    ctx.slots.update({f"not_{what}": v, "not_box": b})
    noun = phrase(ctx, t, None, None, tags)
    form = tags["negation_form"] = ctx.pick(MIXED_NEGATIONS)
    return form.format(n=noun, v=v, w=box_phrase(ctx, b))


def ref_negation(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    """ "the mug that isn't blue", "the ball that is neither white nor black", "the other duck,
    not the large one": what ``t`` is not singles it out of its kind (or of its box, for "the
    thing in the top right box that isn't a can")."""
    if ctx.rng.random() < 0.3 and (mixed := _neither_nor(ctx, t, tags)) is not None:
        return mixed
    same = [o for o in ctx.spec.objects if o.category == t.category]
    in_box = [o for o in ctx.spec.objects if o.box == t.box]
    values = {
        "look": (same, lambda o: colour_word(o)),
        "size": (same, lambda o: o.size or "small"),
        "box": (same, lambda o: o.box),
        "cat": (in_box, lambda o: o.category),
    }
    for what in map(str, ctx.rng.permutation(list(values))):
        pool, value = values[what]
        vs = _denied(ctx, what, pool, t, value)
        if vs is None:
            continue
        tags["negation"] = what
        ctx.slots[f"not_{what}"] = "|".join(vs)
        noun = phrase(ctx, t, None, None, tags, vague=what == "cat")
        box = box_phrase(ctx, t.box)
        said = list(vs)
        if what == "box":
            said = [box_phrase(ctx, v) for v in vs]
        if what == "cat":
            said = [ctx.pick((v, *CATALOG[v].synonyms)) for v in vs]
            ctx.slots["box"] = t.box
        forms = NEGATIONS[what]
        if len(vs) == 2:
            forms = DOUBLE_NEGATIONS[what]
        elif what in OTHER_FORMS and len(pool) == 2 and ctx.rng.random() < 0.3:
            forms = OTHER_FORMS[what]
        form = tags["negation_form"] = ctx.pick(forms)
        return form.format(n=noun, v=said[0], w=said[-1], b=box)
    return None


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


# "There are two ducks. Leave the yellow one alone and move the other one to ...": a pair is set
# up, one of it set aside, and the other is the target.
PAIR_SETUPS = ("there are two {ns}{where}.", "i see two {ns}{where}.", "we have two {ns}{where}.",
               "the {b} has two {ns}.", "")  # fmt: skip
SET_ASIDE = ("leave {e} alone and {verb} the other one {dest}",
             "leave {e} where it is and {verb} the other one {dest}",
             "not {e}, the other one: {verb} it {dest}", "not {e}. the other one goes {dest}",
             "{e} stays; {verb} the other one {dest}", "skip {e} and {verb} the other {n} {dest}",
             "not {e}. {verb} the other one {dest}")  # fmt: skip
# "leave the one on the left" leaves the target as the extreme the other way
SIDES = {"leftmost": "on the left", "rightmost": "on the right", "topmost": "at the top",
         "bottommost": "at the bottom"}  # fmt: skip
OPPOSITE = {"leftmost": "rightmost", "rightmost": "leftmost", "topmost": "bottommost",
            "bottommost": "topmost"}  # fmt: skip


def _set_aside(ctx: Ctx, t: ObjectSpec, e: ObjectSpec) -> str | None:
    """How to name ``e``, the one of the pair that is not the target, and the slots that say
    what the target is then."""
    ways: list[tuple[str, str, str]] = []
    col = colour_word(e)
    if col and col != colour_word(t):
        ways.append(("look", col, f"the {col} one"))
    if (e.size or "small") != (t.size or "small"):
        ways.append(("size", e.size or "small", f"the {e.size or 'small'} one"))
    if e.box != t.box:
        ways.append(("box", e.box, f"the one in the {box_phrase(ctx, e.box)}"))
    for word, said in SIDES.items():
        if _key(ctx, e, word) - _key(ctx, t, word) > 0.03:
            ways.append(("ord", OPPOSITE[word], f"the one {said}"))
    if not ways:
        return None
    what, value, said = ways[int(ctx.rng.integers(len(ways)))]
    ctx.slots["ord" if what == "ord" else f"not_{what}"] = value
    return said


def _pair_setup(ctx: Ctx, t: ObjectSpec, e: ObjectSpec, noun: str, tags: dict[str, str]) -> str:
    """ "There are two yellow ducks in the top left box.": what the pair shares may be said, and
    then says it of the target too."""
    same_box = e.box == t.box
    setup = tags["pair_setup"] = ctx.pick([f for f in PAIR_SETUPS if same_box or "{b}" not in f])
    col, size = colour_word(t), t.size or "small"
    kind = plural(noun)
    if col and col == colour_word(e) and ctx.rng.random() < 0.5:
        kind = f"{col} {kind}"
        if setup:  # said only when there is a sentence to say it in
            ctx.slots["look"] = col
    elif size == (e.size or "small") and ctx.rng.random() < 0.3:
        kind = f"{size} {kind}"
        if setup:
            ctx.slots["size"] = size
    box, where = box_phrase(ctx, t.box), ""
    if same_box and ("{b}" in setup or ("{where}" in setup and ctx.rng.random() < 0.5)):
        ctx.slots["box"] = t.box  # "there are two ducks in the top left box"
        where = f" in the {box}"
    return setup.format(ns=kind, where=where, b=box)


def other_sentence(ctx: Ctx, t: ObjectSpec, dest: str, tags: dict[str, str]) -> str | None:
    """ "There are two ducks in the top left box. Leave the one on the left alone and move the
    other one to the bottom right box": the whole instruction, since the pair comes first."""
    kind = [o for o in ctx.spec.objects if o.category == t.category]
    if len(kind) != 2:
        return None
    e = kind[0] if kind[1].id == t.id else kind[1]
    said = _set_aside(ctx, t, e)
    if said is None:
        return None
    noun = phrase(ctx, t, None, None, tags)
    first = _pair_setup(ctx, t, e, noun, tags)
    # with no pair set up, the noun comes later: "skip the red one and move the other duck"
    form = tags["set_aside"] = ctx.pick(
        SET_ASIDE if first else [f for f in SET_ASIDE if "{n}" in f]
    )
    verb = tags["verb"] = ctx.pick(VERBS)
    dest_form = tags["dest_form"] = ctx.pick(DEST_FORMS[:3])
    there = dest_form.format(b=ctx.pick(BOX_WORDS[dest]), c=ctx.pick(CONTAINERS[:3]))
    text = f"{first} {form.format(e=said, verb=verb, n=noun, dest=there)}".strip()
    return text[0].upper() + text[1:]


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
    return Instruction(sentence(ctx, found, dest, tags), target, dest, tags, slots=dict(ctx.slots))


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
