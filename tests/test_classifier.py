"""SpinClassifier and SpinScorer with a tiny random BERT: shapes, folder round trip, batching, errors."""

import copy
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
from detector.decision import DECISIONS_FILE, DecisionModel
from detector.errors import InputError, ModelFormatError
from detector.model_manifest import CLASSIFIER_FILES, MANIFEST_FILE, verify_model_folder, write_manifest
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


def _edit_json(folder, name, change):
    """Change a JSON file of the folder and seal the folder again, so that the value checks (not the
    checksums) are what must refuse it."""
    data = json.loads((folder / name).read_text())
    change(data)
    (folder / name).write_text(json.dumps(data))
    write_manifest(folder)


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
    full, quantized = SpinScorer.load(model_dir), SpinScorer.load(model_dir, precision="int8")
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
    with pytest.raises(ModelFormatError, match="model.safetensors has 1000 bytes, its manifest.json records"):
        SpinScorer.load(model_copy)
    write_manifest(model_copy)  # sealed as it is: the weights reader still refuses it
    with pytest.raises(ModelFormatError, match="corrupt or truncated"):
        SpinScorer.load(model_copy)


@pytest.mark.parametrize("name", ["model.safetensors", "calibration.json", "config.json"])
def test_missing_file_is_a_model_format_error(model_copy, name):
    (model_copy / name).unlink()
    with pytest.raises(ModelFormatError, match=f"no {name}"):
        SpinScorer.load(model_copy)


def test_corrupt_config_is_a_model_format_error(model_copy):
    (model_copy / "config.json").write_text("{not json")
    write_manifest(model_copy)
    with pytest.raises(ModelFormatError, match="config.json is not valid JSON"):
        SpinScorer.load(model_copy)


def test_plain_transformers_folder_is_refused(tiny_bert_dir):
    with pytest.raises(ModelFormatError, match="is not a spin classifier"):
        SpinScorer.load(tiny_bert_dir)


def test_other_format_version_is_refused(model_copy):
    _edit_json(model_copy, "config.json", lambda config: config.update(format_version=99))
    with pytest.raises(ModelFormatError, match="format_version 99"):
        SpinScorer.load(model_copy)


def test_weights_of_another_shape_are_refused(model_copy):
    _edit_json(model_copy, "config.json", lambda config: config["encoder"].update(intermediate_size=48))
    with pytest.raises(ModelFormatError, match="has shape"):
        SpinScorer.load(model_copy)


def test_save_writes_a_manifest_of_every_file_a_model_needs(model_dir):
    manifest = json.loads((model_dir / MANIFEST_FILE).read_text())
    assert manifest["format"] == "spin-detector-model-manifest" and manifest["format_version"] == 1
    assert set(CLASSIFIER_FILES) <= set(manifest["files"]) and "README.md" not in manifest["files"]
    weights = manifest["files"]["model.safetensors"]
    assert weights["bytes"] == (model_dir / "model.safetensors").stat().st_size and len(weights["sha256"]) == 64
    assert verify_model_folder(model_dir, require=CLASSIFIER_FILES) == manifest


def test_the_model_card_and_training_record_may_change_without_sealing_again(model_copy):
    (model_copy / "README.md").write_text("# Spin classifier\n")
    (model_copy / "training.json").write_text("{}")
    assert SpinScorer.load(model_copy).threshold == 0.42


def test_a_file_the_manifest_does_not_list_is_refused(model_copy):
    (model_copy / "added_tokens.json").write_text('{"[NEW]": 30522}')
    with pytest.raises(ModelFormatError, match="holds added_tokens.json, which its manifest.json does not list"):
        SpinScorer.load(model_copy)


@pytest.mark.parametrize("sealed_again", [False, True])
def test_issue_39_a_folder_without_tokenizer_json_is_refused(model_copy, sealed_again):
    """Without tokenizer.json, transformers fell back to a 5-token vocabulary: every word [UNK]."""
    (model_copy / "tokenizer.json").unlink()
    if sealed_again:
        write_manifest(model_copy)
    with pytest.raises(ModelFormatError, match="tokenizer.json") as error:
        SpinScorer.load(model_copy)
    assert "\n" not in str(error.value)


def test_issue_39_flipped_bytes_in_the_weights_are_refused(model_copy):
    weights = model_copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(byte ^ 0xFF for byte in data[middle : middle + 2000])
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="model.safetensors fails its sha256 checksum.*seal-model"):
        SpinScorer.load(model_copy)


def test_issue_39_a_folder_without_a_manifest_is_refused_naming_the_command_that_writes_one(model_copy):
    (model_copy / MANIFEST_FILE).unlink()
    with pytest.raises(ModelFormatError, match=f"no manifest.json .* `spin-detect seal-model {model_copy}`") as error:
        SpinScorer.load(model_copy)
    assert "\n" not in str(error.value)


def test_issue_39_a_changed_decisions_json_beside_the_classifier_is_refused(model_copy):
    DecisionModel.load().save(model_copy)  # DecisionModel.save records decisions.json in the manifest
    SpinScorer.load(model_copy), DecisionModel.load(model_copy)
    path = model_copy / DECISIONS_FILE
    path.write_text(path.read_text().replace('"min_matched": 2', '"min_matched": 3'))
    for load in (SpinScorer.load, DecisionModel.load):
        with pytest.raises(ModelFormatError, match="decisions.json fails its sha256 checksum"):
            load(model_copy)


