"""Property tests: any episodes file a user writes reads or fails with our own error."""

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from otemachi.core.errors import OtemachiError
from otemachi.picking import episodes
from otemachi.picking.world import BOXES
from tests.fuzz import FUZZ, json_values, maybe, outcome

SCENE = {
    "objects": [
        {"id": "o1", "category": "duck", "box": "tl", "x": 0.2, "y": 0.3},
        {"id": "o2", "category": "mug", "color": "red", "box": "br", "x": 0.5, "y": 0.5},
    ]
}
lines = st.fixed_dictionaries(
    {
        "scene": maybe(st.just(SCENE)),
        "instruction": maybe(st.sampled_from(["move the duck to the top right box", " "])),
        "target": maybe(st.sampled_from(["o1", "o2", "o9"])),
        "destination": maybe(st.sampled_from(BOXES)),
    },
    optional={
        "id": maybe(st.text(max_size=5)),
        "clarification": maybe(st.none() | st.text(max_size=10)),
        "tags": maybe(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)),
        "split": maybe(st.sampled_from(["seen", "unseen"])),
    },
)
encoded = st.one_of(
    lines.map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=80),
    st.integers(1, 50_000).map(lambda n: b"[" * n + b"]" * n),
)


@FUZZ
@given(content=st.lists(encoded, min_size=1, max_size=4))
def test_any_episodes_file_reads_or_fails_with_our_error(content: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ep.jsonl"
        path.write_bytes(b"\n".join(c.replace(b"\n", b" ") for c in content))
        result: Any = outcome(lambda: list(episodes.read(path)))
        if not isinstance(result, OtemachiError):
            for ep in result:
                assert ep.destination in BOXES and ep.instruction.strip()
                assert all(isinstance(v, str) for v in ep.tags.values())
                ep.scene.by_id(ep.target)
