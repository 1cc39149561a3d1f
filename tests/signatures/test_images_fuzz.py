"""Property tests: any image file or array a user gives decodes or fails with our own error."""

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from otemachi.core.errors import OtemachiError
from otemachi.signatures import data, preprocess
from tests.fuzz import FUZZ, outcome

# PIL warns about damaged metadata it skips; that is its business, not a failure here
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _encoded(fmt: str) -> bytes:
    ramp = np.tile(np.arange(0, 240, 8, dtype=np.uint8), (20, 1))
    buf = io.BytesIO()
    Image.fromarray(ramp).save(buf, format=fmt)
    return buf.getvalue()


VALID = [_encoded(f) for f in ("PNG", "JPEG", "BMP", "TIFF", "GIF")]


@st.composite
def damaged_images(draw: st.DrawFn) -> bytes:
    """A valid image with a few bytes changed, cut short, or random bytes behind its header."""
    blob = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 6))):
        blob[draw(st.integers(0, len(blob) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(1, len(blob)))
    return bytes(blob[:cut]) + draw(st.binary(max_size=40))


@FUZZ
@given(blob=st.one_of(damaged_images(), st.binary(max_size=400)))
def test_any_bytes_decode_or_fail_with_our_error(blob: bytes) -> None:
    result = outcome(lambda: preprocess.read_image(blob))
    if not isinstance(result, OtemachiError):
        assert result.dtype == np.uint8 and result.ndim == 2


@FUZZ
@given(blob=damaged_images())
def test_a_folder_corpus_with_damaged_files_fails_with_our_error(blob: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        genuine = Path(tmp) / "w1" / "genuine"
        genuine.mkdir(parents=True)
        (genuine / "001.png").write_bytes(blob)
        corpus = data.open_dataset(Path(tmp))
        outcome(lambda: [preprocess.preprocess(img) for img in corpus.iter_genuine("w1")])


arrays = hnp.arrays(
    dtype=st.sampled_from([np.uint8, np.int16, np.float32, np.float64, np.bool_, np.complex64]),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=24),
)


@FUZZ
@given(image=arrays)
def test_any_array_preprocesses_or_fails_with_our_error(image: np.ndarray) -> None:
    result = outcome(lambda: preprocess.preprocess(image))
    if not isinstance(result, OtemachiError):
        assert result.shape == preprocess.CROP and np.isfinite(result).all()
        assert result.min() >= 0 and result.max() <= 1
