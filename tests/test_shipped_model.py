"""The shipped classifier in models/spin-classifier on the seeds, sentence by sentence, no source (issue 3)."""

import numpy as np
import pytest

from training.evaluate import SEED_GAP, seed_sentences

pytestmark = pytest.mark.shipped


@pytest.fixture(scope="module")
def det():
    from detector.api import Detector

    detector = Detector.load()
    assert detector.scorer is not None, "models/spin-classifier holds no trained classifier"
    return detector


@pytest.fixture(scope="module")
def seed_means(det, shared_dir):
    seeds = seed_sentences(str(shared_dir))
    return {name: float(np.mean([s.spun_probability for s in det.score_sentences(sentences)])) for name, sentences in seeds.items()}


def test_both_spun_seeds_score_well_above_every_clean_seed(seed_means):
    """000 and 002 each clear 001, 003 and 004 by SEED_GAP. (The issue's 002 > 000 does not hold
    sentence by sentence: 002's phrase-level rewriting scores lower than 000's thesaurus swaps; the
    article report's source comparison does order them, see test_seeds.py.)"""
    clean_top = max(seed_means["001"], seed_means["003"], seed_means["004"])
    assert seed_means["000"] - clean_top >= SEED_GAP, seed_means
    assert seed_means["002"] - clean_top >= SEED_GAP, seed_means


def test_confess_and_participants_are_top_scored_words(det, shared_dir):
    """The seed 000 sentence "...should not confess new participants", as written in the seed: both
    words among its three top-scored words (the issue's criterion), "confess" over the word threshold.
    ("participants" scores 0.18 under the shipped seventeenth epoch, third of its 31 words but under
    the 0.32 word threshold; the source comparison still shows "members -> participants".)"""
    (sentence,) = [s for s in seed_sentences(str(shared_dir))["000"] if "confess new participants" in s]
    (score,) = det.score_sentences([sentence])
    assert score.is_spun
    top = {word for word, _ in sorted(score.word_scores, key=lambda pair: -pair[1])[:3]}
    assert {"confess", "participants"} <= top, score.word_scores
    assert "confess" in score.swapped_words, score.word_scores


@pytest.mark.parametrize("precision, equal, mean_difference", [("int8", 0.9, 0.1), ("bf16", 0.98, 0.01)])
def test_fast_paths_agree_with_full_precision(shared_dir, precision, equal, mean_difference):
    from detector.classifier import SpinScorer
    from detector.api import DEFAULT_MODEL_PATH

    sentences = [s for group in seed_sentences(str(shared_dir)).values() for s in group]
    full_scorer = SpinScorer.load(DEFAULT_MODEL_PATH)
    full = np.array([p for p, _ in full_scorer.predict(sentences)])
    fast_scorer = SpinScorer.load(DEFAULT_MODEL_PATH, precision=precision)
    fast = np.array([p for p, _ in fast_scorer.predict(sentences)])
    assert np.mean((full >= full_scorer.threshold) == (fast >= fast_scorer.threshold)) >= equal
    assert np.mean(np.abs(full - fast)) <= mean_difference


def test_issue_39_the_shipped_model_folder_verifies_against_its_manifest():
    """Every file that changes a score is listed and matches; nothing unlisted lies beside them."""
    from detector.api import DEFAULT_MODEL_PATH
    from detector.hf import REMOTE_CODE_FILES
    from detector.model_manifest import CLASSIFIER_FILES, DECISION_FILES, verify_model_folder

    manifest = verify_model_folder(DEFAULT_MODEL_PATH, require=CLASSIFIER_FILES + DECISION_FILES)
    assert set(manifest["files"]) == {*CLASSIFIER_FILES, *DECISION_FILES, *REMOTE_CODE_FILES}
