"""Issue 37: the bundled encoder embeds the seed sentences as sentence-transformers does (fp32)."""

import numpy as np
import pytest

from detector.encoder import SentenceEncoder, default_model_path
from detector.text import split_sentences

pytestmark = pytest.mark.shipped


@pytest.fixture(scope="module")
def seed_sentences(seed_texts) -> list[str]:
    """Every sentence, heading and boilerplate line of the five seeds: all are embedded in practice."""
    return [segment.text for text in seed_texts.values() for segment in split_sentences(text)]


def test_bundled_encoder_vectors_equal_sentence_transformers_within_1e5_cosine(seed_sentences):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    ours = SentenceEncoder.load().encode(seed_sentences)
    theirs = reference.encode(seed_sentences, normalize_embeddings=True, convert_to_numpy=True)
    cosines = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)
    assert len(seed_sentences) > 50 and ours.dtype == np.float32
    assert np.max(1.0 - cosines) < 1e-5, f"largest cosine gap {np.max(1.0 - cosines):.2e}"
