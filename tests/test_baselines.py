"""Baselines: fit / predict_proba on small data, scikit-learn conventions, not-fitted errors."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from detector.errors import InputError
from training.baselines import FrozenEmbeddingBaseline, TfidfLogisticBaseline, TorturedPhraseLookup
from training.corpora import TorturedPhrase

CLEAN = [
    "The company said profits rose in the fourth quarter.",
    "Ministers agreed to admit new members next year.",
    "The central bank kept interest rates unchanged on Thursday.",
    "Shares in the firm fell sharply after the announcement.",
] * 3
SPUN = [
    "The corporation stated earnings climbed in the fourth quarter.",
    "Ministers concurred to confess new participants next year.",
    "The central financial institution retained interest charges unaltered on Thursday.",
    "Stocks in the agency dropped abruptly after the declaration.",
] * 3


def test_tortured_lookup_flags_known_phrases_only():
    phrases = [TorturedPhrase("counterfeit consciousness", "artificial intelligence", 900), TorturedPhrase("rare phrase", "x", 1)]
    lookup = TorturedPhraseLookup(phrases=phrases, min_papers=5).fit()
    assert lookup.n_phrases_ == 1
    sentences = ["Counterfeit consciousness is used here.", "Artificial intelligence is used here.", "A rare phrase."]
    assert lookup.predict(sentences).tolist() == [1, 0, 0]
    assert lookup.predict_proba(sentences).tolist() == [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]
    assert lookup.matches(sentences)[0] == ["counterfeit consciousness"]
    with pytest.raises(InputError, match="needs phrases"):
        TorturedPhraseLookup().fit()


def test_tfidf_baseline_separates_spun_text():
    model = TfidfLogisticBaseline(C=10.0).fit(CLEAN + SPUN, [0] * len(CLEAN) + [1] * len(SPUN))
    probabilities = model.predict_proba(CLEAN[:4] + SPUN[:4])
    assert probabilities.shape == (8, 2) and np.allclose(probabilities.sum(axis=1), 1.0)
    assert model.predict(CLEAN[:4] + SPUN[:4]).tolist() == [0] * 4 + [1] * 4
    assert clone(model).get_params()["C"] == 10.0


def test_frozen_embedding_baseline_fits_and_predicts(tiny_bert_dir):
    model = FrozenEmbeddingBaseline(encoder_path=str(tiny_bert_dir), batch_size=4).fit(CLEAN + SPUN, [0] * 12 + [1] * 12)
    probabilities = model.predict_proba(["A new sentence to score.", SPUN[0]])
    assert probabilities.shape == (2, 2) and np.all((0 <= probabilities) & (probabilities <= 1))


@pytest.mark.parametrize("estimator", [TorturedPhraseLookup(phrases=["a b"]), TfidfLogisticBaseline(), FrozenEmbeddingBaseline()])
def test_predict_before_fit_raises(estimator):
    with pytest.raises(NotFittedError):
        estimator.predict_proba(["A sentence."])


def test_non_string_input_is_named():
    model = TorturedPhraseLookup(phrases=["a b"]).fit()
    with pytest.raises(InputError, match="as strings, got int"):
        model.predict([3])
