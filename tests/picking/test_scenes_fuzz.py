"""Property tests: any scene spec a user writes parses or fails with our own error."""

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from otemachi.core.errors import OtemachiError
from otemachi.picking import scenes
from otemachi.picking.catalog import CATALOG, COLORS, SIZE_SCALES
from otemachi.picking.world import BOXES
from tests.fuzz import FUZZ, json_values, maybe, outcome

objects = st.fixed_dictionaries(
    {
        "id": maybe(st.sampled_from(["o1", "o2", "o3"])),
        "category": maybe(st.sampled_from(sorted(CATALOG))),
        "color": maybe(st.none() | st.sampled_from(sorted(COLORS))),
        "size": maybe(st.none() | st.sampled_from(sorted(SIZE_SCALES))),
        "box": maybe(st.sampled_from(BOXES)),
        "x": maybe(st.floats(0, 1)),
        "y": maybe(st.floats(0, 1)),
    }
)
specs = st.one_of(
    st.fixed_dictionaries({"objects": st.lists(maybe(objects), max_size=12)}),
    json_values,
)


def _nested(depth: int) -> str:
    return '{"objects": ' + "[" * depth + "]" * depth + "}"


@FUZZ
@given(spec=specs)
def test_any_spec_parses_or_fails_with_our_error(spec: Any) -> None:
    result = outcome(lambda: scenes.parse(spec))
    if not isinstance(result, OtemachiError):
        assert 1 <= len(result.objects) == len(spec["objects"])
        assert scenes.parse(result.to_dict()) == result


@FUZZ
@given(
    spec=specs, blob=st.binary(max_size=200), depth=st.integers(1, 100_000), pick=st.integers(0, 2)
)
def test_any_spec_file_loads_or_fails_with_our_error(
    spec: Any, blob: bytes, depth: int, pick: int
) -> None:
    content = [json.dumps(spec).encode(), blob, _nested(depth).encode()][pick]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.json"
        path.write_bytes(content)
        outcome(lambda: scenes.load_spec(path))
