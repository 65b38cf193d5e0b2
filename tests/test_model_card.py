"""training.model_card: the one writer of a model folder's card, generated from training.json and the evaluation JSON."""

import json
import shutil
from pathlib import Path

import pytest

from training.config import EvalConfig
from training.evaluate import parse_args
from training.model_card import CARD_BEGIN, CARD_END, evaluation_section, main, model_card, render_card, write_model_card
from training.summary import markdown_summary

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "spin-classifier"
EVALUATION = ROOT / "benchmarks" / "results" / "classifier.json"


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture()
def folder(tmp_path):
    """A copy of the shipped model's two records and card."""
    copy = tmp_path / "model"
    copy.mkdir()
    for name in ("training.json", "README.md"):
        shutil.copy(SHIPPED / name, copy / name)
    return copy


def test_the_shipped_card_is_generated_from_its_training_record_and_the_evaluation_json():
    """Issue 36: the card is written in one place, from the records, not copied by hand."""
    card = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert render_card(_json(SHIPPED / "training.json"), _json(EVALUATION)) == card


def test_the_cards_results_table_is_the_one_of_the_evaluation_json():
    report, card = _json(EVALUATION), (SHIPPED / "README.md").read_text(encoding="utf-8")
    section = card[card.index(CARD_BEGIN) : card.index(CARD_END)]
    assert markdown_summary(report) in section
    f1 = report["systems"]["model"]["news_spun_20_40"]["sentence_f1"]
    row = next(line for line in section.splitlines() if line.startswith("| spun 20-40% sentence F1 |"))
    assert row.split(" | ")[1] == f"{f1['value']:.3f} [{f1['low']:.3f}, {f1['high']:.3f}]"
    assert f"in {report['wall_seconds']:.0f} s." in section


def test_the_calibration_and_lineage_come_from_the_training_record():
    record, card = _json(SHIPPED / "training.json"), (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert f"threshold {record['calibration']['threshold']:.4f}" in card
    assert f"Re-calibrated by `{record['calibration_command']}`." in card
    run = record["init_record"]
    while run:  # every earlier run of the lineage, with its command
        assert f"`{run['command']}`" in card
        run = run["init_record"]
    assert "## Limitations" in card


@pytest.mark.parametrize("argv", [
    ["--model", "models/spin-classifier", "--data", "build/dataset", "--out", "benchmarks/results/classifier.json",
     "--loto-models", "build/models/loto", "--card", "--max-fpr", "0.027"],
    ["--model", "m", "--data", "d", "--out", "o.json", "--baselines", "none", "--bootstrap", "200",
     "--at-clean-fpr", "0.02,0.05", "--reference", "r", "--precision", "int8"],
    ["--model", "m", "--data", "d", "--out", "o.json", "--baselines", "tfidf,lookup", "--max-rows", "10"],
])
def test_the_quoted_evaluation_command_gives_back_the_same_config(argv):
    config = parse_args(argv)
    command = config.command()
    assert command == "python -m training.evaluate " + " ".join(argv)
    assert parse_args(command.split()[3:]) == config
    saved = json.loads(json.dumps({**config.__dict__}))  # as the evaluation JSON stores it
    assert EvalConfig.from_dict(saved).command() == command


def test_a_new_training_record_drops_the_evaluation_of_the_model_it_replaces(folder):
    record = _json(folder / "training.json")
    text = write_model_card(folder, record, keep_evaluation=False)
    assert text == model_card(record) == (folder / "README.md").read_text(encoding="utf-8")


def test_recalibration_rewrites_the_training_part_and_keeps_the_evaluation_section(folder):
    record = _json(folder / "training.json")
    record["calibration"]["threshold"] = 0.5
    before = (folder / "README.md").read_text(encoding="utf-8")
    text = write_model_card(folder, record)
    assert "threshold 0.5000" in text and "threshold 0.7665" not in text.split(CARD_BEGIN)[0]
    assert text.split(CARD_BEGIN)[1] == before.split(CARD_BEGIN)[1]


def test_an_evaluation_replaces_only_the_evaluation_section(folder):
    report = _json(EVALUATION)
    report["wall_seconds"] = 99.0
    before = (folder / "README.md").read_text(encoding="utf-8")
    text = write_model_card(folder, report=report)
    assert text.split(CARD_BEGIN)[0] == before.split(CARD_BEGIN)[0]
    assert text.count(CARD_BEGIN) == 1 and text.endswith(evaluation_section(report)) and "in 99 s." in text


def test_an_evaluation_of_a_folder_without_a_card_starts_one(tmp_path):
    text = write_model_card(tmp_path, report=_json(EVALUATION))
    assert text.lstrip("\n") == evaluation_section(_json(EVALUATION))


def test_the_command_line_regenerates_and_checks_a_card(folder, capsys):
    card = folder / "README.md"
    card.write_text("stale\n", encoding="utf-8")
    assert main(["--model", str(folder), "--evaluation", str(EVALUATION), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out and card.read_text(encoding="utf-8") == "stale\n"
    assert main(["--model", str(folder), "--evaluation", str(EVALUATION)]) == 0
    assert card.read_text(encoding="utf-8") == (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert main(["--model", str(folder), "--check"]) == 0


def test_a_folder_without_a_training_record_is_refused_with_the_way_out(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--model", str(tmp_path)])
    assert "no training.json" in capsys.readouterr().err
