"""Verification metrics: EER, AUC, FAR and FRR at a threshold, DET points."""

import numpy as np


def far_frr(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """Accept when score >= threshold. FAR: impostors accepted; FRR: genuine rejected."""
    return float(np.mean(impostor >= threshold)), float(np.mean(genuine < threshold))


def det_points(
    genuine: np.ndarray, impostor: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FAR, FRR) at every distinct score, thresholds ascending."""
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    g, i = np.sort(genuine), np.sort(impostor)
    frr = np.searchsorted(g, thresholds, side="left") / len(g)
    far = 1 - np.searchsorted(i, thresholds, side="left") / len(i)
    return thresholds, far, frr


def eer(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """Equal error rate and its threshold: the point where FAR and FRR cross, taking the mean of
    FAR and FRR at the threshold where they are closest."""
    thresholds, far, frr = det_points(genuine, impostor)
    k = int(np.argmin(np.abs(far - frr)))
    return float((far[k] + frr[k]) / 2), float(thresholds[k])


def auc(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """Probability that a genuine score exceeds an impostor score (ties count half)."""
    diff = genuine[:, None] - impostor[None, :]
    return float(np.mean(diff > 0) + 0.5 * np.mean(diff == 0))


def threshold_at_far(impostor: np.ndarray, target_far: float) -> float:
    """The lowest threshold whose FAR on ``impostor`` is at most ``target_far``."""
    ordered = np.sort(impostor)[::-1]
    k = int(np.floor(target_far * len(ordered)))
    return float(np.nextafter(ordered[k], np.inf)) if k < len(ordered) else float(ordered[-1])
