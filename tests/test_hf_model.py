"""Issue 37: the model folder in Hugging Face form, loaded by transformers without the detector package."""

import json
import shutil
from pathlib import Path

import pytest
from huggingface_hub import metadata_load

from detector.hf import HF_CONFIG, PIPELINE_TASK, REMOTE_CODE_FILES, write_hf_form
from training.model_card import MODEL_INDEX_METRICS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "spin-classifier"
EVALUATION = ROOT / "benchmarks" / "results" / "classifier.json"


@pytest.fixture(scope="module")
def detector_and_pipeline():
    import transformers

    from detector.api import Detector

    pipe = transformers.pipeline(PIPELINE_TASK, model=str(SHIPPED), trust_remote_code=True)
    return Detector.load(), pipe


def _seed_sentences(shared_dir, prefix: str) -> list[str]:
    from training.evaluate import seed_sentences

    return seed_sentences(str(shared_dir))[prefix]


def test_the_remote_code_imports_only_torch_numpy_transformers_and_itself():
    """Users load the folder without our package: no `detector` import may hide in its code."""
    import ast

    allowed = {"torch", "numpy", "transformers", "json", "re", "dataclasses"}
    for name in REMOTE_CODE_FILES:
        tree = ast.parse((ROOT / "detector" / "hf" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert {alias.name.split(".")[0] for alias in node.names} <= allowed, (name, ast.dump(node))
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module.split(".")[0] in allowed, (name, node.module)


@pytest.mark.shipped
def test_the_shipped_folder_carries_the_remote_code_of_the_package_byte_for_byte():
    for name in REMOTE_CODE_FILES:
        assert (SHIPPED / name).read_bytes() == (ROOT / "detector" / "hf" / name).read_bytes(), name
    config = json.loads((SHIPPED / "config.json").read_text(encoding="utf-8"))
    assert {key: config[key] for key in HF_CONFIG} == HF_CONFIG
    assert config["format"] == "spin-detector-classifier" and "encoder" in config and "head" in config


@pytest.mark.shipped
def test_autoconfig_and_automodel_load_the_shipped_folder_with_its_fp16_weights():
    import safetensors.torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(str(SHIPPED), trust_remote_code=True)
    assert config.model_type == "spin-detector" and config.max_length == 64
    model = transformers.AutoModel.from_pretrained(str(SHIPPED), trust_remote_code=True)
    weights = safetensors.torch.load_file(SHIPPED / "model.safetensors")
    state = model.state_dict()
    assert set(state) == set(weights)
    assert all((state[name].half() == tensor).all() for name, tensor in weights.items())


@pytest.mark.shipped
def test_the_pipeline_gives_the_probabilities_of_score_sentences_on_the_seeds(detector_and_pipeline, shared_dir):
    det, pipe = detector_and_pipeline
    sentences = [s for prefix in ("000", "001", "003") for s in _seed_sentences(shared_dir, prefix)[:8]]
    nato = next(s for s in _seed_sentences(shared_dir, "000") if "NATO" in s)
    sentences.append(nato)
    expected = det.score_sentences(sentences)
    got = pipe(sentences)
    for score, output in zip(expected, got):
        assert output["sentence"] == score.text
        assert output["probability"] == pytest.approx(score.spun_probability, abs=1e-4)
        assert output["spun"] == score.is_spun
        assert [w["word"] for w in output["words"]] == [w for w, _ in score.word_scores]
        assert [w["probability"] for w in output["words"]] == pytest.approx([p for _, p in score.word_scores], abs=1e-4)


@pytest.mark.shipped
def test_the_pipeline_names_the_swapped_words_of_a_spun_seed_sentence(detector_and_pipeline, shared_dir):
    det, pipe = detector_and_pipeline
    (sentence,) = [s for s in _seed_sentences(shared_dir, "000") if "confess new participants" in s]
    output = pipe(sentence)
    assert output["spun"] and "confess" in output["swapped"]
    assert output["swapped"] == det.score_sentences([sentence])[0].swapped_words
    word = next(w for w in output["words"] if w["word"] == "confess")
    assert sentence[word["start"] : word["end"]] == "confess"


def test_a_tiny_model_saved_by_the_training_save_path_loads_with_automodel(tiny_parts, tmp_path):
    """SpinScorer.save (what training.train calls) writes the Hugging Face form; the logits agree."""
    import torch
    import transformers

    from detector.classifier import SpinScorer, collate_subwords, encode_words
    from detector.text import tokenize

    scorer = tiny_parts["scorer"]
    scorer.save(tmp_path / "model")
    model = transformers.AutoModel.from_pretrained(str(tmp_path / "model"), trust_remote_code=True).eval()
    loaded = SpinScorer.load(tmp_path / "model")
    batch = collate_subwords(encode_words(loaded.tokenizer, [tokenize("The cat sat on the mat.")]), pad_id=0)
    with torch.inference_mode():
        theirs, ours = model(**batch), loaded.model(**batch)
    assert torch.allclose(theirs.sentence_logits, ours.sentence_logits, atol=1e-5)
    assert torch.allclose(theirs.word_logits, ours.word_logits, atol=1e-5)


def test_sealing_an_older_folder_gives_it_the_hugging_face_form(tiny_parts, tmp_path):
    from detector.seal import seal_model_folder

    folder = tmp_path / "model"
    tiny_parts["scorer"].save(folder)
    for name in REMOTE_CODE_FILES:
        (folder / name).unlink()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k not in HF_CONFIG}), encoding="utf-8")
    sealed = seal_model_folder(folder)
    assert set(REMOTE_CODE_FILES) <= set(sealed["files"])
    assert json.loads((folder / "config.json").read_text(encoding="utf-8"))["model_type"] == "spin-detector"


def test_writing_the_form_twice_changes_nothing(tiny_parts, tmp_path):
    folder = tmp_path / "model"
    tiny_parts["scorer"].save(folder)
    before = {name: (folder / name).read_bytes() for name in ("config.json", *REMOTE_CODE_FILES)}
    write_hf_form(folder)
    assert before == {name: (folder / name).read_bytes() for name in before}


def _card_metadata() -> dict:
    """The card's metadata as the Hugging Face Hub reads it."""
    return metadata_load(SHIPPED / "README.md")


def test_the_card_metadata_has_the_keys_the_hub_reads():
    metadata = _card_metadata()
    assert metadata["license"] == "mit" and metadata["pipeline_tag"] == "text-classification"
    assert metadata["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert metadata["datasets"] and metadata["model-index"][0]["results"]


def test_the_card_model_index_figures_are_those_of_the_evaluation_json():
    report = json.loads(EVALUATION.read_text(encoding="utf-8"))["systems"]["model"]
    results = _card_metadata()["model-index"][0]["results"]
    assert len(results) == len(MODEL_INDEX_METRICS)
    for result, (key, _, metrics) in zip(results, MODEL_INDEX_METRICS):
        assert result["dataset"]["type"] == key
        for metric, (path, kind, _) in zip(result["metrics"], metrics):
            value = report[key]
            for part in path.split("."):
                value = value[part]
            assert metric["type"] == kind and metric["value"] == value["value"]
