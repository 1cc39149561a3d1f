"""The simulated tabletop: PyBullet (DIRECT, CPU), four boxes, catalog objects and a fixed
top-down camera giving RGB, depth and segmentation. Image x grows right (world +x), image y grows
down (world -y)."""

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pybullet_data

from otemachi.picking.bullet import pb
from otemachi.picking.catalog import CATALOG, COLORS, SIZE_SCALES

BOXES = ("tl", "tr", "bl", "br")
PRIMITIVES = {"box": pb.GEOM_BOX, "sphere": pb.GEOM_SPHERE, "cylinder": pb.GEOM_CYLINDER}
BOX_CENTER = {"tl": (-0.11, 0.11), "tr": (0.11, 0.11), "bl": (-0.11, -0.11), "br": (0.11, -0.11)}
BOX_INNER = 0.18  # inner side of a box, metres
WALL = (0.008, 0.03)  # wall thickness and height
CAMERA_HEIGHT = 1.0
VIEW_HALF = 0.24  # the camera sees world x, y in [-0.24, 0.24]
# Upright or readable-from-above base orientations (euler xyz) of some meshes.
BASE_ORIENTATION = {"ring": (math.pi / 2, 0, 0), "rabbit": (math.pi / 2, 0, 0)}


@dataclass(frozen=True)
class Camera:
    width: int = 320
    height: int = 320

    def matrices(self) -> tuple[list[float], list[float]]:
        view = pb.computeViewMatrix([0, 0, CAMERA_HEIGHT], [0, 0, 0], [0, 1, 0])
        fov = math.degrees(2 * math.atan(VIEW_HALF / CAMERA_HEIGHT))
        proj = pb.computeProjectionMatrixFOV(fov, self.width / self.height, 0.5, 1.5)
        return list(view), list(proj)


@dataclass(frozen=True)
class Frame:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) metres from the camera
    seg: np.ndarray  # (H, W) body id, -1 for nothing


def box_bounds(box: str) -> tuple[float, float, float, float]:
    """Inner (x0, x1, y0, y1) of a box in world metres."""
    cx, cy = BOX_CENTER[box]
    h = BOX_INNER / 2
    return cx - h, cx + h, cy - h, cy + h


