"""Baselines the fine-tuned classifier is measured against, as scikit-learn estimators.

* `TorturedPhraseLookup`: the Problematic Paper Screener method: a sentence is flagged when it
  contains a known tortured phrase (from the training half of the PPS list). Precise on phrases it
  knows, blind to every other swap.
* `TfidfLogisticBaseline`: TF-IDF word 1-2-grams and character 2-5-grams, logistic regression.
* `FrozenEmbeddingBaseline`: logistic regression on frozen all-MiniLM-L6-v2 sentence embeddings
  (mean pooled, via `detector.encoder.SentenceEncoder`): what the encoder knows before fine-tuning.

All follow scikit-learn conventions: keyword parameters stored in ``__init__``, ``fit`` returns
``self``, learned state ends in ``_``, ``predict_proba`` before ``fit`` raises ``NotFittedError``.

Example:
    >>> lookup = TorturedPhraseLookup(phrases=["counterfeit consciousness"]).fit(["any text"])
    >>> lookup.predict(["We train a counterfeit consciousness model.", "We train a model."]).tolist()
    [1, 0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.utils.validation import check_is_fitted

from detector.errors import InputError
from training.build_dataset import PhraseFinder
from training.corpora import TorturedPhrase

__all__ = ["FrozenEmbeddingBaseline", "TfidfLogisticBaseline", "TorturedPhraseLookup"]


def _texts(X) -> list[str]:
    texts = list(X)
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise InputError(f"baselines take sentences as strings, got {type(bad).__name__}: {bad!r:.60}")
    return texts


def _two_columns(positive: np.ndarray) -> np.ndarray:
    return np.column_stack([1.0 - positive, positive])


class TorturedPhraseLookup(ClassifierMixin, BaseEstimator):
    """Flags a sentence that contains any known tortured phrase (case-insensitive, whole words).

    ``phrases``: tortured phrases as strings or `TorturedPhrase` rows; ``min_papers`` drops rows
    seen in fewer papers (a stricter list, as the Screener's curators use).
    """

    def __init__(self, *, phrases: Sequence[str | TorturedPhrase] = (), min_papers: int = 0):
        self.phrases = phrases
        self.min_papers = min_papers

    def fit(self, X=None, y=None) -> TorturedPhraseLookup:
        """Compile the phrase list (the lookup learns nothing from ``X``)."""
        kept = [p if isinstance(p, str) else p.tortured for p in self.phrases if isinstance(p, str) or p.papers >= self.min_papers]
        if not kept:
            raise InputError("TorturedPhraseLookup needs phrases=[...] (the training half of the PPS list); none were given")
        self.finder_ = PhraseFinder(kept)
        self.classes_ = np.array([0, 1])
        self.n_phrases_ = len(self.finder_.keys)
        return self

    def matches(self, X) -> list[list[str]]:
        """The known tortured phrases found in each sentence."""
        check_is_fitted(self, "finder_")
        return [[phrase for phrase, _, _ in self.finder_.find(text)] for text in _texts(X)]

    def predict_proba(self, X) -> np.ndarray:
        """(n, 2): column 1 is 1.0 for a sentence with a known tortured phrase, else 0.0."""
        return _two_columns(np.array([float(bool(found)) for found in self.matches(X)]))

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X)[:, 1].astype(int)


class TfidfLogisticBaseline(ClassifierMixin, BaseEstimator):
    """TF-IDF over word 1-2-grams and character 2-5-grams (sublinear tf), then balanced logistic regression."""

    def __init__(self, *, max_features: int = 200_000, C: float = 4.0, max_iter: int = 2000, random_state: int = 0):
        self.max_features = max_features
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y) -> TfidfLogisticBaseline:
        features = make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=True, sublinear_tf=True, min_df=2, max_features=self.max_features),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, sublinear_tf=True, min_df=2, max_features=self.max_features),
        )
        classifier = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight="balanced", random_state=self.random_state)
        self.pipeline_ = make_pipeline(features, classifier).fit(_texts(X), np.asarray(y, dtype=int))
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(_texts(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class FrozenEmbeddingBaseline(ClassifierMixin, BaseEstimator):
    """Balanced logistic regression on frozen, mean-pooled sentence embeddings.

    ``encoder_path``: a model folder for `SentenceEncoder.load` (default: the bundled all-MiniLM-L6-v2).
    """

    def __init__(self, *, encoder_path: str | None = None, C: float = 1.0, batch_size: int = 64, max_iter: int = 2000, random_state: int = 0):
        self.encoder_path = encoder_path
        self.C = C
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.random_state = random_state

    def _embed(self, X) -> np.ndarray:
        return self.encoder_.encode(_texts(X), batch_size=self.batch_size)

    def fit(self, X, y) -> FrozenEmbeddingBaseline:
        from detector.encoder import SentenceEncoder

        self.encoder_ = SentenceEncoder.load(self.encoder_path)
        classifier = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight="balanced", random_state=self.random_state)
        self.classifier_ = classifier.fit(self._embed(X), np.asarray(y, dtype=int))
        self.classes_ = self.classifier_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "classifier_")
        return self.classifier_.predict_proba(self._embed(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
