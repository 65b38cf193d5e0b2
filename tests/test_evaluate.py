"""The evaluation run end to end on a tiny model and tiny eval sets (the real model is not needed)."""

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from sklearn.metrics import f1_score
from transformers import AutoTokenizer

from detector.classifier import Calibration, SpinClassifier, SpinScorer
from detector.errors import InputError
from detector.text import words
from training.build_dataset import EVAL_FEATURES, FEATURES
from training.evaluate import (
    EvalConfig,
    Scorer,
    at_clean_fpr_section,
    evaluate,
    main,
    recall_by_swapped_words,
    summary_table,
    threshold_at_false_positive_rate,
)

CLEAN = [
    "The company said profits rose in the fourth quarter.",
    "Ministers agreed to admit new members next year.",
    "The central bank kept interest rates unchanged on Thursday.",
    "Shares in the firm fell sharply after the announcement.",
]
SPUN = [
    ("The corporation said earnings rose in the fourth quarter.", {"corporation", "earnings"}),
    ("Ministers agreed to confess new participants next year.", {"confess", "participants"}),
    ("The central bank retained interest charges unchanged on Thursday.", {"retained", "charges"}),
    ("Stocks in the firm fell abruptly after the announcement.", {"Stocks", "abruptly"}),
]


def _row(text, label, kind, swapped=(), pair_id="", source="news"):
    return {"text": text, "label": label, "word_labels": [int(w in swapped) for w in words(text)], "kind": kind,
            "domain": "news", "rate": 0.3 if label else 0.0, "thesaurus": "mythes+wordnet+ppdb" if label else "",
            "article_id": f"bbc:tech/{pair_id or text[:8]}", "source": source, "pair_id": pair_id}


def _write(path, rows, features):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([{k: r[k] for k in features} for r in rows], schema=features.arrow_schema), path)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("dataset")
    spun_set = [r for i, (c, (s, w)) in enumerate(zip(CLEAN, SPUN)) for r in (_row(c, 0, "clean", pair_id=str(i)), _row(s, 1, "spun", w, str(i)))]
    for name in ("news_spun_20_40", "news_spun_05_10", "news_spun_mythes", "news_spun_wordnet", "news_spun_ppdb"):
        _write(data / "eval" / f"{name}.parquet", spun_set, EVAL_FEATURES)
    _write(data / "eval" / "news_clean.parquet", [_row(c, 0, "clean") for c in CLEAN], EVAL_FEATURES)
    _write(data / "eval" / "paraphrase_human.parquet", [_row(c, 0, "paraphrase", source=s) for c, s in zip(CLEAN, ["mrpc", "sts"] * 2)], EVAL_FEATURES)
    tortured = [r for i, c in enumerate(CLEAN) for r in (
        _row(c.replace("fourth", "artificial intelligence"), 0, "clean", pair_id=f"p{i}", source="pps"),
        _row(c.replace("fourth", "counterfeit consciousness"), 1, "tortured", {"counterfeit", "consciousness"}, f"p{i}", "pps"))]
    _write(data / "eval" / "tortured_pairs.parquet", tortured, EVAL_FEATURES)
    for split in ("train", "calibration", "test"):
        _write(data / f"{split}.parquet", spun_set * 3, FEATURES)
    return data


@pytest.fixture(scope="module")
def tiny_model(tiny_bert_dir, tmp_path_factory):
    torch.manual_seed(0)
    scorer = SpinScorer(SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir),
                        Calibration(threshold=0.5, word_threshold=0.4), base_model="tiny-bert")
    path = tmp_path_factory.mktemp("model") / "spin-classifier"
    scorer.save(path)
    return path


def test_evaluate_writes_every_section(tiny_data, tiny_model, shared_dir, tmp_path):
    loto = tmp_path / "loto"
    shutil.copytree(tiny_model, loto / "ppdb")
    config = EvalConfig(model=str(tiny_model), data=str(tiny_data), out=str(tmp_path / "classifier.json"), baselines=("lookup", "tfidf"),
                        bootstrap=20, loto_models=str(loto), shared=str(shared_dir))
    report = evaluate(config)
    assert json.loads((tmp_path / "classifier.json").read_text()) == report
    assert set(report["systems"]) == {"model", "lookup", "tfidf"}
    model = report["systems"]["model"]
    assert model["threshold"] == 0.5
    assert {"value", "low", "high", "n"} <= set(model["news_spun_20_40"]["sentence_f1"])
    assert 0.0 <= model["news_spun_20_40"]["word_f1"]["value"] <= 1.0
    assert model["news_spun_20_40"]["word_threshold"] == 0.4  # the model's calibrated word threshold, not 0.5
    by_count = model["news_spun_20_40"]["recall_by_swapped_words"]
    assert by_count["1-2"]["rows"] == model["news_spun_20_40"]["spun_rows"]  # each tiny spun sentence swaps two words
    assert by_count["5+"] == {"rows": 0, "share_of_spun_rows": 0.0, "recall": None}
    assert model["false_positives"]["paraphrase_human"]["rows"] == 4
    assert set(model["seeds"]["mean_probability"]) == {"000", "001", "002", "003", "004"}
    assert model["tortured_pairs"]["pairs"] == 4
    assert set(model["per_thesaurus"]) == {"mythes", "wordnet", "ppdb"}
    assert len(model["calibration"]["reliability"]["counts"]) >= 1
    assert report["systems"]["tfidf"]["tortured_pairs"]["roc_auc"]["value"] >= 0.0
    assert "word_f1" not in report["systems"]["tfidf"]["news_spun_20_40"]
    assert set(report["loto"]) == {"ppdb"}
    assert set(report["targets"]) >= {"news_spun_20_40.sentence_f1", "seeds.order_holds"}
    table = summary_table(report)
    assert "spun 20-40% sentence F1" in table and "LOTO without ppdb" in table


