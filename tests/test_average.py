"""training.average: uniform weight average of tiny random model folders."""

import json

import pytest
import torch
from transformers import AutoTokenizer

from detector.classifier import Calibration, SpinClassifier, SpinScorer
from training.average import average_models, average_state_dicts, main


def _save_model(tiny_bert_dir, folder, seed: int, max_length: int = 64):
    torch.manual_seed(seed)
    scorer = SpinScorer(
        SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir), Calibration(threshold=0.4),
        max_length=max_length,
    )
    scorer.save(folder)
    return folder


def test_state_dicts_average_element_wise_and_keep_integer_tensors():
    first = {"w": torch.tensor([1.0, 2.0], dtype=torch.float16), "ids": torch.tensor([0, 1])}
    second = {"w": torch.tensor([3.0, 6.0], dtype=torch.float16), "ids": torch.tensor([0, 1])}
    averaged = average_state_dicts([first, second])
    assert averaged["w"].tolist() == [2.0, 4.0] and averaged["w"].dtype == torch.float16
    assert averaged["ids"].tolist() == [0, 1] and averaged["ids"].dtype == torch.int64


@pytest.mark.parametrize(
    "states, message",
    [
        ([{"w": torch.ones(2)}], "at least two"),
        ([{"w": torch.ones(2)}, {"v": torch.ones(2)}], "other weights"),
        ([{"w": torch.ones(2)}, {"w": torch.ones(3)}], "different shapes"),
    ],
)
def test_state_dicts_that_cannot_be_averaged_are_refused(states, message):
    with pytest.raises(ValueError, match=message):
        average_state_dicts(states)


def test_the_averaged_folder_holds_the_mean_and_says_where_it_came_from(tiny_bert_dir, tmp_path):
    first = _save_model(tiny_bert_dir, tmp_path / "first", seed=1)
    second = _save_model(tiny_bert_dir, tmp_path / "second", seed=2)
    out = tmp_path / "average"
    main(["--models", str(first), str(second), "--out", str(out)])
    a, b, averaged = (SpinScorer.load(folder).model.state_dict() for folder in (first, second, out))
    for name, tensor in averaged.items():
        expected = ((a[name] + b[name]) / 2).half().to(tensor.dtype) if tensor.is_floating_point() else a[name]
        assert torch.equal(tensor, expected), name
    saved = json.loads((out / "training.json").read_text())
    assert [run["folder"] for run in saved["averaged_from"]] == [str(first), str(second)]
    assert saved["average_command"].startswith("python -m training.average --models")
    assert 0 < saved["average_seconds"] < 600
    assert SpinScorer.load(out).threshold == 0.4  # the last folder's calibration, until training.calibrate runs


def test_models_of_another_shape_are_refused(tiny_bert_dir, tmp_path):
    first = _save_model(tiny_bert_dir, tmp_path / "first", seed=1)
    second = _save_model(tiny_bert_dir, tmp_path / "second", seed=2, max_length=32)
    with pytest.raises(ValueError, match="another architecture or max_length"):
        average_models([first, second])


def test_the_command_line_refuses_one_model_and_mismatched_models(tiny_bert_dir, tmp_path, capsys):
    first = _save_model(tiny_bert_dir, tmp_path / "first", seed=1)
    second = _save_model(tiny_bert_dir, tmp_path / "second", seed=2, max_length=32)
    for models in ([first], [first, second]):
        with pytest.raises(SystemExit):
            main(["--models", *map(str, models), "--out", str(tmp_path / "out")])
    errors = capsys.readouterr().err
    assert "needs at least two model folders" in errors and "another architecture or max_length" in errors
    assert not (tmp_path / "out").exists()
