"""The model folder's manifest.json: sealing (`spin-detect seal-model`), refreshing, verifying (issue 39)."""

import json
import shutil

import pytest
import torch
from click.testing import CliRunner
from transformers import AutoTokenizer

from detector.classifier import Calibration, SpinClassifier, SpinScorer
from detector.cli import main
from detector.errors import ModelFormatError
from detector.hf import REMOTE_CODE_FILES
from detector.model_manifest import MANIFEST_FILE, refresh_manifest, verify_model_folder
from detector.seal import seal_model_folder


@pytest.fixture(scope="module")
def saved_model(tiny_bert_dir, tmp_path_factory):
    torch.manual_seed(2)
    scorer = SpinScorer(SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir), Calibration())
    path = tmp_path_factory.mktemp("sealed") / "model"
    scorer.save(path)
    return path


@pytest.fixture
def folder(saved_model, tmp_path):
    path = tmp_path / "model"
    shutil.copytree(saved_model, path)
    return path


def _seal(folder):
    return CliRunner().invoke(main, ["seal-model", str(folder)])


def test_seal_model_records_a_folder_that_had_no_manifest_and_it_loads(folder):
    (folder / MANIFEST_FILE).unlink()
    result = _seal(folder)
    assert result.exit_code == 0, result.output
    files = 5 + len(REMOTE_CODE_FILES)  # the five a model needs, and the remote code the seal writes (detector.hf)
    assert f"sealed {folder}: {files} files" in result.output and "model.safetensors" in result.output
    assert SpinScorer.load(folder).threshold == 0.5


def test_seal_model_refuses_a_folder_without_tokenizer_json_and_writes_nothing(folder):
    (folder / MANIFEST_FILE).unlink()
    (folder / "tokenizer.json").unlink()
    result = _seal(folder)
    assert result.exit_code == 1 and "has no tokenizer.json" in result.output and "Traceback" not in result.output
    assert not (folder / MANIFEST_FILE).exists()


def test_sealing_a_folder_that_does_not_load_keeps_its_previous_manifest(folder):
    before = (folder / MANIFEST_FILE).read_bytes()
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "max_length": -1}))
    with pytest.raises(ModelFormatError, match="max_length=-1"):
        seal_model_folder(folder)
    assert (folder / MANIFEST_FILE).read_bytes() == before


def test_seal_model_folder_from_its_old_home_still_works_with_a_deprecation_warning(folder):
    # issue 36: sealing loads the model, so it moved out of the manifest module that the loaders import
    import detector.model_manifest as model_manifest

    with pytest.warns(DeprecationWarning, match="moved to detector.seal.seal_model_folder"):
        old = model_manifest.seal_model_folder
    assert old is seal_model_folder
    with pytest.raises(AttributeError, match="no attribute 'sealed'"):
        model_manifest.sealed


def test_refreshing_one_file_leaves_a_changed_other_file_refused(folder):
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0x01
    weights.write_bytes(bytes(data))
    (folder / "calibration.json").write_text(json.dumps(Calibration(threshold=0.6).to_dict()))
    refresh_manifest(folder, ["calibration.json"])
    verify_model_folder(folder, only=["calibration.json"])
    with pytest.raises(ModelFormatError, match="model.safetensors fails its sha256 checksum"):
        SpinScorer.load(folder)


def test_a_foreign_or_newer_manifest_is_refused(folder):
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, "format_version": 2}))
    with pytest.raises(ModelFormatError, match="format_version 2"):
        SpinScorer.load(folder)
    (folder / MANIFEST_FILE).write_text(json.dumps({"format": "spin-detector-source-index"}))
    with pytest.raises(ModelFormatError, match="not a spin-detector-model-manifest"):
        SpinScorer.load(folder)
