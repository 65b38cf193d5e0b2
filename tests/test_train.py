"""training.train on a tiny synthetic Parquet dataset with the tiny random BERT."""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from transformers import AutoTokenizer

from detector.classifier import SpinScorer, collate_subwords
from detector.errors import InputError
from detector.text import tokenize
from training.data import encode_texts, epoch_batches, load_split, word_targets
from training.loop import schedule_factor
from training.model_card import _earlier_runs
from training.train import main

CLEAN = [
    "The military alliance should not admit new members.",
    "Shares in the bank rose sharply on Monday.",
    "The minister said the talks would continue next week.",
    "Researchers measured the temperature of the samples every hour.",
]
SPUN_SWAPS = [
    ("The armed forces alliance should not confess new participants.", {"armed", "forces", "confess", "participants"}),
    ("Offers in the bank rose pointedly on Monday.", {"Offers", "pointedly"}),
    ("The priest said the discussions would proceed next week.", {"priest", "discussions", "proceed"}),
    ("Scientists gauged the warmth of the examples each hour.", {"Scientists", "gauged", "warmth", "examples", "each"}),
]
SPUN = [(text, [int(t.text in swaps) for t in tokenize(text) if t.is_word]) for text, swaps in SPUN_SWAPS]
PARAPHRASE = [
    "New members should not be admitted to the alliance, it said.",
    "On Monday the bank's shares went up a lot.",
]


def _rows(copies: int) -> dict:
    rows = {key: [] for key in ("text", "label", "word_labels", "kind", "domain", "rate", "thesaurus", "article_id")}
    for copy in range(copies):
        examples = [(t, 0, [0] * sum(tok.is_word for tok in tokenize(t)), "clean") for t in CLEAN]
        examples += [(t, 1, labels, "spun") for t, labels in SPUN]
        examples += [(t, 0, None, "paraphrase") for t in PARAPHRASE]
        for number, (text, label, labels, kind) in enumerate(examples):
            rows["text"].append(text)
            rows["label"].append(label)
            rows["word_labels"].append(labels)
            rows["kind"].append(kind)
            rows["domain"].append("news")
            rows["rate"].append(0.3 if kind == "spun" else 0.0)
            rows["thesaurus"].append("wordnet" if kind == "spun" else "")
            rows["article_id"].append(f"a{copy}-{number}")
    return rows


def _write_split(path, copies: int) -> None:
    schema = pa.schema(
        [
            ("text", pa.string()),
            ("label", pa.int8()),
            ("word_labels", pa.list_(pa.int8())),
            ("kind", pa.string()),
            ("domain", pa.string()),
            ("rate", pa.float32()),
            ("thesaurus", pa.string()),
            ("article_id", pa.string()),
        ]
    )
    pq.write_table(pa.Table.from_pydict(_rows(copies), schema=schema), path)


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("dataset")
    for name, copies in (("train", 3), ("validation", 1), ("calibration", 2), ("test", 1)):
        _write_split(path / f"{name}.parquet", copies)
    return path


def _args(dataset_dir, tiny_bert_dir, out, *extra):
    return [
        "--data",
        str(dataset_dir),
        "--out",
        str(out),
        "--base",
        str(tiny_bert_dir),
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--checkpoint-dir",
        str(out.parent / "checkpoint"),
        "--log-every",
        "1",
        *extra,
    ]


def test_two_step_training_writes_a_loadable_model_folder(dataset_dir, tiny_bert_dir, tmp_path):
    out = tmp_path / "models" / "spin-classifier"
    record = main(_args(dataset_dir, tiny_bert_dir, out, "--epochs", "1", "--max-steps", "2", "--workers", "1"))
    scorer = SpinScorer.load(out)
    ((probability, words),) = scorer.predict([SPUN[0][0]])
    assert 0.0 <= probability <= 1.0 and len(words) == len(SPUN[0][1]) == 9
    assert 0.0 <= scorer.threshold <= 1.0
    saved = json.loads((out / "training.json").read_text())
    assert saved["data"]["train"]["sentences"] == 30 and saved["data"]["train"]["with_word_labels"] == 24
    assert saved["history"][0]["epoch"] == 1 and "word_f1" in saved["validation"]
    assert record["calibration"]["method"] == "isotonic"
    assert "# Spin classifier" in (out / "README.md").read_text()


