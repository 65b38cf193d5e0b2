"""A sentence's scores and an article's report do not depend on the batch around them (issue 39).

With int8, `--batch-size 4` and `--batch-size 32` gave different verdicts: one activation scale per
tensor, padding included, for the whole batch. fp32 and bf16 moved in the last bits (padding
length, matrix products with few rows). `detector.invariant` packs sentences without padding and
keeps every row of every product independent of the others.
"""

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from detector.invariant import (
    ROW_MULTIPLE,
    RowInt8Linear,
    RowStableLinear,
    int8_weight_levels,
    pack,
    replace_linear_layers,
    sigmoid,
)

PRECISIONS = ("fp32", "bf16", "int8")
WORDS = "the minister said on monday that new members of the alliance would not be admitted before talks ended".split()
TARGET = "The armed forces alliance should not confess new participants, the minister said on Monday."


def sentences_of_many_lengths(count: int, seed: int = 39) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 40))).capitalize() + "." for _ in range(count)]


OTHERS = sentences_of_many_lengths(40)


def tiny_scorer(tiny_bert_dir: Path, precision: str):
    from transformers import AutoTokenizer

    from detector.classifier import Calibration, SpinClassifier, SpinScorer

    torch.manual_seed(1)
    model = SpinClassifier.from_base(tiny_bert_dir)
    return SpinScorer(model, AutoTokenizer.from_pretrained(tiny_bert_dir), Calibration(threshold=0.5)).with_precision(precision)


def target_alone_and_in_batches(score) -> list:
    """``score(sentences, batch_size)`` for TARGET alone, then among others in batches of 4 and 32."""
    return [
        score([TARGET], 1)[0],
        score(OTHERS[:2] + [TARGET] + OTHERS[2:5], 4)[2],
        score(OTHERS[:20] + [TARGET] + OTHERS[20:], 32)[20],
    ]


@pytest.mark.parametrize("precision", PRECISIONS)
def test_issue_39_a_sentence_scores_the_same_alone_and_in_batches_of_4_and_32(tiny_bert_dir, precision):
    scorer = tiny_scorer(tiny_bert_dir, precision)
    alone, in_four, in_thirty_two = target_alone_and_in_batches(lambda texts, size: scorer.predict(texts, batch_size=size))
    assert alone == in_four == in_thirty_two  # the probability and every word score, to the last bit


@pytest.mark.parametrize("precision", PRECISIONS)
def test_issue_39_a_sentence_vector_is_the_same_alone_and_in_batches(tiny_bert_dir, precision):
    from detector.encoder import SentenceEncoder

    encoder = SentenceEncoder.load(tiny_bert_dir).with_precision(precision)
    vectors = target_alone_and_in_batches(lambda texts, size: encoder.encode(texts, batch_size=size))
    assert all(np.array_equal(vectors[0], other) for other in vectors[1:])


def test_packed_scores_match_the_padded_forward_pass_of_training(tiny_bert_dir):
    """Packing changes which sentences a batch holds, not what the model computes."""
    from detector.classifier import collate_subwords, encode_words
    from detector.text import tokenize

    scorer = tiny_scorer(tiny_bert_dir, "fp32")
    inputs = encode_words(scorer.tokenizer, [tokenize(text) for text in [TARGET, *OTHERS[:7]]])
    raw, words = scorer.score_subwords(inputs, batch_size=8)
    with torch.inference_mode():
        padded = scorer.model(**collate_subwords(inputs, scorer.tokenizer.pad_token_id))
    np.testing.assert_allclose(raw, torch.sigmoid(padded.sentence_logits).numpy(), atol=1e-5)
    first_word = [next(row for row, index in enumerate(item.word_index) if index == 0) for item in inputs]
    np.testing.assert_allclose(
        [w[0] for w in words], torch.sigmoid(padded.word_logits[range(len(inputs)), first_word]).numpy(), atol=1e-5
    )


