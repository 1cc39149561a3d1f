"""Evaluation plots: DET curves per method, score histograms, each writer's own EER, and
example signatures."""

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from otemachi.core.report import save_figure
from otemachi.signatures.metrics import det_points

if TYPE_CHECKING:
    from otemachi.signatures.evaluate import Evaluation


def det_curves(ev: "Evaluation", path: Path) -> Path:
    """DET curves (normal-deviate axes), genuine vs skilled forgeries, one panel per method."""
    methods = list(ev.scores)
    fig, axes = plt.subplots(1, len(methods), figsize=(4.3 * len(methods), 4.2), squeeze=False)
    ticks = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.4])
    for ax, method in zip(axes[0], methods, strict=True):
        for refs, sc in ev.scores[method].items():
            _, far, frr = det_points(sc["genuine"], sc["skilled"])
            clip = lambda p: norm.ppf(np.clip(p, 1e-3, 1 - 1e-3))  # noqa: E731
            ax.plot(clip(far), clip(frr), label=f"{refs} ref(s)")
        ax.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
        ax.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
        ax.set(xlim=norm.ppf([0.005, 0.5]), ylim=norm.ppf([0.005, 0.5]), title=method,
               xlabel="FAR (skilled forgeries)", ylabel="FRR")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path)


def histograms(ev: "Evaluation", path: Path) -> Path:
    """Scores of genuine signatures, skilled and random forgeries at the most references."""
    methods = list(ev.scores)
    fig, axes = plt.subplots(1, len(methods), figsize=(4.3 * len(methods), 3.8), squeeze=False)
    for ax, method in zip(axes[0], methods, strict=True):
        refs = max(ev.scores[method], key=int)
        sc = ev.scores[method][refs]
        for key in ("genuine", "skilled", "random"):
            ax.hist(sc[key], bins=40, alpha=0.5, density=True, label=key)
        ax.set(title=f"{method}, {refs} refs", xlabel="score")
        ax.legend()
    return save_figure(fig, path)


def writer_eers(ev: "Evaluation", path: Path) -> Path:
    """Each writer's own EER (genuine vs that writer's skilled forgeries), one panel per method,
    one step histogram per number of references: how unevenly the errors fall on people."""
    methods = list(ev.writer_eers)
    fig, axes = plt.subplots(1, len(methods), figsize=(4.3 * len(methods), 3.6), squeeze=False)
    bins = np.linspace(0, 0.6, 25)
    for ax, method in zip(axes[0], methods, strict=True):
        for refs, e in ev.writer_eers[method].items():
            ax.hist(np.clip(e, 0, 0.6), bins=bins, histtype="step", lw=1.6, label=f"{refs} ref(s)")
        ax.set(title=method, xlabel="the writer's own EER", ylabel="writers")
        ax.legend()
    return save_figure(fig, path)


def examples(genuine: list[np.ndarray], forged: list[np.ndarray], path: Path) -> Path:
    """A grid: genuine signatures of one writer on top, skilled forgeries below."""
    n = max(len(genuine), len(forged))
    fig, axes = plt.subplots(2, n, figsize=(2.4 * n, 2.4), squeeze=False)
    for row, (label, images) in enumerate((("genuine", genuine), ("forged", forged))):
        for i in range(n):
            ax = axes[row][i]
            ax.axis("off")
            if i < len(images):
                ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
                ax.set_title(label, fontsize=8)
    return save_figure(fig, path)
