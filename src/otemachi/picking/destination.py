"""Destination: a text-only classifier over tl/tr/bl/br (word 1-4-grams, logistic regression).
N-grams such as "into the lower left" tell the destination from a box that only names where the
target is ("the mug in the top left box")."""

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from otemachi.core.errors import InvalidInput
from otemachi.picking.world import BOXES


@dataclass
class DestinationClassifier:
    """Fit on (instruction, destination) pairs; predict a box with a probability per box."""

    vectorizer: TfidfVectorizer | None = None
    model: LogisticRegression | None = None

    def fit(self, texts: list[str], boxes: list[str]) -> "DestinationClassifier":
        if not texts or len(texts) != len(boxes) or set(boxes) - set(BOXES):
            raise InvalidInput("destination training needs matching texts and boxes in tl/tr/bl/br")
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 4), lowercase=True, sublinear_tf=True)
        x = self.vectorizer.fit_transform(texts)
        self.model = LogisticRegression(C=20.0, max_iter=2000).fit(x, boxes)
        return self

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """(N, 4) probabilities in BOXES order."""
        assert self.vectorizer is not None and self.model is not None, "fit() first"
        proba = self.model.predict_proba(self.vectorizer.transform(texts))
        cols = [
            list(self.model.classes_).index(b) if b in self.model.classes_ else -1 for b in BOXES
        ]
        return np.stack([proba[:, c] if c >= 0 else np.zeros(len(texts)) for c in cols], axis=1)

    def predict(self, texts: list[str]) -> list[str]:
        return [BOXES[i] for i in self.probabilities(texts).argmax(axis=1)]
