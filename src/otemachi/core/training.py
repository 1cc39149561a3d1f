"""The one epoch loop every trained model in otemachi uses: seeded model construction, the
optimiser and schedule, a progress bar, optional gradient clipping and early stopping on a
validation loss (the best weights are restored)."""

import copy
import functools
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import nn

from otemachi.core.progress import progress
from otemachi.core.seeding import torch_seeded

M = TypeVar("M", bound=nn.Module)
B = TypeVar("B")


@dataclass(frozen=True)
class Plan:
    """How to optimise: epochs, learning rate, optimiser, schedule, clipping, early stopping."""

    epochs: int
    lr: float
    optimizer: str = "adamw"  # "adam" | "adamw"
    weight_decay: float = 0.0
    one_cycle: bool = False  # OneCycleLR over every step of every epoch
    clip: float | None = None  # max gradient norm
    patience: int | None = None  # stop after this many epochs without a better validation loss
    plateau: float | None = None  # multiply the learning rate by this after each such epoch


def add_up(losses: Iterable[torch.Tensor]) -> torch.Tensor:
    """The sum of several losses, added left to right."""
    total: torch.Tensor = functools.reduce(operator.add, losses)
    return total


def _optimizer(model: nn.Module, plan: Plan) -> torch.optim.Optimizer:
    if plan.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=plan.lr, weight_decay=plan.weight_decay)
    if plan.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=plan.lr, weight_decay=plan.weight_decay)
    raise ValueError(f"unknown optimizer {plan.optimizer!r}")


def fit(
    build: Callable[[], M],
    plan: Plan,
    batches: Callable[[], Iterable[B]],
    loss: Callable[[M, B], torch.Tensor],
    *,
    seed: int,
    description: str,
    steps_per_epoch: int | None = None,
    validate: Callable[[M], float] | None = None,
) -> M:
    """Build a model under ``seed`` and train it; return it in eval mode.

    Parameters
    ----------
    build
        Makes the model (called with torch's RNG seeded, so initial weights follow ``seed``).
    batches
        Called once per epoch; yields that epoch's batches (draw randomness from a generator).
    loss
        ``loss(model, batch)`` -> scalar tensor to minimise.
    steps_per_epoch
        Batches per epoch; required by the one-cycle schedule.
    validate
        ``validate(model)`` -> a loss before training and after each epoch; with
        ``plan.patience`` it stops early. The best weights are restored, which may be the initial
        ones (a network built to start as a baseline stays one unless training beats it).
    """
    with torch_seeded(seed):
        model = build()
        opt = _optimizer(model, plan)
        sched = None
        assert not (plan.one_cycle and plan.plateau), "one schedule: one-cycle or plateau"
        if plan.one_cycle:
            assert steps_per_epoch, "the one-cycle schedule needs steps_per_epoch"
            total = plan.epochs * steps_per_epoch
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, plan.lr, total_steps=total)
        # The initial weights are a candidate too (a network built to start as a baseline can
        # stay one when training never beats it on the validation fold).
        best = math.inf if validate is None else validate(model)
        best_state, stale = copy.deepcopy(model.state_dict()), 0
        with progress() as bar:
            task = bar.add_task(description, total=plan.epochs, info="")
            for _ in range(plan.epochs):
                model.train()
                total_loss, n = 0.0, 0
                for batch in batches():
                    value = loss(model, batch)
                    opt.zero_grad()
                    value.backward()
                    if plan.clip is not None:
                        nn.utils.clip_grad_norm_(model.parameters(), plan.clip)
                    opt.step()
                    if sched is not None:
                        sched.step()
                    total_loss, n = total_loss + float(value.detach()), n + 1
                info = f"loss {total_loss / max(n, 1):.4f}"
                if validate is not None:
                    val = validate(model)
                    info += f" val {val:.4f}"
                    if val < best - 1e-4:
                        best, best_state, stale = val, copy.deepcopy(model.state_dict()), 0
                    else:
                        stale += 1
                        for group in opt.param_groups:
                            group["lr"] *= 1.0 if plan.plateau is None else plan.plateau
                bar.update(task, advance=1, info=info)
                if plan.patience is not None and stale >= plan.patience:
                    break
        if validate is not None:
            model.load_state_dict(best_state)
    return model.eval()
