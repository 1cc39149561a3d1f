"""Instruction generator: varied English that names the target uniquely where it can (by
category or synonym, colour, size, box, a spatial relation to a landmark, or an ordinal), varied
destination phrasing, deliberately ambiguous instructions with the answer that resolves them, and
a tag on every instruction naming the template and phrasings that made it."""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from otemachi.picking.catalog import CATALOG
from otemachi.picking.scenes import ObjectSpec, SceneSpec, layout

BOX_WORDS = {
    "tl": ("top left", "upper left", "top-left", "left top"),
    "tr": ("top right", "upper right", "top-right", "right top"),
    "bl": ("bottom left", "lower left", "bottom-left", "left bottom"),
    "br": ("bottom right", "lower right", "bottom-right", "right bottom"),
}
CONTAINERS = ("box", "bin", "tray", "corner")
DEST_FORMS = ("to the {b} {c}", "into the {b} {c}", "over to the {b} {c}")
SENTENCES = (
    "{verb} {ref} {dest}",
    "please {verb} {ref} {dest}",
    "pick up {ref} and put it {dest}",
    "could you {verb} {ref} {dest}?",
    "{ref} goes {dest}",
)
VERBS = ("move", "put", "place", "bring", "take", "drop", "transfer")
RELATIONS = {  # the relation -> the ways people say it
    "next to": ("next to", "beside", "near"),
    "left of": ("left of", "to the left of"),
    "right of": ("right of", "to the right of"),
    "above": ("above", "just above"),
    "below": ("below", "just below"),
    "closest to": ("closest to", "nearest to"),
    "between": ("between", "in between"),
}
ORDINALS = {"leftmost": (0, -1), "rightmost": (0, 1), "topmost": (1, 1), "bottommost": (1, -1)}


@dataclass(frozen=True)
class Instruction:
    text: str
    target: str
    destination: str
    tags: dict[str, str]  # template, noun, relation, dest_form, container, sentence, ...
    ambiguous: bool = False
    clarification: str | None = None
    slots: dict[str, str] = field(default_factory=dict)  # what the words say: see SLOTS
    answer_slots: dict[str, str] = field(default_factory=dict)  # what the clarification says


# What an instruction or answer says about the target and its landmarks; the grounding model
# learns to read these from the words. A slot an instruction does not fill is "none".
SLOTS = (
    "cat",
    "look",
    "size",
    "box",
    "rel",
    "ord",
    "side",
    "l1_cat",
    "l1_look",
    "l2_cat",
    "l2_look",
)


@dataclass
class _Ctx:
    spec: SceneSpec
    rng: np.random.Generator
    where: dict[str, tuple[float, float]] = field(default_factory=dict)
    slots: dict[str, str] = field(default_factory=dict)

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]


def colour_word(o: ObjectSpec) -> str | None:
    """What people call its colour: the spec's, or the natural look's."""
    cat = CATALOG[o.category]
    return o.color or (cat.describe or cat.natural)


def _matches(o: ObjectSpec, cat: str, color: str | None, size: str | None) -> bool:
    return (
        o.category == cat
        and (color is None or colour_word(o) == color)
        and (size is None or (o.size or "small") == size)
    )


def _minimal(target: ObjectSpec, pool: list[ObjectSpec]) -> tuple[str | None, str | None] | None:
    """The fewest attributes (colour, size) that single out ``target`` in ``pool``."""
    col, size = colour_word(target), target.size or "small"
    for c, s in ((None, None), (col, None), (None, size), (col, size)):
        if sum(_matches(o, target.category, c, s) for o in pool) == 1:
            return c, s
    return None


def _phrase(
    ctx: _Ctx,
    o: ObjectSpec,
    color: str | None,
    size: str | None,
    tags: dict[str, str],
    role: str = "",
) -> str:
    """ "[size] [colour] noun" for ``o``; its slots are recorded under ``role`` ("" = target)."""
    cat = CATALOG[o.category]
    noun = ctx.pick((cat.name, *cat.synonyms))
    tags.setdefault("noun", noun)
    ctx.slots.update({f"{role}cat": o.category, f"{role}look": color or "none"})
    if not role:
        ctx.slots["size"] = size or "none"
    words = [w for w in (size, color, noun) if w]
    return " ".join(words)