def test_packed_vectors_match_padded_mean_pooling(tiny_bert_dir):
    from detector.encoder import SentenceEncoder

    encoder = SentenceEncoder.load(tiny_bert_dir)
    texts = [TARGET, *OTHERS[:7]]
    inputs = encoder.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder.model(**inputs).last_hidden_state
    mask = inputs["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1).numpy()
    np.testing.assert_allclose(encoder.encode(texts), expected, atol=1e-5)


def test_models_without_packing_run_equal_length_batches_to_the_same_result(tiny_bert_dir, monkeypatch):
    import detector.invariant

    scorer = tiny_scorer(tiny_bert_dir, "int8")
    packed = scorer.predict([TARGET, *OTHERS], batch_size=16)
    monkeypatch.setattr(detector.invariant, "supports_packing", lambda model: False)
    assert scorer.predict([TARGET, *OTHERS], batch_size=16) == packed
    assert scorer.predict([TARGET], batch_size=1)[0] == packed[0]


def test_no_sentence_gives_empty_results(tiny_bert_dir):
    from detector.encoder import SentenceEncoder

    assert tiny_scorer(tiny_bert_dir, "int8").predict([]) == []
    assert SentenceEncoder.load(tiny_bert_dir).with_precision("int8").encode([]).shape == (0, 32)


def test_pack_keeps_each_sentence_at_its_own_positions():
    batch = pack([[101, 5, 6, 102], [101, 7, 8, 102], [101, 9, 102]], multiple_of=1)
    assert batch.input_ids.tolist() == [[101, 5, 6, 102, 101, 7, 8, 102, 101, 9, 102]]
    assert batch.position_ids.tolist() == [[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2]]
    assert (batch.starts, batch.lengths, batch.runs) == ((0, 4, 8), (4, 4, 3), ((0, 2, 4), (8, 1, 3)))


def test_pack_fills_up_to_a_multiple_of_rows_with_a_sentence_of_its_own():
    batch = pack([[101, 5, 6, 102], [101, 9, 102]])
    assert batch.input_ids.shape == (1, ROW_MULTIPLE) and batch.input_ids[0, 7:].tolist() == [0] * 9
    assert (batch.starts, batch.lengths, batch.runs) == ((0, 4), (4, 3), ((0, 1, 4), (4, 1, 3), (7, 1, 9)))
    assert batch.position_ids[0, 7:].tolist() == list(range(9))


def test_doctests():
    import doctest

    import detector.invariant

    assert doctest.testmod(detector.invariant).failed == 0


@pytest.mark.parametrize("out_features", [1, 384])
def test_row_stable_linear_gives_each_row_the_same_value_in_any_matrix(out_features):
    torch.manual_seed(0)
    linear = torch.nn.Linear(384, out_features)
    stable = RowStableLinear.from_linear(linear)
    x = torch.randn(300, 384)
    full = stable(x)
    for rows in (1, 2, 3, 5, 7, 11, ROW_MULTIPLE + 1, 37, 100):
        assert torch.equal(stable(x[7 : 7 + rows]), full[7 : 7 + rows]), rows
    assert list(stable.state_dict()) == ["weight", "bias"] and stable.weight is linear.weight
    torch.testing.assert_close(full, linear(x))


def test_int8_rows_do_not_depend_on_the_other_rows_and_stay_close_to_fp32():
    torch.manual_seed(0)
    linear = torch.nn.Linear(384, 96)
    int8 = RowInt8Linear.from_linear(linear)
    x = torch.randn(64, 384)
    x[5] *= 100  # one loud row: a scale per tensor would flatten every other row
    full = int8(x)
    assert all(torch.equal(int8(x[row : row + 1]), full[row : row + 1]) for row in range(64))
    quiet = torch.cat([x[:5], x[6:]])
    error = (int8(quiet) - linear(quiet)).abs().max() / linear(quiet).abs().max()
    assert error < 0.02
    torch.testing.assert_close(int8(torch.zeros(3, 384)), linear.bias.detach().expand(3, 96))  # zeros stay zeros


def test_int8_products_are_exact_at_the_chosen_weight_range():
    """Exact int32 sums are what make the int8 rows independent; without VNNI the range is halved."""
    levels = int8_weight_levels()
    assert levels in (127, 64)
    activations = torch.full((16, 256), 127, dtype=torch.int8)
    activations[8:] = -127
    weights = torch.full((32, 256), levels, dtype=torch.int8)
    weights[16:] = -levels
    expected = activations.long() @ weights.long().t()
    assert torch.equal(torch._int_mm(activations, weights.t()).long(), expected)


def test_sigmoid_gives_an_element_the_same_value_in_any_tensor():
    logits = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    full = sigmoid(logits)
    assert all(sigmoid(logits[i : i + 1])[0] == full[i] for i in range(1000))
    np.testing.assert_allclose(full, torch.sigmoid(logits.double()).numpy(), rtol=1e-6)


def test_replacing_linear_layers_keeps_the_state_dict(tiny_bert_dir):
    from detector.classifier import SpinClassifier

    model = SpinClassifier.from_base(tiny_bert_dir)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    replace_linear_layers(model, RowStableLinear.from_linear)
    after = model.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[name], before[name]) for name in before)