def test_issue_39_a_nan_calibration_knot_is_refused(model_copy):
    """A NaN knot wrote "spin_score": NaN into reports, which strict JSON parsers reject."""
    _edit_json(model_copy, "calibration.json", lambda calibration: calibration["x"].__setitem__(1, float("nan")))
    with pytest.raises(ModelFormatError, match=r"calibration.json x\[1\]=nan is not a finite number; re-fit it"):
        SpinScorer.load(model_copy)


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("config.json", lambda c: c.update(max_length=-1), r"max_length=-1 must be a whole number in \[3, 512\]"),
        ("config.json", lambda c: c.update(max_length=1024), r"max_length=1024 must be"),
        ("config.json", lambda c: c["encoder"].update(vocab_size=1e8), r"encoder.vocab_size=100000000.0 must be a whole number"),
        ("config.json", lambda c: c["encoder"].update(vocab_size=40_000), r"vocab_size=40000 does not fit the tokenizer's 30522"),
        ("config.json", lambda c: c["encoder"].update(num_hidden_layers=True), r"num_hidden_layers=True must be a whole number"),
        ("config.json", lambda c: c["head"].update(dropout=1.0), r"head.dropout=1.0 must be a real number in \[0.0, 1.0\)"),
        ("config.json", lambda c: c["encoder"].update(layer_norm_eps=float("inf")), r"encoder.layer_norm_eps=inf is not a finite"),
        ("calibration.json", lambda c: c.update(threshold=True), r"calibration threshold True is not a real number"),
        ("calibration.json", lambda c: c.update(word_threshold="0.3"), r"calibration word_threshold '0.3' is not a real number"),
        ("config.json", lambda c: c["encoder"].update(model_type="bert", hidden_act=5), r"unusable encoder/head config"),
        ("calibration.json", lambda c: c["x"].reverse(), r"calibration knot x\[1\] .* does not rise"),
        ("calibration.json", lambda c: c["y"].__setitem__(0, 2.0), r"calibration y\[0\] 2.0 is outside \[0, 1\]"),
        ("calibration.json", lambda c: c.update(int8={"method": "platt", "a": 1.0, "b": 0.0, "threshold": 1.5}),
         r"int8 calibration threshold 1.5 is outside"),
    ],
)
def test_issue_39_an_out_of_range_number_is_refused_naming_the_field_the_value_and_the_fix(model_copy, name, change, message):
    _edit_json(model_copy, name, change)
    with pytest.raises(ModelFormatError, match=message) as error:
        SpinScorer.load(model_copy)
    assert name in str(error.value) and "re-" in str(error.value) and "\n" not in str(error.value)


def test_a_config_far_larger_than_its_weights_is_refused_before_any_weight_is_built(model_copy):
    _edit_json(model_copy, "config.json", lambda c: c["encoder"].update(hidden_size=2**20))  # 128 GB of fp32
    with pytest.raises(ModelFormatError, match="has shape .* config.json implies"):
        SpinScorer.load(model_copy)


def test_weights_holding_nan_are_refused(tiny_scorer, tmp_path):
    model = copy.deepcopy(tiny_scorer.model)
    with torch.no_grad():
        model.word_head[1].bias.fill_(float("nan"))
    SpinScorer(model, tiny_scorer.tokenizer, tiny_scorer.calibration).save(tmp_path / "model")
    with pytest.raises(ModelFormatError, match="weight word_head.1.bias holds NaN or infinity"):
        SpinScorer.load(tmp_path / "model")


def test_calibration_numbers_are_checked_on_construction():
    with pytest.raises(ValueError, match=r"x\[1\] nan is not a finite number"):
        Calibration(method="isotonic", x=[0.0, float("nan")], y=[0.0, 1.0])
    with pytest.raises(ValueError, match="threshold True is not a real number"):
        Calibration(threshold=True)
    with pytest.raises(ValueError, match="a inf is not a finite number"):
        Calibration(method="platt", a=float("inf"))
    assert Calibration(method="isotonic", x=[0.1, 0.9], y=[0.0, 0.0], threshold=np.float32(0.5)).threshold == 0.5


def test_a_half_precision_base_gives_a_full_precision_model(tiny_bert_dir, tmp_path):
    base = tmp_path / "fp16-base"
    AutoModel.from_pretrained(tiny_bert_dir).half().save_pretrained(base)
    AutoTokenizer.from_pretrained(tiny_bert_dir).save_pretrained(base)
    SpinScorer(SpinClassifier.from_base(base), AutoTokenizer.from_pretrained(base)).save(tmp_path / "model")
    loaded = SpinScorer.load(tmp_path / "model")
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}
    assert len(loaded.predict(["Shares rose."])) == 1


def test_quantize_is_a_deprecated_spelling_of_precision_int8(model_dir):
    """Issue 36: SpinScorer.load(quantize=True) duplicated precision="int8"."""
    with pytest.warns(DeprecationWarning, match='use precision="int8"'):
        assert SpinScorer.load(model_dir, quantize=True).quantized