def test_recall_by_swapped_words_groups_the_spun_rows_by_their_word_labels():
    labels = np.array([0, 1, 1, 1, 1])
    probabilities = np.array([0.9, 0.2, 0.8, 0.7, 0.9])
    word_labels = [[0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1, 1, 1, 1]]
    groups = recall_by_swapped_words(labels, probabilities, word_labels, threshold=0.5)
    assert groups["1-2"] == {"rows": 2, "share_of_spun_rows": 0.5, "recall": 0.5}
    assert groups["3-4"] == {"rows": 1, "share_of_spun_rows": 0.25, "recall": 1.0}
    assert groups["5+"] == {"rows": 1, "share_of_spun_rows": 0.25, "recall": 1.0}
    assert groups["0"] == {"rows": 0, "share_of_spun_rows": 0.0, "recall": None}


def test_a_spun_row_without_a_labelled_word_has_its_own_group():
    """A phrase shortened to one of its own words ("sovereign immunity" -> "immunity") is spun with no
    word to point at; the group's upper bound of 0 once read as no bound and took every row."""
    groups = recall_by_swapped_words(np.array([1, 1]), np.array([0.9, 0.1]), [[0, 0], [1, 0]], threshold=0.5)
    assert groups["0"] == {"rows": 1, "share_of_spun_rows": 0.5, "recall": 1.0}
    assert groups["1-2"]["rows"] == 1


def test_f1_at_clean_fpr_sets_each_threshold_on_clean_news_scores():
    """Two systems are compared at the rate of clean news they flag, not at thresholds calibrated elsewhere."""
    clean = np.linspace(0.0, 0.99, 100)  # 0.00, 0.01, ... 0.99
    spun_texts = [f"s{i}" for i in range(8)]
    spun_probabilities = np.array([0.1, 0.5, 0.975, 0.985, 0.2, 0.3, 0.96, 0.99])
    spun_labels = [0, 0, 1, 1, 0, 0, 1, 1]
    table = dict(zip([f"c{i}" for i in range(100)], clean)) | dict(zip(spun_texts, spun_probabilities)) | {"p0": 0.5, "p1": 0.985}
    scorer = Scorer("fixed", 0.5, lambda texts: (np.array([table[t] for t in texts]), None))
    spun = {"text": spun_texts, "label": spun_labels}
    sets = {"news_clean": {"text": [f"c{i}" for i in range(100)]}, "paraphrase_human": {"text": ["p0", "p1"]},
            "news_spun_20_40": spun, "news_spun_05_10": spun}
    levels = at_clean_fpr_section(scorer, sets, EvalConfig(clean_fpr_levels=(0.02, 0.05)))
    assert [level["clean_fpr"] for level in levels] == [0.02, 0.05]
    two = levels[0]
    assert two["threshold"] == pytest.approx(0.98)  # the two highest clean scores, 0.98 and 0.99, reach it
    assert two["news_clean_false_positive_rate"] == pytest.approx(0.02)
    assert two["paraphrase_false_positive_rate"] == 0.5
    assert two["news_spun_20_40"]["recall"] == 0.5  # 0.96 and 0.975 are under the threshold
    assert two["news_spun_20_40"]["sentence_f1"] == pytest.approx(f1_score(spun_labels, spun_probabilities >= two["threshold"]))
    assert levels[1]["news_spun_20_40"]["recall"] == 1.0


def test_tied_negative_scores_are_not_all_flagged_at_a_small_rate():
    """The phrase lookup scores all clean news 0: a quantile threshold of 0 flagged everything and gave it F1 0.665."""
    assert threshold_at_false_positive_rate(np.zeros(100), 0.02) > 0.0
    tied = np.array([0.0] * 95 + [0.5] * 3 + [0.9] * 2)
    assert np.mean(tied >= threshold_at_false_positive_rate(tied, 0.04)) == 0.02  # the three at 0.5 would make 5%
    assert np.mean(tied >= threshold_at_false_positive_rate(tied, 0.05)) == 0.05
    assert threshold_at_false_positive_rate(tied, 0.001) > 0.9  # none allowed: above the highest


