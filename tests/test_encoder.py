"""SentenceEncoder on the tiny random BERT: shapes, unit norm, order, batching and errors."""

import numpy as np
import pytest

from detector.encoder import SentenceEncoder
from detector.errors import InputError, ModelFormatError


@pytest.fixture(scope="module")
def encoder(tiny_bert_dir):
    return SentenceEncoder.load(tiny_bert_dir)


def test_unit_norm_float32_rows(encoder):
    vectors = encoder.encode(["NATO met in Brussels.", "Russia won China's backing."])
    assert vectors.shape == (2, encoder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batches_sorted_by_length_keep_input_order(encoder):
    sentences = ["Short.", "A much longer sentence about the alliance and its members in Europe.", "", "Mid length one."]
    together = encoder.encode(sentences, batch_size=2)
    alone = np.vstack([encoder.encode([s]) for s in sentences])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_batches_are_sorted_by_subword_count_not_characters(encoder, monkeypatch):
    sentences = ["1,234,567.89 / 3.14 = 393,179", "A plain sentence of many more characters.", "Short one here.", "Hi."]
    batches = []
    embed = encoder._embed_batch
    monkeypatch.setattr(encoder, "_embed_batch", lambda ids: batches.append([len(row) for row in ids]) or embed(ids))
    encoder.encode(sentences, batch_size=2)
    lengths = [length for batch in batches for length in batch]
    assert lengths == sorted(lengths, reverse=True)
    assert lengths[0] == len(encoder.tokenizer(sentences[0])["input_ids"])


def test_empty_list_and_truncation(encoder):
    assert encoder.encode([]).shape == (0, encoder.dim)
    assert encoder.encode(["word " * 500]).shape == (1, encoder.dim)


def test_int8_encoder_stays_close_to_full_precision(tiny_bert_dir, encoder):
    sentences = ["NATO met in Brussels.", "Russia won China's backing for its plan.", ""]
    quantized = SentenceEncoder.load(tiny_bert_dir).quantize()
    assert quantized.quantized and "int8" in repr(quantized)
    cosines = np.sum(quantized.encode(sentences) * encoder.encode(sentences), axis=1)
    assert np.all(cosines > 0.98)


def test_bf16_encoder_gives_float32_vectors_close_to_full_precision(tiny_bert_dir, encoder):
    sentences = ["NATO met in Brussels.", "Russia won China's backing for its plan.", ""]
    half = SentenceEncoder.load(tiny_bert_dir).with_precision("bf16")
    assert half.precision == "bf16" and "bf16" in repr(half) and not half.quantized
    vectors = half.encode(sentences)
    assert vectors.dtype == np.float32
    assert np.all(np.sum(vectors * encoder.encode(sentences), axis=1) > 0.99)
    with pytest.raises(InputError, match="already runs in bf16"):
        half.with_precision("int8")


def test_bad_inputs(encoder, tmp_path):
    with pytest.raises(InputError, match="not one string"):
        encoder.encode("one sentence")
    with pytest.raises(InputError, match="sentence 1 is int"):
        encoder.encode(["fine", 3])
    with pytest.raises(ModelFormatError, match="does not exist"):
        SentenceEncoder.load(tmp_path / "nowhere")
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="safetensors"):
        SentenceEncoder.load(tmp_path)


@pytest.mark.shipped
def test_bundled_minilm_places_spun_sentence_near_its_source():
    encoder = SentenceEncoder.load()
    source, spun, other = encoder.encode([
        "The US-led NATO military alliance should not admit new members.",
        "The U.S.-led NATO armed forces alliance should not confess new participants.",
        "The recipe needs two cups of flour and an egg.",
    ])
    assert encoder.dim == 384 and source @ spun > 0.7 > source @ other
