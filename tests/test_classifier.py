"""SpinClassifier and SpinScorer with a tiny random BERT: shapes, folder round trip, batching, errors."""

import json
import shutil

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from detector.classifier import (
    Calibration,
    SpinClassifier,
    SpinScorer,
    collate_subwords,
    encode_words,
)
from detector.errors import InputError, ModelFormatError
from detector.text import tokenize

SENTENCES = [
    "The armed forces alliance should not confess new participants.",
    "Shares rose.",
    "",
    "In 2024, the company's revenue grew by 3.5% to $100,000 (a record), analysts said on Tuesday.",
    "?!",
    "Scientists at the university found that the new drug reduced symptoms in most of the patients who took it.",
]


@pytest.fixture(scope="session")
def tiny_scorer(tiny_bert_dir) -> SpinScorer:
    torch.manual_seed(1)
    model = SpinClassifier.from_base(tiny_bert_dir)
    calibration = Calibration(method="isotonic", x=[0.0, 0.4, 0.6, 1.0], y=[0.0, 0.1, 0.9, 1.0], threshold=0.42)
    return SpinScorer(model, AutoTokenizer.from_pretrained(tiny_bert_dir), calibration, base_model="tiny-bert")


@pytest.fixture(scope="session")
def model_dir(tiny_scorer, tmp_path_factory):
    path = tmp_path_factory.mktemp("spin-model") / "model"
    tiny_scorer.save(path)
    return path


@pytest.fixture
def model_copy(model_dir, tmp_path):
    path = tmp_path / "model"
    shutil.copytree(model_dir, path)
    return path


def test_forward_gives_one_logit_per_sentence_and_per_subword(tiny_scorer):
    inputs = encode_words(tiny_scorer.tokenizer, [tokenize(s) for s in SENTENCES[:3]])
    batch = collate_subwords(inputs, tiny_scorer.tokenizer.pad_token_id)
    with torch.inference_mode():
        output = tiny_scorer.model(**batch)
    assert output.sentence_logits.shape == (3,)
    assert output.word_logits.shape == batch["input_ids"].shape


def test_word_index_marks_the_first_subword_of_each_word(tiny_scorer):
    tokens = tokenize("Participants confessed, unbelievably.")
    (item,) = encode_words(tiny_scorer.tokenizer, [tokens])
    assert item.n_words == 3
    assert [i for i in item.word_index if i >= 0] == [0, 1, 2]
    assert item.word_index[0] == -1 and item.word_index[-1] == -1  # [CLS], [SEP]


def test_word_scores_align_with_tokenize(tiny_scorer):
    for sentence, (probability, words) in zip(SENTENCES, tiny_scorer.predict(SENTENCES)):
        assert [word for word, _ in words] == [t.text for t in tokenize(sentence) if t.is_word]
        assert 0.0 <= probability <= 1.0
        assert all(0.0 < p < 1.0 for _, p in words)


def test_empty_list_gives_empty_list(tiny_scorer):
    assert tiny_scorer.predict([]) == []


def test_mixed_lengths_in_batches_match_one_by_one_and_keep_order(tiny_scorer):
    batched = tiny_scorer.predict(SENTENCES, batch_size=2)
    single = [tiny_scorer.predict([sentence])[0] for sentence in SENTENCES]
    for (p_batch, w_batch), (p_single, w_single) in zip(batched, single):
        assert p_batch == pytest.approx(p_single, abs=1e-5)
        assert [w for w, _ in w_batch] == [w for w, _ in w_single]
        assert [p for _, p in w_batch] == pytest.approx([p for _, p in w_single], abs=1e-5)


def test_words_cut_off_by_max_length_are_listed_with_probability_zero(tiny_scorer):
    sentence = " ".join(["word"] * 200) + "."
    probability, words = tiny_scorer.predict([sentence])[0]
    assert len(words) == 200
    assert all(p > 0 for _, p in words[:100])
    assert all(p == 0.0 for _, p in words[130:])


def test_save_then_load_gives_the_same_predictions(tiny_scorer, model_dir):
    loaded = SpinScorer.load(model_dir)
    expected, got = tiny_scorer.predict(SENTENCES), loaded.predict(SENTENCES)
    for (p_expected, w_expected), (p_got, w_got) in zip(expected, got):
        assert p_got == pytest.approx(p_expected, abs=1e-3)  # fp16 weights
        assert [p for _, p in w_got] == pytest.approx([p for _, p in w_expected], abs=1e-3)
    assert loaded.predict(SENTENCES) == SpinScorer.load(model_dir).predict(SENTENCES)
    assert loaded.threshold == 0.42
    assert loaded.calibration == tiny_scorer.calibration


