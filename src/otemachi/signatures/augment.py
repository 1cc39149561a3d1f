"""Views of a reference signature: what a real signature undergoes between two signings and two
scans (a small rotation and shear, elastic distortion of the strokes, thicker or thinner ink,
blur, scan noise). Embedded by the base, they give a person's model tens of points to learn from
instead of one to five.

``views`` makes them on the scan itself, before preprocessing, so that every view is cropped,
centred and scaled exactly as a real scan is: the base learns from those. ``prepared_views``
makes the same distortions on prepared images, all of a person's views in one batch, for a
person's fit, where a preprocessing per view would cost more than the fit allows."""

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
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


# A prepared pixel (``model.prepare``: the ink's box brought to 75 x 110) is about 3.2 pixels of
# a first-generator scan, so lengths, and the noise left after averaging, shrink by this much.
SCALE = 0.3


def prepared_views(
    x: torch.Tensor, counts: Sequence[int], gen: np.random.Generator
) -> torch.Tensor:
    """``counts[i]`` views of each prepared image ``x[i]`` ((N, 1, H, W) in [0, 1], ink high),
    as one (sum(counts), 1, H, W) tensor of x's dtype, image by image, drawn from ``gen``.

    As ``views`` at ``SCALE``, with two differences: blur is left out (at most a fifth of a
    prepared pixel), and noise falls on the ink only, as preprocessing whitens the paper."""
    if x.ndim != 4 or x.shape[1] != 1 or len(counts) != len(x):
        raise ValueError(
            f"expected {len(counts)} prepared images (N, 1, H, W), got {tuple(x.shape)}"
        )
    src = x[torch.from_numpy(np.repeat(np.arange(len(x)), counts))].to("cpu", torch.float32)
    n, _, h, w = src.shape
    if n == 0:
        return src
    a = np.deg2rad(gen.uniform(-ROTATE, ROTATE, n))
    shear = gen.uniform(-SHEAR, SHEAR, n)
    rotate = np.stack(
        [np.stack([np.cos(a), -np.sin(a)], 1), np.stack([np.sin(a), np.cos(a)], 1)], 1
    )
    shears = np.zeros((n, 2, 2))
    shears[:, 0, 0] = shears[:, 1, 1] = 1.0
    shears[:, 1, 0] = shear
    inverse = torch.from_numpy(np.linalg.inv(rotate @ shears)).float()  # output -> source (y, x)
    most, sigma = ELASTIC[0] * SCALE, ELASTIC[1] * SCALE
    cells = gen.uniform(
        -1, 1, (n, 2, int(np.ceil(h / (4 * sigma))) + 1, int(np.ceil(w / (4 * sigma))) + 1)
    )
    field = F.interpolate(
        torch.from_numpy(cells).float(), (h, w), mode="bicubic", align_corners=True
    )
    field = most * field / field.abs().amax((2, 3), keepdim=True).clamp(min=1e-12)
    half = torch.tensor([(h - 1) / 2, (w - 1) / 2])
    yx = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij"), -1) - half
    source = torch.einsum("nij,hwj->nhwi", inverse, yx.float()) + field.permute(0, 2, 3, 1) + half
    grid = (source / (2 * half) * 2 - 1).flip(-1)  # grid_sample wants (x, y) in [-1, 1]
    out = F.grid_sample(src, grid, mode="bicubic", padding_mode="zeros", align_corners=True)
    thick = torch.from_numpy(gen.uniform(-0.5, 1, n)).float()[:, None, None, None]
    grown = torch.where(thick > 0, F.max_pool2d(out, 3, 1, 1), -F.max_pool2d(-out, 3, 1, 1))
    out = out + thick.abs() * SCALE / 2 * (grown - out)  # about a scan pixel in all, as views'
    sd = torch.from_numpy(gen.uniform(0, NOISE * SCALE, n)).float()[:, None, None, None]
    noise = torch.from_numpy(gen.standard_normal((n, 1, h, w))).float() * sd
    return (out + noise * (out > 0)).clamp(0.0, 1.0).to(x)  # x's dtype and device
