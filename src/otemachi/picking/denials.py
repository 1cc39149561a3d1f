"""What the target is not: instructions that deny a look, a size, a box or a category ("the mug
that isn't blue", "the ball that is neither white nor black", "the ring that is neither small nor
in the top right box"), and whole instructions that set up a pair and set one of it aside ("There
are two ducks. Leave the one on the left alone and move the other one to ...")."""

from collections.abc import Callable
from operator import attrgetter

from otemachi.picking.catalog import CATALOG
from otemachi.picking.language import (
    BOX_WORDS,
    CONTAINERS,
    DEST_FORMS,
    SETUPS,
    VERBS,
    Ctx,
    box_phrase,
    colour_word,
    group_names,
    key,
    phrase,
    plural,
    size_word,
)
from otemachi.picking.scenes import ObjectSpec

NEGATIONS = {
    "look": ("the {n} that isn't {v}", "the {n} that is not {v}", "the non-{v} {n}",
             "the {n} which isn't {v}", "the {n} that isn't the {v} one"),
    "size": ("the {n} that isn't {v}", "the {n} that is not {v}", "the {n} which is not {v}",
             "the {n} that isn't the {v} one"),
    "box": ("the {n} that isn't in the {v}", "the {n} not in the {v}",
            "the {n} that is not in the {v}"),
    "cat": ("the {n} that isn't a {v}", "the {n} that is not a {v}", "the {n} which isn't a {v}"),
}  # fmt: skip
# two values denied at once ("the ball that is neither white nor black")
DOUBLE_NEGATIONS = {
    "look": ("the {n} that is neither {v} nor {w}", "the {n} that isn't {v} or {w}",
             "the {n} that's not {v} and not {w}", "the {n} that is not {v} or {w}"),
    "box": ("the {n} that is neither in the {v} nor in the {w}",
            "the {n} not in the {v} or the {w}"),
    "cat": ("the {n} that is neither a {v} nor a {w}", "the {n} that isn't a {v} or a {w}"),
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
    said = size_word(ctx, v) if what == "size" else v
    return form.format(n=noun, v=said, w=box_phrase(ctx, b))


def ref_negation(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    """ "the mug that isn't blue", "the ball that is neither white nor black", "the other duck,
    not the large one": what ``t`` is not singles it out of its kind, of its box ("the thing
    in the top right box that isn't a can", "... that isn't blue") or of its colour ("the blue
    thing that isn't a can")."""
    if ctx.rng.random() < 0.3 and (mixed := _neither_nor(ctx, t, tags)) is not None:
        return mixed
    objs, col = ctx.spec.objects, colour_word(t)
    same = [o for o in objs if o.category == t.category]
    in_box = [o for o in objs if o.box == t.box]
    alike = [o for o in objs if col and colour_word(o) == col]
    category = attrgetter("category")
    ways: dict[str, tuple[list[ObjectSpec], Callable[[ObjectSpec], str | None], str]] = {
        "look": (same, colour_word, "noun"),
        "size": (same, lambda o: o.size or "small", "noun"),
        "box": (same, lambda o: o.box, "noun"),
        "cat": (in_box, category, "box"),
        "look in box": (in_box, colour_word, "box"),
        "cat of look": (alike, category, "look"),
    }
    # a look in a box or a category of a colour works almost everywhere: tried half the time
    order = [w for w in map(str, ctx.rng.permutation(list(ways)))
             if w in NEGATIONS or ctx.rng.random() < 0.5]  # fmt: skip
    for what in order:
        pool, value, named = ways[what]
        kind = what.split()[0]  # the slot denied: not_look, not_cat, ...
        vs = _denied(ctx, kind, pool, t, value)
        if vs is None:
            continue
        tags["negation"] = what
        ctx.slots[f"not_{kind}"] = "|".join(vs)
        noun = phrase(ctx, t, col if named == "look" else None, None, tags, vague=named != "noun")
        if named == "box":
            ctx.slots["box"] = t.box
            noun = f"{noun} in the {box_phrase(ctx, t.box)}"
        said = {
            "box": lambda v: box_phrase(ctx, v),
            "cat": lambda v: ctx.pick((v, *CATALOG[v].synonyms)),
            "size": lambda v: size_word(ctx, v),
        }.get(kind, str)
        forms = NEGATIONS[kind]
        if len(vs) == 2:
            forms = DOUBLE_NEGATIONS[kind]
        elif named == "noun" and len(pool) == 2 and ctx.rng.random() < 0.3:
            forms = OTHER_FORMS[kind]
        form = tags["negation_form"] = ctx.pick(forms)
        return form.format(n=noun, v=said(vs[0]), w=said(vs[-1]))
    return None


# "There are two ducks. Leave the yellow one alone and move the other one to ...": a pair is set
# up, one of it set aside, and the other is the target.
PAIR_SETUPS = (*SETUPS, "")
SET_ASIDE = ("leave {e} alone and {verb} the other {o} {dest}",
             "leave {e} where it is and {verb} the other {o} {dest}",
             "leave {e} and {verb} the other {o} {dest}",
             "keep {e} where it is and {verb} the other {o} {dest}",
             "not {e}, the other {o}: {verb} it {dest}", "not {e}. the other {o} goes {dest}",
             "{e} stays; {verb} the other {o} {dest}", "{e} stays put, {verb} the other {o} {dest}",
             "{e} can stay. {verb} the other {o} {dest}",
             "{e} is fine where it is; {verb} the other {o} {dest}",
             "skip {e} and {verb} the other {n} {dest}", "{verb} the other {n}, not {e}, {dest}",
             "not {e}. {verb} the other {o} {dest}",
             # the one set aside said as a clause: "one is on the left; move the other one"
             "one {p}; {verb} the other {o} {dest}", "one of them {p}. {verb} the other {o} {dest}",
             "one {p}, so {verb} the other {o} {dest}",
             "one {n} {p}; {verb} the other {n} {dest}")  # fmt: skip
# one of a pair by its size: the extreme it is, and the words
COMPARED = {"large": ("largest", ("bigger", "larger")), "small": ("smallest", ("smaller",))}
# "leave the one on the left": the target is not the leftmost
SIDES = {"leftmost": (("on the left", "on the far left"), ("left",)),
         "rightmost": (("on the right", "on the far right"), ("right",)),
         "topmost": (("at the top", "higher up"), ("top", "upper")),
         "bottommost": (("at the bottom", "lower down"), ("bottom", "lower"))}  # fmt: skip


def _set_aside(ctx: Ctx, t: ObjectSpec, e: ObjectSpec, n: str) -> tuple[str, str] | None:
    """How to name ``e``, the one of the pair that is not the target, as a noun phrase ("the
    red one", "the big mug", "the left one") and as what "one" of them is ("is red", "is on the
    far left"); the slots say what the target is then."""
    ways: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = []
    col, size = colour_word(e), e.size or "small"
    names: tuple[str, ...]
    if col and col != colour_word(t):
        ways.append(("look", col, (f"the {col} one", f"the {col} {n}"), (f"is {col}",)))
    if size != (t.size or "small") and ctx.rng.random() < 0.5:
        w = size_word(ctx, size)
        names = (f"the {w} one", f"the {w} {n}")
        ways.append(("size", size, names, (f"is {w}", f"is the {w} one")))
    elif size != (t.size or "small"):  # "leave the bigger one": the target is not the largest
        extreme, words = COMPARED[size]
        w = ctx.pick(words)
        names = (f"the {w} one", f"the {w} {n}")
        ways.append(("ord", extreme, names, (f"is {w}",)))
    if e.box != t.box:
        b = box_phrase(ctx, e.box)
        names = (f"the one in the {b}", f"the {n} in the {b}")
        ways.append(("box", e.box, names, (f"is in the {b}",)))
    for word, (places, adjectives) in SIDES.items():
        if key(ctx, e, word) - key(ctx, t, word) > 0.03:
            at, adj = ctx.pick(places), ctx.pick(adjectives)
            names = (f"the one {at}", f"the {n} {at}", f"the {adj} one")
            ways.append(("ord", word, names, (f"is {at}",)))
    if not ways:
        return None
    what, value, names, predicates = ways[int(ctx.rng.integers(len(ways)))]
    ctx.slots[f"not_{what}"] = value
    return ctx.pick(names), ctx.pick(predicates)


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
        kind = f"{size_word(ctx, size)} {kind}"
        if setup:
            ctx.slots["size"] = size
    box, where = box_phrase(ctx, t.box), ""
    if same_box and ("{b}" in setup or ("{where}" in setup and ctx.rng.random() < 0.5)):
        ctx.slots["box"] = t.box  # "there are two ducks in the top left box"
        where = f" in the {box}"
    return setup.format(k="two", ns=kind, where=where, b=box)


def other_sentence(ctx: Ctx, t: ObjectSpec, dest: str, tags: dict[str, str]) -> str | None:
    """ "There are two ducks in the top left box. Leave the one on the left alone and move the
    other one to the bottom right box": the whole instruction, since the pair comes first."""
    kind = [o for o in ctx.spec.objects if o.category == t.category]
    if len(kind) != 2:
        return None
    e = kind[0] if kind[1].id == t.id else kind[1]
    noun = phrase(ctx, t, None, None, tags, noun=ctx.pick(group_names(t)))
    aside = _set_aside(ctx, t, e, noun)
    if aside is None:
        return None
    first = _pair_setup(ctx, t, e, noun, tags)
    # with no pair set up, the noun comes later: "skip the red one and move the other duck"
    form = tags["set_aside"] = ctx.pick(
        SET_ASIDE if first else [f for f in SET_ASIDE if "{n}" in f]
    )
    verb = tags["verb"] = ctx.pick(VERBS)
    dest_form = tags["dest_form"] = ctx.pick(DEST_FORMS[:3])
    there = dest_form.format(b=ctx.pick(BOX_WORDS[dest]), c=ctx.pick(CONTAINERS[:3]))
    other = ctx.pick(("one", noun))  # "move the other one", "move the other duck"
    said = form.format(e=aside[0], p=aside[1], verb=verb, n=noun, o=other, dest=there)
    text = f"{first} {said}".strip()
    return text[0].upper() + text[1:]
