"""A Franka Panda from pybullet_data with a suction cup: its own damped-least-squares IK,
Cartesian straight-line motion through position-controlled joints stepped in the physics, and a
fixed constraint that holds an object only once the tool touches it. Nothing is teleported."""

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from otemachi.picking.bullet import pb
from otemachi.picking.world import BOX_CENTER, World, box_bounds

BASE = (0.0, -0.50, 0.0)
HOME = (0.0, -0.30, 0.35)  # out of the camera's view
DOWN = pb.getQuaternionFromEuler([np.pi, 0, 0])
REST = [0.0, -0.3, 0.0, -2.2, 0.0, 2.0, 0.8]  # elbow up, cup down
CARRY_Z = 0.22  # travel height, clear of every object and wall
SEGMENT = 0.015  # metres between Cartesian waypoints
REACH_TOL = 0.015
FAILURES = ("unreachable", "no_contact", "dropped", "missed_box")


@dataclass(frozen=True)
class Outcome:
    """What happened; ``failure`` is one of FAILURES, or None on success."""

    ok: bool
    failure: str | None = None
    detail: str = ""


class Robot:
    """The arm in a World: ``pick(body)`` then ``place(box)``, or ``pick_and_place``."""

    def __init__(self, world: World) -> None:
        self.world, c = world, world.client
        self.arm = pb.loadURDF(
            "franka_panda/panda.urdf", BASE, useFixedBase=True, physicsClientId=c
        )
        info = [
            pb.getJointInfo(self.arm, j, physicsClientId=c)
            for j in range(pb.getNumJoints(self.arm, physicsClientId=c))
        ]
        self.tip = [i[12].decode() for i in info].index("panda_grasptarget")
        self.joints = list(range(7))
        self.lower = np.array([i[8] for i in info[:7]])
        self.upper = np.array([i[9] for i in info[:7]])
        fingers = [j for j, i in enumerate(info) if i[2] == pb.JOINT_PRISMATIC]
        for j in fingers:  # closed fingers form the suction tool's narrow body
            pb.resetJointState(self.arm, j, 0.0, physicsClientId=c)
        pb.setJointMotorControlArray(
            self.arm,
            fingers,
            pb.POSITION_CONTROL,
            targetPositions=[0.0] * len(fingers),
            forces=[100.0] * len(fingers),
            physicsClientId=c,
        )
        self.q = np.array(self.solve(HOME, np.array(REST)))
        for j, v in zip(self.joints, self.q, strict=True):
            pb.resetJointState(self.arm, j, v, physicsClientId=c)
        self.grip: int | None = None
        self.held: int | None = None
        self.steps = 0

    def cup(self) -> np.ndarray:
        state = pb.getLinkState(
            self.arm, self.tip, computeForwardKinematics=True, physicsClientId=self.world.client
        )
        return np.array(state[4])

    def solve(self, target: tuple[float, float, float], seed: np.ndarray) -> list[float]:
        """Joint angles putting the cup at ``target`` pointing down, by damped least squares from
        ``seed`` with a pull towards REST in the null space, within joint limits. The arm's joint
        state is restored afterwards; no simulation step runs."""
        c = self.world.client
        saved = [(s[0], s[1]) for s in pb.getJointStates(self.arm, self.joints, physicsClientId=c)]
        q, down = seed.copy(), Rotation.from_quat(DOWN)
        for _ in range(150):
            for j, v in zip(self.joints, q, strict=True):
                pb.resetJointState(self.arm, j, v, physicsClientId=c)
            pos, orn = pb.getLinkState(
                self.arm, self.tip, computeForwardKinematics=True, physicsClientId=c
            )[4:6]
            err = np.concatenate(
                [np.asarray(target) - pos, (down * Rotation.from_quat(orn).inv()).as_rotvec()]
            )
            if np.linalg.norm(err[:3]) < 1e-4 and np.linalg.norm(err[3:]) < 1e-3:
                break
            lin, ang = pb.calculateJacobian(
                self.arm,
                self.tip,
                [0, 0, 0],
                [*q, 0.0, 0.0],
                [0.0] * 9,
                [0.0] * 9,
                physicsClientId=c,
            )
            jac = np.vstack([np.asarray(lin)[:, :7], np.asarray(ang)[:, :7]])  # (6, 7)
            pinv = jac.T @ np.linalg.inv(jac @ jac.T + 1e-4 * np.eye(6))  # (7, 6)
            dq = pinv @ err + (np.eye(7) - pinv @ jac) @ (0.1 * (np.array(REST) - q))
            dq *= min(1.0, 0.2 / max(np.abs(dq).max(), 1e-12))  # at most 0.2 rad per iteration
            q = np.clip(q + dq, self.lower, self.upper)
        for j, (pos_, vel) in zip(self.joints, saved, strict=True):
            pb.resetJointState(self.arm, j, pos_, vel, physicsClientId=c)
        return [float(v) for v in q]

    def _drive(self, q: np.ndarray, steps: int) -> None:
        c = self.world.client
        pb.setJointMotorControlArray(
            self.arm,
            self.joints,
            pb.POSITION_CONTROL,
            targetPositions=q,
            forces=[200.0] * 7,
            positionGains=[0.3] * 7,
            physicsClientId=c,
        )
        for _ in range(steps):
            pb.stepSimulation(physicsClientId=c)
            self.steps += 1

    def move(self, target: tuple[float, float, float]) -> bool:
        """Move the cup along a straight line to ``target``; True if it got within REACH_TOL."""
        start = self.cup()
        n = max(1, int(np.ceil(np.linalg.norm(np.asarray(target) - start) / SEGMENT)))
        for k in range(1, n + 1):
            self.q = np.array(
                self.solve(tuple(start + (np.asarray(target) - start) * k / n), self.q)
            )
            self._drive(self.q, 6)
        for _ in range(20):
            if np.linalg.norm(self.cup() - target) < REACH_TOL / 3:
                break
            self._drive(self.q, 6)
        return bool(np.linalg.norm(self.cup() - target) < REACH_TOL)

    def travel(self, target: tuple[float, float, float]) -> bool:
        """Up to the carry height (if below it), across, and down to ``target``."""
        x, y, z = self.cup()
        if z < CARRY_Z and not self.move((x, y, CARRY_Z)):
            return False
        return self.move((target[0], target[1], max(z, CARRY_Z))) and self.move(target)

    def _touching(self, body: int) -> bool:
        return bool(pb.getContactPoints(self.arm, body, physicsClientId=self.world.client))

    def pick(self, body: int) -> Outcome:
        """Travel above the object, descend until the tool touches it, attach, and lift."""
        lo, hi = self.world.aabb(body)
        x, y = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
        if not self.travel((x, y, hi[2] + 0.03)):
            return Outcome(False, "unreachable", f"cannot reach above ({x:.3f}, {y:.3f})")
        z = hi[2] + 0.02
        while z > lo[2] + 0.005 and not self._touching(body):
            self.move((x, y, z))
            z -= 0.004
        if not self._touching(body):
            return Outcome(False, "no_contact", "the suction cup never touched the object")
        self._attach(body)
        self.move((x, y, CARRY_Z))
        if self.world.aabb(body)[0][2] < lo[2] + 0.05:  # its underside must have come up
            self.release()
            return Outcome(False, "dropped", "the object did not come up with the cup")
        return Outcome(True)

    def _attach(self, body: int) -> None:
        c = self.world.client
        pos, orn = pb.getBasePositionAndOrientation(body, physicsClientId=c)
        tip_pos, tip_orn = pb.getLinkState(self.arm, self.tip, physicsClientId=c)[4:6]
        rel_pos, rel_orn = pb.multiplyTransforms(*pb.invertTransform(tip_pos, tip_orn), pos, orn)
        self.grip = pb.createConstraint(
            self.arm,
            self.tip,
            body,
            -1,
            pb.JOINT_FIXED,
            [0, 0, 0],
            rel_pos,
            [0, 0, 0],
            rel_orn,
            physicsClientId=c,
        )
        pb.changeConstraint(self.grip, maxForce=50, physicsClientId=c)
        self.held = body

    def release(self) -> None:
        if self.grip is not None:
            pb.removeConstraint(self.grip, physicsClientId=self.world.client)
        self.grip = self.held = None

    def free_spot(self, box: str, held: int) -> tuple[float, float]:
        """The point of a 7x7 grid inside ``box`` farthest from every other object in it."""
        x0, x1, y0, y1 = box_bounds(box)
        m = 0.035
        grid = [
            (x, y) for x in np.linspace(x0 + m, x1 - m, 7) for y in np.linspace(y0 + m, y1 - m, 7)
        ]
        others = [self.world.position(b)[:2] for b in self.world.objects() if b != held]
        inside = [(x, y) for x, y in others if x0 <= x <= x1 and y0 <= y <= y1]
        if not inside:
            return BOX_CENTER[box]
        clearance = [min(np.hypot(gx - x, gy - y) for x, y in inside) for gx, gy in grid]
        gx, gy = grid[int(np.argmax(clearance))]
        return float(gx), float(gy)

    def place(self, box: str) -> Outcome:
        """Carry the held object over a free spot of ``box``, lower it, release, and check that it
        comes to rest inside the box."""
        body = self.held
        if body is None:
            return Outcome(False, "dropped", "nothing is held")
        x, y = self.free_spot(box, body)
        lo, _ = self.world.aabb(body)
        drop = self.cup()[2] - lo[2] + 0.04  # object's underside 4 cm above the box floor
        if not self.travel((x, y, drop)):
            self.release()
            return Outcome(False, "unreachable", f"cannot reach box {box}")
        self.release()
        self.move((x, y, CARRY_Z))
        self.world.settle(240)
        self.move(HOME)
        lo, hi = self.world.aabb(body)
        x0, x1, y0, y1 = box_bounds(box)
        cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
        if not (x0 <= cx <= x1 and y0 <= cy <= y1 and lo[2] < 0.10):
            return Outcome(
                False, "missed_box", f"object rests at ({cx:.3f}, {cy:.3f}, {lo[2]:.3f})"
            )
        return Outcome(True)

    def pick_and_place(self, body: int, box: str) -> Outcome:
        """Pick ``body`` and place it in ``box``; the arm returns home either way."""
        got = self.pick(body)
        if not got.ok:
            self.move(HOME)
            return got
        return self.place(box)