def test_model_folder_holds_config_weights_tokenizer_and_calibration(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["format"] == "spin-detector-classifier" and config["format_version"] == 1
    assert config["max_length"] == 128 and config["base_model"] == "tiny-bert"
    assert {"torch", "transformers"} <= set(config["versions"])
    assert (model_dir / "model.safetensors").is_file() and (model_dir / "tokenizer.json").is_file()
    assert json.loads((model_dir / "calibration.json").read_text())["method"] == "isotonic"


def test_quantized_model_agrees_with_full_precision(model_dir):
    full, quantized = SpinScorer.load(model_dir), SpinScorer.load(model_dir, quantize=True)
    assert quantized.quantized
    for (p_full, w_full), (p_q, w_q) in zip(full.predict(SENTENCES), quantized.predict(SENTENCES)):
        assert p_q == pytest.approx(p_full, abs=0.03)
        assert [p for _, p in w_q] == pytest.approx([p for _, p in w_full], abs=0.03)
    with pytest.raises(InputError, match="running in int8 cannot be saved"):
        quantized.save(model_dir.parent / "never")


def test_bf16_model_agrees_with_full_precision_and_keeps_its_calibration(model_dir):
    full, half = SpinScorer.load(model_dir), SpinScorer.load(model_dir, precision="bf16")
    assert half.precision == "bf16" and not half.quantized
    assert half.calibration == full.calibration
    assert half.model.word_head[1].weight.dtype == torch.float32  # the heads stay in fp32
    for (p_full, w_full), (p_half, w_half) in zip(full.predict(SENTENCES), half.predict(SENTENCES)):
        assert p_half == pytest.approx(p_full, abs=0.02)
        assert [p for _, p in w_half] == pytest.approx([p for _, p in w_full], abs=0.02)
    with pytest.raises(InputError, match="already runs in bf16"):
        half.with_precision("int8")
    with pytest.raises(InputError, match="running in bf16 cannot be saved"):
        half.save(model_dir.parent / "never")


def test_precision_is_checked_on_load(model_dir):
    with pytest.raises(InputError, match="precision 'fp16' is unknown"):
        SpinScorer.load(model_dir, precision="fp16")
    with pytest.raises(InputError, match="quantize=True asks for int8"):
        SpinScorer.load(model_dir, quantize=True, precision="bf16")
    assert SpinScorer.load(model_dir, precision="fast").precision in ("bf16", "int8")


def test_quantized_model_uses_its_own_calibration(tiny_scorer, tmp_path):
    int8 = Calibration(method="platt", a=1.5, b=0.2, threshold=0.37, word_threshold=0.31)
    full = Calibration(method="isotonic", x=[0.0, 1.0], y=[0.0, 1.0], threshold=0.42, word_threshold=0.33, int8=int8)
    SpinScorer(tiny_scorer.model, tiny_scorer.tokenizer, full, base_model="tiny-bert").save(tmp_path / "model")
    assert SpinScorer.load(tmp_path / "model").threshold == pytest.approx(0.42)
    assert SpinScorer.load(tmp_path / "model").word_threshold == pytest.approx(0.33)
    quantized = SpinScorer.load(tmp_path / "model", quantize=True)
    assert quantized.threshold == pytest.approx(0.37) and quantized.calibration.method == "platt"
    assert quantized.word_threshold == pytest.approx(0.31)
    assert Calibration.from_dict(full.to_dict()) == full


def test_calibration_maps_raw_probabilities():
    isotonic = Calibration(method="isotonic", x=[0.2, 0.8], y=[0.0, 1.0])
    assert isotonic.apply(np.array([0.0, 0.5, 1.0])).tolist() == pytest.approx([0.0, 0.5, 1.0])
    platt = Calibration(method="platt", a=2.0, b=0.0)
    assert platt.apply(np.array([0.5]))[0] == pytest.approx(0.5)
    assert platt.apply(np.array([0.75]))[0] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="'magic' is unknown"):
        Calibration(method="magic")
    with pytest.raises(ValueError, match="word_threshold 1.5 is outside"):
        Calibration(word_threshold=1.5)
    assert Calibration.from_dict({"method": "identity", "threshold": 0.6}).word_threshold == 0.5  # older folders


def test_predict_rejects_a_bare_string_and_non_strings(tiny_scorer):
    with pytest.raises(InputError, match="one string"):
        tiny_scorer.predict("A sentence.")
    with pytest.raises(InputError, match="sentence 1 is a int"):
        tiny_scorer.predict(["A sentence.", 3])


def test_missing_folder_is_a_model_format_error(tmp_path):
    with pytest.raises(ModelFormatError, match="does not exist"):
        SpinScorer.load(tmp_path / "nowhere")


def test_truncated_weights_are_a_model_format_error(model_copy):
    weights = model_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelFormatError, match="corrupt or truncated"):
        SpinScorer.load(model_copy)


