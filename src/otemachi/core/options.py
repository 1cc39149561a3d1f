"""Parsing of comma-separated command-line values shared by the systems' CLIs."""

from otemachi.core.errors import InvalidInput

SEED_MAX = 2**32 - 1  # the largest seed every consumer takes (scikit-learn's random_state)


def choices(
    text: str, allowed: list[str], what: str, everything: list[str] | None = None
) -> list[str]:
    """``a,b`` or ``all`` (meaning ``everything``, default all of ``allowed``) -> checked names,
    each at most once."""
    items = (everything or allowed) if text == "all" else [t.strip() for t in text.split(",")]
    bad = [t for t in items if t not in allowed]
    if bad:
        raise InvalidInput(f"unknown {what} {bad}; choose from {[*allowed, 'all']}")
    repeated = sorted({t for t in items if items.count(t) > 1})
    if repeated:
        raise InvalidInput(f"{what} {repeated} given more than once; name each once")
    return items


def one(text: str, allowed: list[str], what: str) -> str:
    """A single name from ``allowed``."""
    if text not in allowed:
        raise InvalidInput(f"{what} must be one of {allowed}, got {text!r}")
    return text


def ints(text: str, flag: str, low: int = 1, high: int | None = None) -> tuple[int, ...]:
    """``1,5,20`` -> sorted unique integers within [low, high]."""
    try:
        values = tuple(sorted({int(v) for v in text.split(",")}))
    except ValueError as exc:
        raise InvalidInput(f"{flag} must be comma-separated integers, got {text!r}") from exc
    if values[0] < low or (high is not None and values[-1] > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low} (positive)"
        raise InvalidInput(f"{flag} must lie {bound}, got {text!r}")
    return values
