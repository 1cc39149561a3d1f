"""Shared pieces of the property tests that feed parsers malformed input."""

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from otemachi.core.errors import OtemachiError

T = TypeVar("T")

# Fast and reproducible: no example database on disk; the autouse OTEMACHI_HOME fixture is
# function-scoped but nothing the parsers do depends on it.
FUZZ = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=12)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid value, sometimes any JSON value at all."""
    return st.one_of(valid, valid, json_values)


@contextlib.contextmanager
def own_error_or_success() -> Iterator[None]:
    """The block either succeeds or raises an OtemachiError with a message; nothing else."""
    try:
        yield
    except OtemachiError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"


def outcome(fn: Callable[[], T]) -> T | OtemachiError:
    """``fn()``, or the OtemachiError it raised (checked to carry a message)."""
    try:
        return fn()
    except OtemachiError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return exc
