"""The words of instructions: the phrasings of boxes, verbs, relations and extremes, how an object
is named ("[size] [colour] noun", or a vague "thing" when where it lies says which), spatial
relations, and whole sentences, plain or chatty (filler, politeness, the destination first, two
sentences). ``instructions`` builds instructions from these; ``answers`` answers "which one?"."""

from dataclasses import dataclass, field

import numpy as np

from otemachi.picking.catalog import CATALOG, LOOKS, SIZES
from otemachi.picking.scenes import ObjectSpec, SceneSpec

BOX_WORDS = {
    "tl": ("top left", "upper left", "top-left", "left top"),
    "tr": ("top right", "upper right", "top-right", "right top"),
    "bl": ("bottom left", "lower left", "bottom-left", "left bottom"),
    "br": ("bottom right", "lower right", "bottom-right", "right bottom"),
}
CONTAINERS = ("box", "bin", "tray", "corner")
IN_FORM = "in the {b} {c}"  # only where it cannot say where the target lies: see _says_in
DEST_FORMS = ("to the {b} {c}", "into the {b} {c}", "over to the {b} {c}", IN_FORM)
SENTENCES = (
    "{verb} {ref} {dest}",
    "please {verb} {ref} {dest}",
    "pick up {ref} and put it {dest}",
    "could you {verb} {ref} {dest}?",
    "{ref} goes {dest}",
    "{dest}, {verb} {ref}",
    "{ref}, {verb} it {dest}",
    "see {ref}? {verb} it {dest}",
    "{ref}. {verb} it {dest}.",
    "can you {verb} {ref} {dest} for me",
    "i'd like {ref} moved {dest}",
)
OPENINGS = ("um", "uh", "ok so", "hey robot,", "hi there,", "right,", "so basically", "alright,")
CLOSINGS = ("please", "thanks", "thank you", "if you can", "for me please", "cheers")
VERBS = ("move", "put", "place", "bring", "take", "drop", "transfer")
VAGUE = ("thing", "object", "one", "item", "toy")  # nouns that say nothing about the category
SIZE_WORDS = {"small": ("small", "little"), "large": ("large", "big")}  # what people call a size
# a sentence that first says how many of a kind there are ("There are three ducks in the top left
# box. Move the one on the far left ..."); {k} is the number in words
SETUPS = ("there are {k} {ns}{where}.", "i see {k} {ns}{where}.", "we have {k} {ns}{where}.",
          "the {b} has {k} {ns}.")  # fmt: skip
COUNTS = {2: "two", 3: "three", 4: "four"}
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
CORNERS = {
    "top left": (-1, 1),
    "top right": (1, 1),
    "bottom left": (-1, -1),
    "bottom right": (1, -1),
}
SIZE_EXTREMES = ("largest", "smallest")
# the values of the "ord" slot: the extreme of the target's kind along a direction or in size
EXTREMES = (*ORDINALS, *SIZE_EXTREMES, *CORNERS)


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
    "not_cat",
    "not_look",
    "not_size",
    "not_box",
    "not_ord",
    "l1_cat",
    "l1_look",
    "l1_size",
    "l2_cat",
    "l2_look",
    "l2_size",
)


@dataclass
class Ctx:
    spec: SceneSpec
    rng: np.random.Generator
    where: dict[str, tuple[float, float]] = field(default_factory=dict)
    slots: dict[str, str] = field(default_factory=dict)
    before: str = ""  # a sentence said before the instruction (see SETUPS)

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]


def colour_word(o: ObjectSpec) -> str | None:
    """What people call its colour: the spec's, or the natural look's."""
    cat = CATALOG[o.category]
    return o.color or (cat.describe or cat.natural)


def matches(o: ObjectSpec, cat: str, color: str | None, size: str | None) -> bool:
    return (
        o.category == cat
        and (color is None or colour_word(o) == color)
        and (size is None or (o.size or "small") == size)
    )


def minimal(
    target: ObjectSpec, pool: list[ObjectSpec], kinds: frozenset[str] = frozenset()
) -> tuple[str | None, str | None] | None:
    """The fewest attributes (colour, size) that single out ``target`` in ``pool`` among objects
    of its category (and of ``kinds``: categories the words could also mean)."""
    col, size = colour_word(target), target.size or "small"
    same = [o for o in pool if o.category == target.category or o.category in kinds]
    for c, s in ((None, None), (col, None), (None, size), (col, size)):
        if sum(matches(o, o.category, c, s) for o in same) == 1:
            return c, s
    return None


