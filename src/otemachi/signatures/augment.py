"""Views of a reference signature: what a real signature undergoes between two signings and two
scans (a small rotation and shear, elastic distortion of the strokes, thicker or thinner ink,
blur, scan noise). They are made on the scan itself, before preprocessing, so that every view is
cropped, centred and scaled exactly as a real scan is. Embedded by the base, they give a
person's model tens of points to learn from instead of one to five."""

import numpy as np
from scipy.ndimage import gaussian_filter, grey_dilation, grey_erosion, map_coordinates

POINTS = 24  # points a person's model learns from: references and their views together
ROTATE = 5.0  # degrees, either way
SHEAR = 0.15
ELASTIC = (3.0, 10.0)  # largest displacement and smoothness (Gaussian sigma), in scan pixels
BLUR = 0.6  # largest Gaussian sigma, in scan pixels
NOISE = 0.03  # largest standard deviation of scan noise (paper 0, ink 1)


def per_reference(n_refs: int) -> int:
    """Views made of each of ``n_refs`` references, so that a person has about ``POINTS``."""
    return max(POINTS // max(n_refs, 1) - 1, 0)


def views(scan: np.ndarray, n: int, gen: np.random.Generator) -> list[np.ndarray]:
    """``n`` views of a grayscale scan (H, W; ink darker than paper, 0-255), drawn from ``gen``,
    as uint8 scans of the same size."""
    if scan.ndim != 2:
        raise ValueError(f"expected a grayscale scan (H, W), got shape {scan.shape}")
    ink = 1.0 - np.asarray(scan, np.float64) / 255.0
    grid = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]].astype(np.float64)
    return [(255 * (1 - _view(ink, grid, gen))).round().astype(np.uint8) for _ in range(n)]


def _view(ink: np.ndarray, grid: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    h, w = ink.shape
    yy, xx = grid
    cy, cx = (h - 1) / 2, (w - 1) / 2
    a = np.deg2rad(gen.uniform(-ROTATE, ROTATE))
    rotate = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    shear = np.array([[1.0, 0.0], [gen.uniform(-SHEAR, SHEAR), 1.0]])
    inverse = np.linalg.inv(rotate @ shear)  # output pixel -> where it comes from
    src_y = cy + inverse[0, 0] * (yy - cy) + inverse[0, 1] * (xx - cx)
    src_x = cx + inverse[1, 0] * (yy - cy) + inverse[1, 1] * (xx - cx)
    most, sigma = ELASTIC
    for coords in (src_y, src_x):  # new arrays: the shared grid is left as it is
        field = gaussian_filter(gen.uniform(-1, 1, (h, w)), sigma, truncate=2.0)
        coords += most * field / max(np.abs(field).max(), 1e-12)
    out = map_coordinates(ink, [src_y, src_x], order=1, mode="constant", cval=0.0)
    thick = gen.uniform(-0.5, 1)  # > 0: thicker strokes, < 0: thinner (a blend of one pixel)
    grown = grey_dilation(out, size=(2, 2)) if thick > 0 else grey_erosion(out, size=(2, 2))
    out = out + abs(thick) * (grown - out)
    out = gaussian_filter(out, gen.uniform(0, BLUR))
    out = out + gen.normal(0, gen.uniform(0, NOISE), out.shape)
    return np.clip(out, 0.0, 1.0)
