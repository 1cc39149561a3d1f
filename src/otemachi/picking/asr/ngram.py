"""A back-off n-gram language model read from an ARPA file: log-probabilities of a word after its
history (natural log), and which strings begin a known word (for beam search over characters)."""

import math
import re
from pathlib import Path

from otemachi.core.errors import CheckpointError

LN10 = math.log(10)
UNK = -10.0 * LN10  # a word the model never saw (pyctcdecode's default unknown offset)


class NGram:
    def __init__(self, path: Path):
        self.order = 0
        self.probs: dict[tuple[str, ...], float] = {}
        self.backoff: dict[tuple[str, ...], float] = {}
        n = 0
        try:
            for line in Path(path).read_text().splitlines():
                head = re.match(r"\\(\d)-grams:", line)
                if head:
                    n = int(head.group(1))
                    self.order = max(self.order, n)
                    continue
                parts = line.split()
                if n == 0 or len(parts) < n + 1 or line.startswith("\\"):
                    continue
                gram = tuple(parts[1 : n + 1])
                self.probs[gram] = float(parts[0]) * LN10
                if len(parts) > n + 1:
                    self.backoff[gram] = float(parts[n + 1]) * LN10
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"{path} is not a readable ARPA language model ({exc})") from exc
        if not self.probs:
            raise CheckpointError(f"{path} holds no n-grams")
        self.words = {g[0] for g in self.probs if len(g) == 1} - {"<s>", "</s>", "<unk>"}
        self.prefixes = {w[:i] for w in self.words for i in range(1, len(w) + 1)}

    def score(self, history: tuple[str, ...], word: str) -> float:
        """ln P(word | the last order-1 words of history), backing off; UNK for unknown words."""
        if (word,) not in self.probs:
            return UNK
        history = history[-(self.order - 1) :] if self.order > 1 else ()
        total = 0.0
        while True:
            gram = (*history, word)
            if gram in self.probs:
                return total + self.probs[gram]
            total += self.backoff.get(history, 0.0)
            history = history[1:]

    def sentence(self, words: list[str]) -> float:
        """ln P of a whole sentence, from <s> to </s>."""
        hist: tuple[str, ...] = ("<s>",)
        total = 0.0
        for w in [*words, "</s>"]:
            total += self.score(hist, w)
            hist = (*hist, w)
        return total
