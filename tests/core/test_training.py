"""The shared epoch loop: it learns, it is deterministic under a seed, it stops early and keeps
the best weights, and it never touches the caller's random state."""

from collections.abc import Iterator

import pytest
import torch
from torch import nn

from otemachi.core.training import Plan, add_up, fit

X = torch.linspace(-1, 1, 64)[:, None]
Y = 3 * X - 0.5


def _batches() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for i in range(0, 64, 16):
        yield X[i : i + 16], Y[i : i + 16]


def _loss(model: nn.Linear, b: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    return nn.functional.mse_loss(model(b[0]), b[1])


def _mse(model: nn.Linear) -> float:
    with torch.no_grad():
        return float(nn.functional.mse_loss(model(X), Y))


@pytest.mark.parametrize(
    "plan",
    [
        Plan(60, 0.05, "adam"),
        Plan(60, 0.05, "adamw", weight_decay=1e-4, one_cycle=True, clip=1.0),
    ],
)
def test_it_learns_and_is_deterministic(plan: Plan) -> None:
    def run() -> nn.Linear:
        return fit(lambda: nn.Linear(1, 1), plan, _batches, _loss, seed=3,
                   description="toy", steps_per_epoch=4)  # fmt: skip

    a, b = run(), run()
    assert _mse(a) < 0.01 < _mse(nn.Linear(1, 1))
    assert torch.equal(a.weight, b.weight) and not a.training


def test_the_seed_sets_the_initial_weights_and_the_callers_rng_is_untouched() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    made = [fit(lambda: nn.Linear(4, 1), Plan(0, 0.1), _batches, _loss, seed=s,
                description="toy") for s in (0, 0, 1)]  # fmt: skip
    assert torch.equal(made[0].weight, made[1].weight)
    assert not torch.equal(made[0].weight, made[2].weight)
    assert torch.equal(torch.rand(3), expected)


def test_early_stopping_restores_the_best_epoch() -> None:
    vals = iter([5.0, 3.0, 4.0, 4.5, 6.0, 1.0])
    seen: list[torch.Tensor] = []

    def validate(model: nn.Linear) -> float:
        seen.append(model.weight.detach().clone())
        return next(vals)

    model = fit(lambda: nn.Linear(1, 1), Plan(6, 0.05, "adam", patience=2), _batches, _loss,
                seed=0, description="toy", validate=validate)  # fmt: skip
    assert len(seen) == 4  # epochs 3 and 4 did not beat epoch 2: stop
    assert torch.equal(model.weight, seen[1])


def test_the_learning_rate_halves_after_each_epoch_that_is_not_better() -> None:
    # Adam's first steps on a constant gradient move a weight by the learning rate itself.
    vals = iter([5.0, 4.0, 4.5, 4.5, 4.5])
    seen: list[float] = []

    class Scalar(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.zeros(()))

    def validate(model: Scalar) -> float:
        seen.append(float(model.w.detach()))
        return next(vals)

    fit(Scalar, Plan(4, 0.1, "adam", plateau=0.5), lambda: [None], lambda m, _: m.w,
        seed=0, description="toy", validate=validate)  # fmt: skip
    steps = -torch.diff(torch.tensor(seen))
    # epoch 1 improved (full rate next); epochs 2 and 3 did not: the rate halves after each
    torch.testing.assert_close(steps, torch.tensor([0.1, 0.1, 0.05, 0.025]))


def test_add_up_adds_left_to_right() -> None:
    parts = [torch.tensor(1.0), torch.tensor(2.0), torch.tensor(4.0)]
    assert float(add_up(parts)) == 7.0
