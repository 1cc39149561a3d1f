"""Where every person's OC-NN starts, learned across writers that the base neither trained nor
calibrated on (``base.prior_dataset``, 200 for the default base): the hidden layer
(V, b) and output weights (w) that best tell a writer's other genuine signatures from skilled
forgeries of them and from other writers' signatures, given 1, 2 or 5 references, on OC-NN's own
inputs (``oneclass.ocnn_inputs``). Each person's model then trains from there with DL4J's
objective, as before; the start is "what a genuine cluster looks like" instead of a fixed
neighbourhood of the references.

On the 40 tuning writers (base `eae385dc`, 2026-11-28) the OC-NN's global EER at 1 / 2 / 5
references went from 11.1 / 6.5 / 4.5% with the fixed start to 9.6 / 6.0 / 3.5% (svdd: 11.6 /
5.4 / 2.5%). Ten training steps from the learned start were chosen there; more steps undo it
(a start learned on the calibration writers: 3.0% at 5 references after 10 steps, 6.0% after
30, 12.5% after 40)."""

import numpy as np
import torch

from otemachi.core.seeding import rng
from otemachi.signatures import oneclass
from otemachi.signatures.oneclass import Params

DRAWS = 6  # reference sets drawn per writer and number of references
OTHERS = 5  # other writers' signatures per draw, as random forgeries
STEPS, LR = 600, 0.01


def examples(
    writers: dict[str, tuple[np.ndarray, np.ndarray]], negatives: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """OC-NN inputs q (N, E) of probes measured from drawn references, and whether each probe is
    the references' writer's own (1) or a forgery or another writer's (0)."""
    g = rng(seed, "signatures", "ocnn-prior")
    names = sorted(writers)
    q, label = [], []
    for w in names:
        gen, forg = writers[w]
        others = [o for o in names if o != w and len(writers[o][0])]
        for k in (1, 2, 5):
            for _ in range(DRAWS if len(gen) > k else 0):
                order = g.permutation(len(gen))
                refs, rest = gen[order[:k]], gen[order[k:]]
                picked = g.choice(len(others), min(OTHERS, len(others)), replace=False)
                random = [writers[others[i]][0][g.integers(len(writers[others[i]][0]))]
                          for i in picked]  # fmt: skip
                c, spread, _ = oneclass.ocnn_inputs(refs[None], np.ones((1, k)), negatives)
                probes = np.concatenate([rest, forg, np.reshape(random, (-1, gen.shape[1]))])
                q.append((probes - c) ** 2 / spread)
                label.append(np.r_[np.ones(len(rest)), np.zeros(len(probes) - len(rest))])
    return np.concatenate(q).astype(np.float32), np.concatenate(label).astype(np.float32)


def learn_start(
    writers: dict[str, tuple[np.ndarray, np.ndarray]], negatives: np.ndarray, seed: int = 0
) -> Params:
    """V (E, H), b (H,) and w (H,) from writer -> (genuine (G, E), skilled forgeries (F, E)):
    logistic regression of y = sigmoid(qV + b) . w, from the fixed start (nothing random: every
    example in every step)."""
    q_np, y_np = examples(writers, negatives.astype(np.float32), seed)
    q, y = torch.from_numpy(q_np), torch.from_numpy(y_np)
    v = torch.nn.Parameter(torch.from_numpy(oneclass.ocnn_start(seed, q.shape[1])))
    b = torch.nn.Parameter(torch.full((oneclass.HIDDEN,), oneclass.OCNN_B0))
    w = torch.nn.Parameter(torch.full((oneclass.HIDDEN,), 1 / oneclass.HIDDEN))
    offset, scale = torch.nn.Parameter(torch.zeros(())), torch.nn.Parameter(torch.tensor(10.0))
    opt = torch.optim.Adam([v, b, w, offset, scale], lr=LR)
    balance = (1 - y.mean()) / y.mean().clamp(min=1e-6)
    for _ in range(STEPS):
        score = torch.sigmoid(q @ v + b) @ w
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            scale * (score - offset), y, pos_weight=balance
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: p.detach().numpy().copy() for k, p in (("V", v), ("b", b), ("w", w))}