@pytest.mark.parametrize("amx, extra, autocast", [(True, (), True), (True, ("--fp32",), False), (False, (), False)])
def test_cpu_training_uses_bf16_autocast_only_where_the_cpu_has_amx(dataset_dir, tiny_bert_dir, tmp_path, monkeypatch,
                                                                    amx, extra, autocast):
    import training.train

    monkeypatch.setattr(training.train, "has_bf16_matrix_units", lambda: amx)
    record = main(_args(dataset_dir, tiny_bert_dir, tmp_path / "model", "--epochs", "1", "--max-steps", "1",
                        "--device", "cpu", *extra))
    assert record["autocast_bf16"] is autocast
    assert np.isfinite(record["history"][0]["sentence_brier_loss"])


def test_held_out_negatives_cap_the_threshold_of_a_training_run_and_reach_its_card(dataset_dir, tiny_bert_dir, tmp_path):
    out, negatives = tmp_path / "model", tmp_path / "human_negatives.parquet"
    pq.write_table(pa.table({"text": [f"A human sentence, number {i}." for i in range(12)]}), negatives)  # text alone, as calibrate takes it
    record = main(_args(dataset_dir, tiny_bert_dir, out, "--epochs", "1", "--max-steps", "1", "--max-fpr", "0.5",
                        "--negatives", str(negatives)))
    held_out = record["calibration"]["held_out_false_positive_rate"]["human_negatives"]
    assert held_out["rows"] == pq.read_metadata(negatives).num_rows and held_out["false_positive_rate"] <= 0.5
    assert f"{held_out['false_positive_rate']:.4f} of {held_out['rows']} held-out sentences of human_negatives" in (out / "README.md").read_text()


def test_recalibration_rewrites_the_card_and_keeps_its_evaluation(dataset_dir, tiny_bert_dir, tmp_path):
    from training.calibrate import main as calibrate

    out = tmp_path / "model"
    main(_args(dataset_dir, tiny_bert_dir, out, "--epochs", "1", "--max-steps", "1", "--max-fpr", "0.5"))
    card = out / "README.md"
    card.write_text(card.read_text() + "\n<!-- evaluation:begin -->\n## Evaluation\nkept\n<!-- evaluation:end -->\n")
    calibrate(["--model", str(out), "--data", str(dataset_dir / "calibration.parquet"), "--max-fpr", "0.25"])
    record, text = json.loads((out / "training.json").read_text()), card.read_text()
    assert record["calibration"]["max_false_positive_rate"] == 0.25 and "int8_calibration" in record
    assert record["validation_at_threshold"]["threshold"] == record["calibration"]["threshold"]
    assert f"threshold {record['calibration']['threshold']:.4f}" in text and "--max-fpr 0.25" in text
    assert f"threshold {record['int8_calibration']['threshold']:.4f}, F1" in text
    assert text.count("<!-- evaluation:begin -->") == 1 and text.rstrip().endswith("kept\n<!-- evaluation:end -->")


