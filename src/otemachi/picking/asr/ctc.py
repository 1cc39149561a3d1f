"""The recurrent recogniser: log-mel features computed with torch, frames stacked three at a time
(30 ms), a bidirectional GRU, and per-frame probabilities over characters plus the CTC blank."""

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import nn

from otemachi.picking.asr.lexicon import CHARS
from otemachi.picking.audio import RATE

N_FFT, HOP = 400, 160  # 25 ms windows every 10 ms
BLANK = 0  # class 0 is the blank; class i + 1 is CHARS[i]


@dataclass(frozen=True)
class CTCConfig:
    mels: int = 64
    stack: int = 3  # frames per step
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.1


@cache
def _mel_bank(mels: int) -> torch.Tensor:
    """Triangular filters on the mel scale (HTK) from 20 Hz to 8 kHz: (freq bins, mels)."""

    def mel(f: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + f / 700)

    scale = np.linspace(mel(np.array(20.0)), mel(np.array(RATE / 2)), mels + 2)
    edges = 700 * (10 ** (scale / 2595) - 1)
    freqs = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up, down = (freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)
    return torch.from_numpy(np.maximum(0, np.minimum(up, down)).T.astype(np.float32))


def features(samples: np.ndarray, mels: int = 64) -> torch.Tensor:
    """(frames, mels) log-mel energies of 16 kHz samples, normalised per utterance."""
    x = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    if len(x) < N_FFT:
        x = torch.nn.functional.pad(x, (0, N_FFT - len(x)))
    spec = torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True)
    power = spec.abs().pow(2).T  # (frames, bins)
    logmel = torch.log(power @ _mel_bank(mels) + 1e-6)
    return (logmel - logmel.mean(0)) / (logmel.std(0) + 1e-5)


def encode(text: str) -> list[int]:
    """Class ids of a normalised text."""
    return [CHARS.index(c) + 1 for c in text]


class CTCModel(nn.Module):
    def __init__(self, cfg: CTCConfig):
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Sequential(nn.Linear(cfg.mels * cfg.stack, 256), nn.ReLU())
        self.rnn = nn.GRU(
            256, cfg.hidden, cfg.layers, batch_first=True, bidirectional=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )  # fmt: skip
        self.out = nn.Linear(2 * cfg.hidden, len(CHARS) + 1)

    def steps(self, frames: torch.Tensor) -> torch.Tensor:
        """Frame counts -> step counts."""
        return frames // self.cfg.stack

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch, frames, mels) padded features -> (batch, steps, classes) log-probabilities."""
        b, t, m = feats.shape
        s = self.cfg.stack
        t = t // s * s
        x = feats[:, :t].reshape(b, t // s, m * s)
        steps = self.steps(lengths).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.inp(x), steps.cpu(), batch_first=True, enforce_sorted=False
        )
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=t // s)
        return self.out(y).log_softmax(-1)


def build(cfg: CTCConfig) -> CTCModel:
    return CTCModel(cfg)
