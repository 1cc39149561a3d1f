from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from otemachi.core.errors import InvalidInput
from otemachi.core.seeding import rng
from otemachi.signatures import preprocess, synth


def _sample(seed: int) -> np.ndarray:
    r = rng(seed, "test-signatures")
    return synth.render(synth.vary(synth.writer_style(r), r), r)


def test_generator_is_deterministic_under_a_seed() -> None:
    assert np.array_equal(_sample(1), _sample(1))
    assert not np.array_equal(_sample(1), _sample(2))


def test_genuine_samples_are_closer_than_forgeries() -> None:
    r = rng(4, "test-signatures")
    dists = {"genuine": [], "forged": []}  # type: dict[str, list[float]]
    for _ in range(8):
        style = synth.writer_style(r)
        ref = preprocess.preprocess(synth.render(synth.vary(style, r), r))
        gen = preprocess.preprocess(synth.render(synth.vary(style, r), r))
        forged, tremor = synth.forge(style, r)
        fake = preprocess.preprocess(synth.render(forged, r, tremor=tremor))
        dists["genuine"].append(float(np.abs(ref - gen).mean()))
        dists["forged"].append(float(np.abs(ref - fake).mean()))
    assert np.mean(dists["genuine"]) < np.mean(dists["forged"])


@pytest.mark.parametrize("shape", [(90, 300), (600, 400), (40, 1200)])
def test_preprocess_any_size_and_colour(shape: tuple[int, int]) -> None:
    img = np.asarray(Image.fromarray(_sample(3)).resize(shape[::-1]))
    out = preprocess.preprocess(img)
    assert out.shape == preprocess.CROP and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0.2  # ink is bright
    border = np.concatenate([out[0], out[-1], out[:, 0], out[:, -1]])
    assert border.max() == 0  # the crop cut no ink
    colour = np.stack([img, img, img], axis=-1)
    np.testing.assert_allclose(preprocess.preprocess(colour), out, atol=1e-6)


def test_preprocess_refuses_blank_and_tiny() -> None:
    with pytest.raises(InvalidInput, match="blank"):
        preprocess.preprocess(np.full((100, 200), 240, np.uint8))
    with pytest.raises(InvalidInput, match="at least 8x8"):
        preprocess.preprocess(np.zeros((4, 4), np.uint8))


def test_read_image_refuses_non_images_and_huge(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a readable image"):
        preprocess.read_image(b"%PDF-1.4 definitely not a png")
    with pytest.raises(InvalidInput, match="cannot open"):
        preprocess.read_image(tmp_path / "absent.png")
    huge = tmp_path / "huge.png"
    Image.new("L", (8000, 6000), 255).save(huge)
    with pytest.raises(InvalidInput, match="too large"):
        preprocess.read_image(huge)
    ok = tmp_path / "ok.png"
    Image.fromarray(_sample(5)).save(ok)
    assert preprocess.read_image(ok).shape == _sample(5).shape