def test_continuing_a_model_records_how_that_model_was_made(dataset_dir, tiny_bert_dir, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    main(_args(dataset_dir, tiny_bert_dir, first, "--epochs", "1", "--max-steps", "1"))
    main(_args(dataset_dir, tiny_bert_dir, second, "--epochs", "1", "--max-steps", "1", "--init", str(first),
               "--checkpoint-dir", str(tmp_path / "checkpoint-2")))
    earlier = json.loads((first / "training.json").read_text())
    record = json.loads((second / "training.json").read_text())
    assert record["init_record"]["command"] == earlier["args"]["command"] and record["init_record"]["init_record"] is None
    card = (second / "README.md").read_text()
    assert f"continuing the model `{first}` (its runs are listed below)" in card
    assert f"| 1 | `{earlier['args']['command']}` |" in card and "| 2 |" not in card


def test_continuing_without_a_base_takes_the_tokenizer_and_base_name_from_the_model_it_continues(
    dataset_dir, tiny_bert_dir, tmp_path
):
    first, second = tmp_path / "first", tmp_path / "second"
    main(_args(dataset_dir, tiny_bert_dir, first, "--epochs", "1", "--max-steps", "1"))
    args = _args(dataset_dir, tiny_bert_dir, second, "--epochs", "1", "--max-steps", "1", "--init", str(first),
                 "--checkpoint-dir", str(tmp_path / "checkpoint-2"))
    del args[args.index("--base") : args.index("--base") + 2]
    main(args)
    assert json.loads((second / "config.json").read_text())["base_model"] == Path(tiny_bert_dir).name
    assert f"Fine-tuned from `{Path(tiny_bert_dir).name}`" in (second / "README.md").read_text()


def test_the_pruning_options_of_students_that_never_shipped_are_gone(dataset_dir, tiny_bert_dir, tmp_path, capsys):
    """Issue 36: --layers and --intermediate-size served two candidates that never shipped."""
    for option in ("--layers", "--intermediate-size"):
        with pytest.raises(SystemExit):
            main(_args(dataset_dir, tiny_bert_dir, tmp_path / "student", option, "2"))
        assert f"unrecognized arguments: {option} 2" in capsys.readouterr().err


def test_the_old_name_of_the_validation_metrics_still_works_with_a_deprecation_warning():
    import training.train
    from training.validation import validation_metrics

    with pytest.warns(DeprecationWarning, match="training.validation.validation_metrics"):
        assert training.train.evaluate is validation_metrics


def test_a_finished_checkpoint_is_resumed_and_other_settings_are_refused(dataset_dir, tiny_bert_dir, tmp_path, caplog):
    out = tmp_path / "model"
    first = main(_args(dataset_dir, tiny_bert_dir, out, "--epochs", "2", "--max-train", "16"))
    assert [m["epoch"] for m in first["history"]] == [1, 2]
    caplog.set_level("INFO", logger="training.train")
    again = main(_args(dataset_dir, tiny_bert_dir, out, "--epochs", "2", "--max-train", "16"))
    assert "resuming" in caplog.text and again["history"] == first["history"]
    with pytest.raises(InputError, match="other settings"):
        main(_args(dataset_dir, tiny_bert_dir, out, "--epochs", "3", "--max-train", "16"))


def test_a_run_stopped_by_the_time_limit_resumes_mid_epoch(dataset_dir, tiny_bert_dir, tmp_path, caplog):
    out = tmp_path / "model"
    caplog.set_level("INFO", logger="training.train")
    stopped = main(_args(dataset_dir, tiny_bert_dir, out, "--epochs", "1", "--max-minutes", "0.00001"))
    assert stopped == {"finished": False, "epoch": 1, "batches_done": 1, "wall_seconds": stopped["wall_seconds"]}
    assert not out.exists()
    finished = main(_args(dataset_dir, tiny_bert_dir, out, "--epochs", "1"))
    assert "after epoch 0, batch 1" in caplog.text
    assert finished["finished"] and SpinScorer.load(out).predict(["A sentence."])


def test_tokenising_in_several_processes_gives_the_one_process_result_in_order(tiny_bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    texts = CLEAN + [text for text, _ in SPUN] + PARAPHRASE
    alone = encode_texts(tokenizer, texts, 16)
    assert encode_texts(tokenizer, texts, 16, processes=3, chunk=2) == alone
    assert [item.n_words for item in alone] == [sum(t.is_word for t in tokenize(text)) for text in texts]


def test_word_targets_sit_on_first_subwords_and_rows_without_labels_are_ignored(dataset_dir, tiny_bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    split = load_split(dataset_dir / "validation.parquet", tokenizer, 128)
    rows = [4, 8]  # the first spun row, then a paraphrase row with null word_labels
    batch = collate_subwords([split.inputs[i] for i in rows], tokenizer.pad_token_id)
    targets = word_targets(split, rows, batch["word_index"])
    labelled = targets[0][batch["word_index"][0] >= 0]
    assert labelled.tolist() == SPUN[0][1]
    assert torch.all(targets[1] == -1.0)


def test_word_labels_of_the_wrong_length_are_dropped(tmp_path, tiny_bert_dir):
    rows = _rows(1)
    rows["word_labels"][0] = [0, 1]
    pq.write_table(pa.Table.from_pydict(rows), tmp_path / "bad.parquet")
    assert sum(labels is not None for labels in rows["word_labels"]) == 8
    split = load_split(tmp_path / "bad.parquet", AutoTokenizer.from_pretrained(tiny_bert_dir), 128)
    assert split.mismatched_word_labels == 1 and split.word_labels[0] is None


def test_missing_split_and_missing_columns_are_input_errors(tmp_path, tiny_bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    with pytest.raises(InputError, match="not found"):
        load_split(tmp_path / "train.parquet", tokenizer, 128)
    pq.write_table(pa.table({"text": ["a"]}), tmp_path / "thin.parquet")
    with pytest.raises(InputError, match="lacks columns"):
        load_split(tmp_path / "thin.parquet", tokenizer, 128)


def test_schedule_warms_up_then_decays_to_zero():
    factors = [schedule_factor(step, 100, 0.1) for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[9:], factors[10:])) and factors[-1] < 0.02


def test_epoch_batches_cover_every_row_once(dataset_dir, tiny_bert_dir):
    split = load_split(dataset_dir / "train.parquet", AutoTokenizer.from_pretrained(tiny_bert_dir), 128)
    batches = epoch_batches(split, 8, seed=1)
    assert sorted(i for batch in batches for i in batch) == list(range(len(split)))
    assert batches != epoch_batches(split, 8, seed=2)
    assert np.all([len(batch) <= 8 for batch in batches])


def test_an_average_of_two_runs_gets_its_own_validation_card_and_calibration_and_its_successor_lists_it(
    dataset_dir, tiny_bert_dir, tmp_path
):
    from training.average import main as average
    from training.calibrate import main as calibrate

    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "average"
    main(_args(dataset_dir, tiny_bert_dir, first, "--epochs", "1", "--max-steps", "1"))
    main(_args(dataset_dir, tiny_bert_dir, second, "--epochs", "1", "--max-steps", "1", "--init", str(first),
               "--checkpoint-dir", str(tmp_path / "checkpoint-2")))
    metrics = average(["--models", str(first), str(second), "--out", str(out),
                       "--validation", str(dataset_dir / "validation.parquet")])
    record = json.loads((out / "training.json").read_text())
    assert record["validation"]["sentence_brier_loss"] == metrics["sentence_brier_loss"]
    assert [run["folder"] for run in record["averaged_from"]] == [str(first), str(second)]
    assert record["averaged_from"][1]["command"] == json.loads((second / "training.json").read_text())["args"]["command"]
    assert set(record["averaged_from"][1]) == {"folder", "command", "wall_seconds"}  # the chain is in init_record once
    calibrate(["--model", str(out), "--data", str(dataset_dir / "calibration.parquet"), "--max-fpr", "0.25"])
    card = (out / "README.md").read_text()
    assert "The weights are the uniform average of these model folders" in card and f"| `{first}` |" in card
    assert "## Validation (the average, raw probability at 0.5)" in card and "--max-fpr 0.25" in card

    successor = tmp_path / "successor"  # continuing the average: its card's chain names the average step
    main(_args(dataset_dir, tiny_bert_dir, successor, "--epochs", "1", "--max-steps", "1", "--init", str(out),
               "--checkpoint-dir", str(tmp_path / "checkpoint-3")))
    assert json.loads((successor / "training.json").read_text())["init_record"]["average_command"] == record["average_command"]
    chain = (successor / "README.md").read_text().split("The runs before this one")[1]
    assert chain.index(f"--out {second}") < chain.index(record["average_command"])
    assert f"| `{record['average_command']}` | {record['average_seconds'] / 60:.1f} min |" in chain  # measured, not a label


def test_an_average_made_before_its_wall_time_was_kept_says_so_instead_of_guessing():
    average = {"command": "python -m training.train --out b", "wall_seconds": 600, "init_record": None,
               "average_command": "python -m training.average --models a b --out c"}
    record = {"init_record": {"command": "python -m training.train --init c", "wall_seconds": 3900, "init_record": average}}
    rows = _earlier_runs(record).splitlines()[-3:]
    assert rows == [
        "| 1 | `python -m training.train --out b` | 10 min |",
        "| 2 | `python -m training.average --models a b --out c` | not recorded |",
        "| 3 | `python -m training.train --init c` | 65 min |",
    ]