def _ref_attribute(ctx: _Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    m = _minimal(t, list(ctx.spec.objects))
    return None if m is None else "the " + _phrase(ctx, t, *m, tags)


def _ref_box(ctx: _Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    m = _minimal(t, [o for o in ctx.spec.objects if o.box == t.box])
    if m is None:
        return None
    where = f"{ctx.pick(BOX_WORDS[t.box])} {ctx.pick(CONTAINERS[:3])}"
    ctx.slots["box"] = t.box
    return f"the {_phrase(ctx, t, *m, tags)} in the {where}"


def _holds(
    rel: str, t: tuple[float, float], a: tuple[float, float], b: tuple[float, float] | None
) -> bool:
    dx, dy = t[0] - a[0], t[1] - a[1]
    if rel == "left of":
        return dx < -0.02 and abs(dy) < 0.04
    if rel == "right of":
        return dx > 0.02 and abs(dy) < 0.04
    if rel == "above":
        return dy > 0.02 and abs(dx) < 0.04
    if rel == "below":
        return dy < -0.02 and abs(dx) < 0.04
    if rel == "next to":
        return float(np.hypot(dx, dy)) < 0.07
    if rel == "between" and b is not None:
        seg = np.subtract(b, a)
        u = float(np.dot(np.subtract(t, a), seg) / max(np.dot(seg, seg), 1e-9))
        off = np.subtract(t, np.add(a, u * seg))
        return 0.2 < u < 0.8 and float(np.hypot(*off)) < 0.03
    return False


def _ref_relation(ctx: _Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    objs = list(ctx.spec.objects)
    rel = ctx.pick(list(RELATIONS))
    # landmarks that their noun and at most a colour single out
    others = [o for o in objs if o.id != t.id and (_minimal(o, objs) or (0, 0))[1] is None]
    ctx.rng.shuffle(others)
    same = [o for o in objs if o.category == t.category]
    for a in others[:6]:
        b = (
            next((o for o in others if o.id not in (a.id, t.id)), None)
            if rel == "between"
            else None
        )
        if rel == "closest to":
            d = {
                o.id: np.hypot(*np.subtract(ctx.where[o.id], ctx.where[a.id]))
                for o in same
                if o.id != a.id
            }
            ok = bool(d) and min(d, key=lambda k: d[k]) == t.id
        else:
            second = ctx.where[b.id] if b else None
            hits = [
                o
                for o in same
                if o.id not in (a.id, b.id if b else "")
                and _holds(rel, ctx.where[o.id], ctx.where[a.id], second)
            ]
            ok = [o.id for o in hits] == [t.id]
        if ok:
            said = ctx.pick(RELATIONS[rel])
            tags.update(relation=rel, relation_phrase=said)
            ctx.slots["rel"] = rel
            land = "the " + _phrase(ctx, a, (_minimal(a, objs) or (None,))[0], None, {}, "l1_")
            if b is not None:
                land += " and the " + _phrase(
                    ctx, b, (_minimal(b, objs) or (None,))[0], None, {}, "l2_"
                )
            return f"the {_phrase(ctx, t, None, None, tags)} {said} {land}"
    return None


def _ref_ordinal(ctx: _Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    word = ctx.pick(list(ORDINALS))
    axis, sign = ORDINALS[word]
    for color in (None, colour_word(t)):
        pool = [o for o in ctx.spec.objects if _matches(o, t.category, color, None)]
        if len(pool) >= 2:
            best = max(pool, key=lambda o: sign * ctx.where[o.id][axis])
            vals = sorted(sign * ctx.where[o.id][axis] for o in pool)
            if best.id == t.id and vals[-1] - vals[-2] > 0.02:
                tags["ordinal"] = word
                ctx.slots["ord"] = word
                return f"the {word} {_phrase(ctx, t, color, None, tags)}"
    return None


REFERENCES: dict[str, Callable[[_Ctx, ObjectSpec, dict[str, str]], str | None]] = {
    "attribute": _ref_attribute,
    "box": _ref_box,
    "relation": _ref_relation,
    "ordinal": _ref_ordinal,
}


ANSWERS = {  # how people answer "which one?"
    "look": ("the {v} one", "{v}", "the {v} {noun}", "I mean the {v} one"),
    "size": ("the {v} one", "{v}", "the {v} {noun}"),
    "box": ("the one in the {v} box", "the one in the {v} bin", "the {v} one"),
    "side": ("the one on the {v}", "the {v} one", "the one further {v}"),
}


def _clarify(ctx: _Ctx, t: ObjectSpec, pool: list[ObjectSpec]) -> tuple[str, dict[str, str]]:
    """A short answer that picks ``t`` out of the confusable ``pool``, and its slots."""
    col, size = colour_word(t), t.size or "small"
    xs = {o.id: ctx.where[o.id][0] for o in pool}
    side = "left" if min(xs, key=lambda k: xs[k]) == t.id else None
    side = "right" if max(xs, key=lambda k: xs[k]) == t.id else side
    if col and sum(colour_word(o) == col for o in pool) == 1:
        slot, value, said = "look", col, col
    elif sum((o.size or "small") == size for o in pool) == 1:
        slot, value, said = "size", size, size
    elif sum(o.box == t.box for o in pool) == 1 or side is None:
        slot, value, said = "box", t.box, ctx.pick(BOX_WORDS[t.box])
    else:
        slot, value, said = "side", side, side
    noun = ctx.pick((CATALOG[t.category].name, *CATALOG[t.category].synonyms))
    text = ctx.pick(ANSWERS[slot]).format(v=said, noun=noun)
    return text, {slot: value}


def _sentence(ctx: _Ctx, ref: str, dest: str, tags: dict[str, str]) -> str:
    form, cont, word = ctx.pick(DEST_FORMS), ctx.pick(CONTAINERS), ctx.pick(BOX_WORDS[dest])
    sentence, verb = ctx.pick(SENTENCES), ctx.pick(VERBS)
    tags.update(dest_form=form, container=cont, box_word=word, sentence=sentence, verb=verb)
    text = sentence.format(verb=verb, ref=ref, dest=form.format(b=word, c=cont))
    return text[0].upper() + text[1:]


def generate(
    spec: SceneSpec, target: str, dest: str, rng: np.random.Generator, template: str | None = None
) -> Instruction | None:
    """One instruction moving ``target`` to ``dest`` with ``template`` ("attribute", "box",
    "relation", "ordinal" or "ambiguous"; random if None). None if that template cannot refer to
    the target in this scene."""
    ctx = _Ctx(spec, rng, layout(spec))
    t = spec.by_id(target)
    chosen = template or ctx.pick([*REFERENCES, "ambiguous"])
    tags = {"template": chosen}
    if chosen == "ambiguous":
        pool = [o for o in spec.objects if o.category == t.category]
        if len(pool) < 2:
            return None
        ref = "the " + _phrase(ctx, t, None, None, tags)
        text = _sentence(ctx, ref, dest, tags)
        answer, said = _clarify(ctx, t, pool)
        return Instruction(text, target, dest, tags, True, answer, dict(ctx.slots), said)
    found = REFERENCES[chosen](ctx, t, tags)
    if found is None:
        return None
    return Instruction(_sentence(ctx, found, dest, tags), target, dest, tags, slots=dict(ctx.slots))


def instructions_for(
    spec: SceneSpec, target: str, dest: str, rng: np.random.Generator, k: int = 3
) -> list[Instruction]:
    """Up to ``k`` instructions for one target, each from a different template that works."""
    out = []
    for template in rng.permutation([*REFERENCES, "ambiguous"]):
        got = generate(spec, target, dest, rng, str(template))
        if got is not None:
            out.append(got)
        if len(out) == k:
            break
    return out