def names(o: ObjectSpec) -> tuple[str, ...]:
    """What ``o`` may be called: its category's name and synonyms."""
    cat = CATALOG[o.category]
    if o.color:  # a red soccer ball is no "black and white ball"
        return tuple(n for n in (cat.name, *cat.synonyms) if not _says_look(n))
    return (cat.name, *cat.synonyms)


def _says_look(name: str) -> bool:
    return any(look in name for look in LOOKS)


def group_names(o: ObjectSpec) -> tuple[str, ...]:
    """What several of ``o``'s kind are called together: no name that says a look (the others
    may be red: "two black and white balls" would be wrong) and not "box" (the boxes are where
    things go)."""
    cat = CATALOG[o.category]
    return tuple(n for n in (cat.name, *cat.synonyms) if n != "box" and not _says_look(n))


def phrase(
    ctx: Ctx,
    o: ObjectSpec,
    color: str | None,
    size: str | None,
    tags: dict[str, str],
    role: str = "",
    vague: bool = False,
    noun: str | None = None,
) -> str:
    """ "[size] [colour] noun" for ``o``; its slots are recorded under ``role`` ("" = target).
    ``vague``: "thing" or the like instead of its noun; ``noun``: these words instead."""
    noun = noun or ctx.pick(VAGUE if vague else names(o))
    tags.setdefault("noun", noun)
    ctx.slots.update(
        {
            f"{role}cat": "none" if vague else o.category,
            f"{role}look": color or "none",
            f"{role}size": size or "none",
        }
    )
    words = [w for w in (size and size_word(ctx, size), color, noun) if w]
    return " ".join(words)


def size_word(ctx: Ctx, size: str) -> str:
    """ "big" or "large", "little" or "small"."""
    return ctx.pick(SIZE_WORDS[size])


