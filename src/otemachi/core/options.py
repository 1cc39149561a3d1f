"""Parsing of comma-separated command-line values shared by the systems' CLIs."""

from otemachi.core.errors import InvalidInput


def choices(
    text: str, allowed: list[str], what: str, everything: list[str] | None = None
) -> list[str]:
    """``a,b`` or ``all`` (meaning ``everything``, default all of ``allowed``) -> checked names."""
    items = (everything or allowed) if text == "all" else [t.strip() for t in text.split(",")]
    bad = [t for t in items if t not in allowed]
    if bad:
        raise InvalidInput(f"unknown {what} {bad}; choose from {[*allowed, 'all']}")
    return items


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