def test_reference_model_is_scored_beside_the_model(tiny_data, tiny_model, shared_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    main(["--model", str(tiny_model), "--reference", str(tiny_model), "--data", str(tiny_data), "--out", str(out),
          "--baselines", "none", "--bootstrap", "5", "--shared", str(shared_dir), "--at-clean-fpr", "0.25,0.5"])
    report = json.loads(out.read_text())
    assert list(report["systems"]) == ["model", "reference"]
    assert report["systems"]["model"]["at_clean_fpr"] == report["systems"]["reference"]["at_clean_fpr"]
    assert [level["clean_fpr"] for level in report["systems"]["model"]["at_clean_fpr"]] == [0.25, 0.5]
    assert "spun 20-40% sentence F1 at 25.0% clean-news FPR" in capsys.readouterr().out


def test_model_and_reference_run_at_the_precision_asked(tiny_data, tiny_model, shared_dir, tmp_path):
    common = ["--model", str(tiny_model), "--reference", str(tiny_model), "--data", str(tiny_data),
              "--baselines", "none", "--bootstrap", "5", "--shared", str(shared_dir)]
    main([*common, "--out", str(tmp_path / "fp32.json")])
    main([*common, "--out", str(tmp_path / "bf16.json"), "--precision", "bf16"])
    fp32, bf16 = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("fp32", "bf16"))
    assert (fp32["config"]["precision"], bf16["config"]["precision"]) == ("fp32", "bf16")
    assert bf16["systems"]["model"] == bf16["systems"]["reference"]
    seeds = [run["systems"]["model"]["seeds"]["mean_probability"] for run in (fp32, bf16)]
    assert seeds[1] != seeds[0] and seeds[1] == pytest.approx(seeds[0], abs=0.02)


def test_clean_fpr_levels_are_checked(tiny_data, tiny_model, tmp_path):
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        evaluate(EvalConfig(model=str(tiny_model), data=str(tiny_data), out=str(tmp_path / "x.json"), clean_fpr_levels=(0.02, 3.0)))
    with pytest.raises(SystemExit):
        main(["--at-clean-fpr", "2%"])


def test_summary_table_reads_a_report_written_before_the_clean_fpr_section(tiny_data, tiny_model, shared_dir, tmp_path):
    report = evaluate(EvalConfig(model=str(tiny_model), data=str(tiny_data), out=str(tmp_path / "r.json"), baselines=(),
                                 bootstrap=5, shared=str(shared_dir)))
    del report["config"]["clean_fpr_levels"]
    assert "clean-news FPR" not in summary_table(report) and "spun 20-40% sentence F1" in summary_table(report)


def test_baseline_thresholds_are_chosen_like_the_models(tiny_data, tiny_model, shared_dir, tmp_path):
    """A fixed 0.5 let the baselines flag a third of clean news, so their F1 was not comparable with the model's."""
    from training.baselines import TfidfLogisticBaseline
    from training.calibrate import choose_threshold

    config = EvalConfig(model=str(tiny_model), data=str(tiny_data), out=str(tmp_path / "c.json"), baselines=("tfidf",),
                        bootstrap=5, shared=str(shared_dir), max_fpr=0.25)
    report = evaluate(config)
    train = pq.read_table(tiny_data / "train.parquet").to_pydict()
    calibration = pq.read_table(tiny_data / "calibration.parquet").to_pydict()
    scores = TfidfLogisticBaseline().fit(train["text"], train["label"]).predict_proba(calibration["text"])[:, 1]
    threshold, chosen = choose_threshold(scores, np.asarray(calibration["label"]), 0.25)
    assert report["systems"]["tfidf"]["threshold"] == pytest.approx(threshold)
    assert chosen["false_positive_rate"] <= 0.25
    assert report["config"]["max_fpr"] == 0.25


def test_cli_runs_without_baselines(tiny_data, tiny_model, shared_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    main(["--model", str(tiny_model), "--data", str(tiny_data), "--out", str(out), "--baselines", "none",
          "--bootstrap", "10", "--shared", str(shared_dir)])
    assert "seed order holds" in capsys.readouterr().out
    assert set(json.loads(out.read_text())["systems"]) == {"model"}


def test_card_gets_one_evaluation_section(tiny_data, tiny_model, shared_dir, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    (model / "README.md").write_text("# Spin classifier\n")
    args = ["--model", str(model), "--data", str(tiny_data), "--out", str(tmp_path / "r.json"), "--baselines", "none",
            "--bootstrap", "5", "--shared", str(shared_dir), "--card", "--max-fpr", "0.027"]
    main(args)
    main(args)
    card = (model / "README.md").read_text()
    assert card.startswith("# Spin classifier") and card.count("## Evaluation") == 1
    assert "at most 2.7% false positives on each kind of negative" in card  # was rounded to 3%
    assert "| spun 20-40% sentence F1 |" in card and "python -m training.evaluate --model" in card


def test_missing_eval_set_and_unknown_baseline_are_named(tiny_data, tiny_model, tmp_path):
    with pytest.raises(InputError, match="eval set .*news_spun_20_40.parquet not found"):
        evaluate(EvalConfig(model=str(tiny_model), data=str(tmp_path), out=str(tmp_path / "x.json")))
    with pytest.raises(InputError, match="unknown baselines \\['bert'\\]"):
        evaluate(EvalConfig(model=str(tiny_model), data=str(tiny_data), out=str(tmp_path / "x.json"), baselines=("bert",), bootstrap=5))