class World:
    """One PyBullet client holding the table, the boxes and the objects."""

    def __init__(self, camera: Camera = Camera()) -> None:
        self.client = pb.connect(pb.DIRECT)
        self.camera = camera
        self._objects: list[int] = []
        pb.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=self.client)
        pb.setGravity(0, 0, -9.81, physicsClientId=self.client)
        self.floor = pb.loadURDF("plane.urdf", physicsClientId=self.client)
        pb.changeVisualShape(
            self.floor, -1, rgbaColor=[0.82, 0.78, 0.7, 1], physicsClientId=self.client
        )
        for box in BOXES:
            self._add_box(box)

    def close(self) -> None:
        pb.disconnect(self.client)

    def __enter__(self) -> "World":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _add_box(self, box: str) -> None:
        cx, cy = BOX_CENTER[box]
        t, h, half = WALL[0], WALL[1], BOX_INNER / 2 + WALL[0] / 2
        walls = [
            ((0, half, h / 2), (half + t / 2, t / 2, h / 2)),
            ((0, -half, h / 2), (half + t / 2, t / 2, h / 2)),
            ((half, 0, h / 2), (t / 2, half, h / 2)),
            ((-half, 0, h / 2), (t / 2, half, h / 2)),
        ]
        for pos, ext in walls:
            col = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=ext, physicsClientId=self.client)
            vis = pb.createVisualShape(
                pb.GEOM_BOX,
                halfExtents=ext,
                rgbaColor=[0.25, 0.25, 0.3, 1],
                physicsClientId=self.client,
            )
            pb.createMultiBody(
                0, col, vis, [cx + pos[0], cy + pos[1], pos[2]], physicsClientId=self.client
            )

    def add_object(
        self, category: str, color: str | None, size: str | None, x: float, y: float, yaw: float
    ) -> int:
        """Drop an object at world (x, y); returns its body id."""
        cat, factor = CATALOG[category], SIZE_SCALES[size or "small"]
        primitive = cat.source in PRIMITIVES
        scale = factor if primitive else cat.extent * factor / unit_extent(category)
        body = load_model(category, scale, [x, y, 0.08], yaw, self.client)
        lo, hi = pb.getAABB(body, physicsClientId=self.client)
        pos, orn = pb.getBasePositionAndOrientation(body, physicsClientId=self.client)
        # Put the middle of the object's footprint at (x, y) and its underside on the table.
        shift = [x - (lo[0] + hi[0]) / 2, y - (lo[1] + hi[1]) / 2, 0.002 - lo[2]]
        new = [p + d for p, d in zip(pos, shift, strict=True)]
        pb.resetBasePositionAndOrientation(body, new, orn, physicsClientId=self.client)
        name = color or cat.natural
        if name is not None and not (color is None and cat.describe):
            pb.changeVisualShape(
                body, -1, rgbaColor=[*COLORS[name], 1], physicsClientId=self.client
            )
        self._objects.append(body)
        pb.changeDynamics(
            body,
            -1,
            mass=0.1,
            lateralFriction=1.0,
            rollingFriction=0.002,
            spinningFriction=0.002,
            linearDamping=0.4,
            angularDamping=0.4,
            physicsClientId=self.client,
        )
        return body

    def objects(self) -> list[int]:
        """Body ids of every object added (not the boxes, floor or robot)."""
        return list(self._objects)

    def settle(self, steps: int = 120) -> None:
        for _ in range(steps):
            pb.stepSimulation(physicsClientId=self.client)

    def render(self) -> Frame:
        """RGB, depth (metres) and segmentation from the top-down camera."""
        view, proj = self.camera.matrices()
        w, h = self.camera.width, self.camera.height
        _, _, rgba, depth, seg = pb.getCameraImage(
            w, h, view, proj, renderer=pb.ER_TINY_RENDERER, physicsClientId=self.client
        )
        rgb = np.asarray(rgba, np.uint8).reshape(h, w, 4)[..., :3]
        zbuf = np.asarray(depth, np.float32).reshape(h, w)
        near, far = 0.5, 1.5
        metres = far * near / (far - (far - near) * zbuf)
        return Frame(rgb, metres, np.asarray(seg, np.int32).reshape(h, w))

    def position(self, body: int) -> tuple[float, float, float]:
        pos, _ = pb.getBasePositionAndOrientation(body, physicsClientId=self.client)
        return float(pos[0]), float(pos[1]), float(pos[2])

    def aabb(self, body: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
        lo, hi = pb.getAABB(body, physicsClientId=self.client)
        return tuple(lo), tuple(hi)


def load_model(category: str, scale: float, pos: list[float], yaw: float, client: int) -> int:
    """Load one catalog model into ``client`` at ``pos`` with ``yaw``; returns its body id."""
    cat = CATALOG[category]
    c = client
    euler = BASE_ORIENTATION.get(category, (0.0, 0.0, 0.0))
    orn = pb.getQuaternionFromEuler([euler[0], euler[1], euler[2] + yaw])
    if cat.source.startswith("urdf:"):
        return pb.loadURDF(cat.source[5:], pos, orn, globalScaling=scale, physicsClientId=c)
    if cat.source.startswith("mesh:"):
        kw: dict[str, Any] = {
            "fileName": cat.source[5:],
            "meshScale": [scale, scale, scale * cat.squash],
            "physicsClientId": c,
        }
        col, vis = (
            pb.createCollisionShape(pb.GEOM_MESH, **kw),
            pb.createVisualShape(pb.GEOM_MESH, **kw),
        )
        return pb.createMultiBody(0.1, col, vis, pos, orn, physicsClientId=c)
    e = cat.extent * scale
    shape = PRIMITIVES[cat.source]
    ckw: dict[str, Any]
    vkw: dict[str, Any]
    if cat.source == "box":
        ckw = vkw = {"halfExtents": [e / 2] * 3}
    elif cat.source == "sphere":
        ckw = vkw = {"radius": e / 2}
    else:  # the two calls name a cylinder's height differently
        ckw, vkw = (
            {"radius": e / 2, "height": e * cat.height},
            {"radius": e / 2, "length": e * cat.height},
        )
    col = pb.createCollisionShape(shape, physicsClientId=c, **ckw)
    vis = pb.createVisualShape(shape, physicsClientId=c, **vkw)
    return pb.createMultiBody(0.1, col, vis, pos, orn, physicsClientId=c)


@functools.cache
def unit_extent(category: str) -> float:
    """Largest horizontal side of a category's model at scale 1: a fixed fact of the installed
    pybullet_data files, measured once per process in a scratch client."""
    scratch = pb.connect(pb.DIRECT)
    try:
        pb.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=scratch)
        body = load_model(category, 1.0, [0, 0, 0], 0.0, scratch)
        lo, hi = pb.getAABB(body, physicsClientId=scratch)
    finally:
        pb.disconnect(scratch)
    return max(hi[0] - lo[0], hi[1] - lo[1])


def world_to_pixel(x: float, y: float, camera: Camera) -> tuple[float, float]:
    """Approximate pixel of a point on the table (perspective from 1 m; objects are low)."""
    return ((x / VIEW_HALF + 1) / 2 * camera.width, (1 - y / VIEW_HALF) / 2 * camera.height)


def bboxes(seg: np.ndarray, bodies: dict[str, int]) -> dict[str, tuple[int, int, int, int]]:
    """Ground-truth [x, y, w, h] pixel boxes from the segmentation mask (visible objects only)."""
    out = {}
    for oid, body in bodies.items():
        ys, xs = np.nonzero(seg == body)
        if len(xs):
            out[oid] = (
                int(xs.min()),
                int(ys.min()),
                int(xs.max() - xs.min() + 1),
                int(ys.max() - ys.min() + 1),
            )
    return out