@pytest.mark.parametrize("name", ["model.safetensors", "calibration.json", "config.json"])
def test_missing_file_is_a_model_format_error(model_copy, name):
    (model_copy / name).unlink()
    with pytest.raises(ModelFormatError, match=f"no {name}"):
        SpinScorer.load(model_copy)


def test_corrupt_config_is_a_model_format_error(model_copy):
    (model_copy / "config.json").write_text("{not json")
    with pytest.raises(ModelFormatError, match="config.json is not valid JSON"):
        SpinScorer.load(model_copy)


def test_plain_transformers_folder_is_refused(tiny_bert_dir):
    with pytest.raises(ModelFormatError, match="is not a spin classifier"):
        SpinScorer.load(tiny_bert_dir)


def test_other_format_version_is_refused(model_copy):
    config = json.loads((model_copy / "config.json").read_text())
    config["format_version"] = 99
    (model_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError, match="format_version 99"):
        SpinScorer.load(model_copy)


def test_weights_of_another_shape_are_refused(model_copy):
    config = json.loads((model_copy / "config.json").read_text())
    config["encoder"]["intermediate_size"] = 48
    (model_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError, match="has shape"):
        SpinScorer.load(model_copy)


def test_a_half_precision_base_gives_a_full_precision_model(tiny_bert_dir, tmp_path):
    base = tmp_path / "fp16-base"
    AutoModel.from_pretrained(tiny_bert_dir).half().save_pretrained(base)
    AutoTokenizer.from_pretrained(tiny_bert_dir).save_pretrained(base)
    SpinScorer(SpinClassifier.from_base(base), AutoTokenizer.from_pretrained(base)).save(tmp_path / "model")
    loaded = SpinScorer.load(tmp_path / "model")
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}
    assert len(loaded.predict(["Shares rose."])) == 1


def test_keep_layers_gives_a_shallower_model_whose_folder_loads_at_that_depth(tiny_bert_dir, tmp_path):
    model = SpinClassifier.from_base(tiny_bert_dir).keep_layers(1)
    assert len(model.encoder.encoder.layer) == model.encoder.config.num_hidden_layers == 1
    scorer = SpinScorer(model, AutoTokenizer.from_pretrained(tiny_bert_dir), Calibration(), base_model="tiny-bert")
    scorer.save(tmp_path / "shallow")
    loaded = SpinScorer.load(tmp_path / "shallow")
    assert len(loaded.model.encoder.encoder.layer) == 1
    assert loaded.predict(SENTENCES[:2])[0][0] == pytest.approx(scorer.predict(SENTENCES[:2])[0][0], abs=1e-3)


def test_keep_feed_forward_drops_only_the_units_ranked_lowest_and_the_folder_loads_at_that_width(tiny_bert_dir, tmp_path):
    torch.manual_seed(0)
    model = SpinClassifier.from_base(tiny_bert_dir).eval()
    importance = [torch.rand(64) for _ in model.encoder.encoder.layer]
    with torch.no_grad():  # the 16 lowest-ranked units of each layer write nothing: dropping them changes nothing
        for layer, score in zip(model.encoder.encoder.layer, importance):
            layer.output.dense.weight[:, torch.topk(score, 16, largest=False).indices] = 0.0
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    before = SpinScorer(model, tokenizer).predict(SENTENCES[:2])
    model.keep_feed_forward(48, importance)
    assert model.encoder.config.intermediate_size == 48
    assert {tuple(layer.intermediate.dense.weight.shape) for layer in model.encoder.encoder.layer} == {(48, 32)}
    scorer = SpinScorer(model, tokenizer, Calibration(), base_model="tiny-bert")
    after = scorer.predict(SENTENCES[:2])
    assert [p for p, _ in after] == pytest.approx([p for p, _ in before], abs=1e-5)
    scorer.save(tmp_path / "narrow")
    loaded = SpinScorer.load(tmp_path / "narrow")
    assert loaded.model.encoder.config.intermediate_size == 48
    assert loaded.predict(SENTENCES[:2])[0][0] == pytest.approx(after[0][0], abs=1e-3)


@pytest.mark.parametrize("width, units", [(0, 64), (65, 64), (32, 63)])
def test_keep_feed_forward_with_a_width_or_scores_that_do_not_fit_is_an_input_error(tiny_bert_dir, width, units):
    model = SpinClassifier.from_base(tiny_bert_dir)
    with pytest.raises(InputError, match="units"):
        model.keep_feed_forward(width, [torch.rand(units) for _ in model.encoder.encoder.layer])


@pytest.mark.parametrize("count", [0, 3])
def test_keep_layers_outside_the_encoders_depth_is_an_input_error(tiny_bert_dir, count):
    with pytest.raises(InputError, match="1 to 2 layers"):
        SpinClassifier.from_base(tiny_bert_dir).keep_layers(count)