# ---------------------------------------------------------------------- the shipped model, whole reports

ARTICLE_BATCH_SIZES = (1, 4, 32)
BBC_ARTICLES = 12 if os.environ.get("CI") else 50  # CI's 20 minutes hold the seeds and 12 (50 take about 6 minutes)


def bbc_articles(shared: Path, count: int) -> list[tuple[str, str]]:
    """``count`` BBC articles spread over the five sections (every n-th file), as (id, text)."""
    files = sorted((shared / "data" / "news" / "bbc").glob("*/*.txt"))
    step = max(1, len(files) // count)
    chosen = files[::step][:count]
    return [(f"bbc:{path.parent.name}/{path.stem}", path.read_text(encoding="utf-8", errors="replace")) for path in chosen]


@pytest.fixture(scope="module")
def articles_and_index(shared_dir, seed_texts):
    """The five seeds and `BBC_ARTICLES` BBC articles, and an index (fp32 encoder) of the clean seeds 003/004 and
    every other BBC article: the sentences of the rest go through the sentence encoder too."""
    from detector.encoder import SentenceEncoder
    from detector.index import SourceIndex

    bbc = bbc_articles(shared_dir, BBC_ARTICLES)
    documents = [{"id": f"seed:{key}", "text": seed_texts[key]} for key in ("003", "004")]
    documents += [{"id": doc_id, "text": text} for doc_id, text in bbc[::2]]
    articles = [(f"seed:{key}", text) for key, text in seed_texts.items()] + bbc
    return articles, SourceIndex.build(documents, encoder=SentenceEncoder.load())


def reports_by_batch_size(detector, articles, index) -> dict[int, list]:
    texts, exclusions = [text for _, text in articles], [[doc_id] for doc_id, _ in articles]
    return {
        size: [report.to_dict() for report in detector.analyze_many(texts, index=index, articles_per_batch=size, exclude_ids=exclusions)]
        for size in ARTICLE_BATCH_SIZES
    }


def check_reports_do_not_depend_on_batch_size(articles_and_index, precision):
    from detector.api import Detector

    articles, index = articles_and_index
    reports = reports_by_batch_size(Detector.load(precision=precision), articles, index)
    one = reports[1]
    for size in ARTICLE_BATCH_SIZES[1:]:
        assert [r["verdict"] for r in reports[size]] == [r["verdict"] for r in one], size
        scores = np.array([[a["spin_score"], b["spin_score"]] for a, b in zip(one, reports[size])])
        assert np.abs(scores[:, 0] - scores[:, 1]).max() <= 1e-6, size
        assert reports[size] == one, size  # every probability, word score and similarity, to the last bit


@pytest.mark.shipped
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_issue_39_reports_on_seeds_and_bbc_articles_do_not_depend_on_batch_size(articles_and_index, precision):
    """About 20 s a precision on two idle cores."""
    check_reports_do_not_depend_on_batch_size(articles_and_index, precision)


@pytest.mark.slow
@pytest.mark.shipped
def test_issue_39_bf16_reports_do_not_depend_on_batch_size(articles_and_index):
    check_reports_do_not_depend_on_batch_size(articles_and_index, "bf16")