def ref_attribute(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    m = minimal(t, list(ctx.spec.objects))
    if m is None:
        return None
    color, size = m
    if color and size and ctx.rng.random() < 0.4:  # "the mug that is red and large"
        noun = phrase(ctx, t, None, None, tags)
        ctx.slots.update(look=color, size=size)
        said = size_word(ctx, size)
        first, second = (color, said) if ctx.rng.random() < 0.5 else (said, color)
        tags["coordination"] = "and"
        return f"the {noun} that is {first} and {second}"
    kind = [o for o in ctx.spec.objects if o.category == t.category]
    if len(kind) in COUNTS and ctx.rng.random() < 0.2:  # "There are two mugs. Move the blue one"
        tags["noun"] = noun = ctx.pick(group_names(t))
        count_first(ctx, tags, len(kind), noun)
        return "the " + phrase(ctx, t, color, size, tags, noun="one")
    return "the " + phrase(ctx, t, color, size, tags)


def count_first(ctx: Ctx, tags: dict[str, str], n: int, noun: str, box: str = "") -> None:
    """Say first how many ``noun``s there are (in the box named ``box``, if any): "There are
    three ducks in the top left box." comes before the instruction."""
    setup = tags["setup"] = ctx.pick([f for f in SETUPS if box or "{b}" not in f])
    where = f" in the {box}" if box else ""
    ctx.before = setup.format(k=COUNTS[n], ns=plural(noun), where=where, b=box)


def plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def key(ctx: Ctx, o: ObjectSpec, word: str) -> float:
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


def box_phrase(ctx: Ctx, box: str) -> str:
    """ "top left box", "lower right bin": where an object lies (never "corner")."""
    return f"{ctx.pick(BOX_WORDS[box])} {ctx.pick(CONTAINERS[:3])}"


def ref_box(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    m = minimal(t, [o for o in ctx.spec.objects if o.box == t.box])
    if m is None:
        return None
    where = box_phrase(ctx, t.box)
    ctx.slots["box"] = t.box
    return f"the {phrase(ctx, t, *m, tags)} in the {where}"


def holds(
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


def twins(t: ObjectSpec, objs: list[ObjectSpec]) -> list[tuple[ObjectSpec, ObjectSpec, str]]:
    """Pairs that "the two [colour or size] Xs" names: the only two of their kind (of that
    colour or size) in the scene, ``t`` not one of them; with the word said ("" for none)."""
    out = []
    for cat in sorted({o.category for o in objs}):
        kind = [o for o in objs if o.category == cat]
        colours = sorted({colour_word(o) or "" for o in kind} - {""})
        sizes = sorted({o.size or "small" for o in kind})
        for col, size in [(None, None), *((c, None) for c in colours), *((None, z) for z in sizes)]:
            two = [o for o in kind if matches(o, cat, col, size)]
            if len(two) == 2 and t.id not in {o.id for o in two}:
                out.append((two[0], two[1], col or size or ""))
    return out


def _at(ctx: Ctx, pair: tuple[ObjectSpec, ObjectSpec, str]) -> tuple[tuple[float, float], ...]:
    return ctx.where[pair[0].id], ctx.where[pair[1].id]


def _landmark(ctx: Ctx, a: ObjectSpec, role: str, objs: list[ObjectSpec]) -> str:
    return "the " + phrase(ctx, a, *(minimal(a, objs) or (None, None)), {}, role)


def ref_relation(ctx: Ctx, t: ObjectSpec, tags: dict[str, str]) -> str | None:
    objs = list(ctx.spec.objects)
    rel = ctx.pick(list(RELATIONS))
    two = [p for p in twins(t, objs) if holds("between", ctx.where[t.id], *_at(ctx, p))]
    if two and ctx.rng.random() < 0.5:  # "between the two purple balls", where it can be said
        rel = "between"
    # landmarks that their noun, colour and size single out
    others = [o for o in objs if o.id != t.id and minimal(o, objs) is not None]
    ctx.rng.shuffle(others)
    vague = bool(ctx.rng.random() < 0.3)  # "the thing next to ...": the relation alone says which
    same = objs if vague else [o for o in objs if o.category == t.category]
    pairs: list[tuple[ObjectSpec, ObjectSpec | None, str | None]] = [
        (a, next((o for o in others if o.id not in (a.id, t.id)), None), None)
        if rel == "between"
        else (a, None, None)
        for a in others[:6]
    ]
    if rel == "between" and two and ctx.rng.random() < 0.7:
        pairs = [two[int(i)] for i in ctx.rng.permutation(len(two))]
    for a, b, which in pairs:
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
                and holds(rel, ctx.where[o.id], ctx.where[a.id], second)
            ]
            ok = [o.id for o in hits] == [t.id]
        if ok:
            said = ctx.pick(RELATIONS[rel])
            tags.update(relation=rel, relation_phrase=said)
            ctx.slots["rel"] = rel
            if which is not None:  # both landmarks in one plural: "the two big jenga blocks"
                size = which if which in SIZES else None
                words = phrase(ctx, a, None if size else which or None, size, {}, "l1_").split()
                ctx.slots.update({f"l2_{k}": ctx.slots[f"l1_{k}"] for k in ("cat", "look", "size")})
                tags["landmarks"] = "the two"
                land = " ".join(["the two", *words[:-1], plural(words[-1])])
            else:
                land = _landmark(ctx, a, "l1_", objs)
                if b is not None:
                    land += " and " + _landmark(ctx, b, "l2_", objs)
            return f"the {phrase(ctx, t, None, None, tags, vague=vague)} {said} {land}"
    return None


def _says_in(frame: str, verb: str) -> bool:
    """Whether "in the … box" names the destination in this frame: after "put", "place", "drop"
    or "goes", never first ("in the top right box, take the duck" says where the duck is)."""
    if frame.startswith("{dest}") or "moved" in frame:
        return False
    return "put it" in frame or "goes" in frame or verb in ("put", "place", "drop")


def sentence(ctx: Ctx, ref: str, dest: str, tags: dict[str, str]) -> str:
    """A whole instruction moving what ``ref`` names to the box ``dest``; a third of them open
    or close with filler or politeness."""
    frame, verb = ctx.pick(SENTENCES), ctx.pick(VERBS)
    forms = DEST_FORMS if _says_in(frame, verb) else tuple(f for f in DEST_FORMS if f != IN_FORM)
    form = ctx.pick(forms)
    # "in the top left corner" would read as where the target lies
    cont = ctx.pick(CONTAINERS[:3] if form == IN_FORM else CONTAINERS)
    word = ctx.pick(BOX_WORDS[dest])
    tags.update(dest_form=form, container=cont, box_word=word, sentence=frame, verb=verb)
    text = frame.format(verb=verb, ref=ref, dest=form.format(b=word, c=cont))
    if ctx.before:  # "there are two mugs. Move the blue one ..."
        text = f"{ctx.before} {text[0].upper()}{text[1:]}"
    if ctx.rng.random() < 0.2:  # "hi there, there are two mugs. ..."
        tags["opening"] = ctx.pick(OPENINGS)
        text = f"{tags['opening']} {text}"
    if ctx.rng.random() < 0.2:
        tags["closing"] = ctx.pick(CLOSINGS)
        text = f"{text.rstrip('.?')}, {tags['closing']}"
    return text[0].upper() + text[1:]
