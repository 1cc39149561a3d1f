"""SigNet-style preprocessing as pure numpy: remove background, centre, resize, invert, crop."""

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy.ndimage import gaussian_filter

from otemachi.core.errors import InvalidInput

MAX_PIXELS = 40_000_000  # about a 600-dpi A4 page; anything larger is refused before decoding
RESIZE = (170, 242)  # SigNet: resize to 170 x 242 ...
CROP = (150, 220)  # ... then centre-crop to 150 x 220


def read_image(source: str | Path | bytes) -> np.ndarray:
    """Decode a file path or bytes into a grayscale uint8 array, refusing non-images and
    absurdly large images with a clear error."""
    name = "upload" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes) and Path(source).is_dir():
        raise InvalidInput(f"{name} is a folder; give the path of an image file")
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot open ({exc.strerror})") from exc
    with handle:
        try:
            img = Image.open(handle)
            w, h = img.size
        except UnidentifiedImageError as exc:
            raise InvalidInput(f"{name}: not a readable image (unknown or damaged format)") from exc
        except Image.DecompressionBombError as exc:
            raise InvalidInput(f"{name}: too large to decode ({exc})") from exc
        except OSError as exc:
            raise InvalidInput(f"{name}: not a readable image ({exc})") from exc
        except Exception as exc:  # a damaged file can make a PIL plugin raise almost anything
            raise InvalidInput(f"{name}: not a readable image (damaged: {exc!r})") from exc
        if w * h > MAX_PIXELS:
            raise InvalidInput(f"{name}: {w}x{h} pixels is too large (limit {MAX_PIXELS:,})")
        try:
            return np.asarray(img.convert("L"))
        except Exception as exc:  # the header was fine, the pixel data is not
            raise InvalidInput(f"{name}: not a readable image (damaged: {exc!r})") from exc


def otsu(gray: np.ndarray) -> float:
    """Otsu's threshold of a uint8 image."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(float)
    p = hist / hist.sum()
    omega, mu = np.cumsum(p), np.cumsum(p * np.arange(256))
    between = (mu[-1] * omega - mu) ** 2 / np.clip(omega * (1 - omega), 1e-12, None)
    return float(np.argmax(between))


def _gray(image: np.ndarray) -> np.ndarray:
    """A 2-D array of finite values in [0, 255]; colour (H, W, 3 or 4) is converted."""
    if image.dtype.kind not in "biuf":
        raise InvalidInput(f"expected an image of numbers, got an array of {image.dtype}")
    if image.size and not np.isfinite(image).all():
        raise InvalidInput("the image holds NaN or infinite pixel values")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    elif image.ndim == 3 and image.shape[2] in (3, 4):  # colour arrays are accepted and converted
        rgb = np.clip(image[..., :3], 0, 255).astype(np.uint8)
        image = np.asarray(Image.fromarray(rgb).convert("L"))
    if image.ndim != 2 or min(image.shape) < 8:
        raise InvalidInput(f"expected a 2-D image of at least 8x8 pixels, got shape {image.shape}")
    return np.clip(image.astype(float), 0, 255)


def preprocess(
    gray: np.ndarray, resize: tuple[int, int] = RESIZE, crop: tuple[int, int] = CROP
) -> np.ndarray:
    """Grayscale scan (any size, ink darker than paper) -> float32 (crop) in [0, 1], ink high.

    Steps: denoise lightly, Otsu-threshold the ink, set the background to white, crop to the
    ink's bounding box, centre it with a margin on a white canvas of the target aspect ratio,
    resize, invert, centre-crop.
    """
    gray = _gray(np.asarray(gray))
    smooth = gaussian_filter(gray.astype(float), 1.0)
    if smooth.max() - smooth.min() < 10:
        raise InvalidInput("the image is blank: no ink found")
    thr = otsu(smooth.astype(np.uint8))
    ink = smooth <= thr
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    clean = np.where(ink, gray, 255).astype(np.uint8)[
        rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1
    ]
    h, w = clean.shape
    target = resize[0] / resize[1]
    canvas_h, canvas_w = (h, round(h / target)) if h / w > target else (round(w * target), w)
    margin = 1.05 * max(resize[0] / crop[0], resize[1] / crop[1])  # the crop must keep all ink
    canvas_h, canvas_w = round(canvas_h * margin), round(canvas_w * margin)
    canvas = np.full((canvas_h, canvas_w), 255, np.uint8)
    top, left = (canvas_h - h) // 2, (canvas_w - w) // 2
    canvas[top : top + h, left : left + w] = clean
    small = np.asarray(Image.fromarray(canvas).resize(resize[::-1], Image.Resampling.BILINEAR))
    inverted = 255 - small.astype(np.float32)
    dy, dx = (resize[0] - crop[0]) // 2, (resize[1] - crop[1]) // 2
    return inverted[dy : dy + crop[0], dx : dx + crop[1]] / 255.0
