"""Article- and pair-level evaluation (issue 5) with tiny models, and the evaluation set builder."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from detector.errors import InputError
from detector.evaluation import (
    BASELINES,
    SAMPLE_ENV,
    evaluate,
    fit_threshold_verdicts,
    load_eval_data,
    minhash_similarity_matrix,
    sample_from_env,
    summary_table,
    tfidf_cosine_matrix,
)
from detector.report import VERDICTS

WIRE = (
    "Russia won China's backing in its standoff with the West over Ukraine on Friday. "
    "Beijing agreed with Moscow that the NATO alliance should not admit new members. "
    "The demand came after a meeting between Vladimir Putin and Xi Jinping in Beijing. "
    "Western capitals accuse Russia of massing 100,000 troops near the border of Ukraine."
)
RATES = (
    "The Bank of England raised interest rates to 0.5% on Thursday. "
    "Economists expect inflation to peak above 7% in April. "
    "Mortgage holders face higher monthly payments this spring."
)
FOOTBALL = (
    "Arsenal beat Chelsea 2-1 at the Emirates Stadium on Sunday. "
    "Bukayo Saka scored the winner ten minutes from time. "
    "The result lifts Arsenal to second place in the Premier League table."
)
SPUN_WIRE = WIRE.replace("admit new members", "confess new participants").replace("backing", "support")
SOURCES = [{"id": "wire", "text": WIRE, "meta": {}}, {"id": "rates", "text": RATES, "meta": {}}, {"id": "sport", "text": FOOTBALL, "meta": {}}]


def _suspect(number, verdict, text, source_id, split="test", variant="v", rate=None):
    return {"id": f"{verdict}:{number}", "text": text, "verdict": verdict, "variant": variant,
            "source_id": source_id, "rate": rate, "split": split}


SUSPECTS = [
    _suspect(0, "copy", " ".join(reversed(WIRE.split(". "))), "wire", variant="shuffled"),
    _suspect(1, "copy", RATES, "rates", split="tune", variant="verbatim"),
    _suspect(0, "spun", SPUN_WIRE, "wire", variant="light", rate=0.1),
    _suspect(0, "original", "Scientists found water ice on a distant moon of Saturn. The probe sent images for months.", None),
    _suspect(1, "original", "A new bakery opened downtown. It sells sourdough bread and pastries.", None, split="tune"),
]
PAIRS = [
    {"id": "copy:0", "source": "Economists expect inflation to peak above 7% in April.",
     "suspect": "economists expect inflation to peak above 7% in april.", "relation": "copy", "variant": "lost_case", "rate": None},
    {"id": "spun:0", "source": "The NATO alliance should not admit new members.",
     "suspect": "The NATO alliance should not confess new participants.", "relation": "spun", "variant": "rate_0.3", "rate": 0.3},
    {"id": "paraphrase:0", "source": "The company reported higher profits this year.",
     "suspect": "This year the firm's earnings went up.", "relation": "paraphrase", "variant": "mrpc", "rate": None},
    {"id": "unrelated:0", "source": "Arsenal beat Chelsea on Sunday.", "suspect": "The moon has water ice.",
     "relation": "unrelated", "variant": "random_news", "rate": None},
]


def _write_set(folder, suspects=SUSPECTS, pairs=PAIRS, sources=SOURCES):
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("sources", sources), ("suspects", suspects), ("pairs", pairs)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "card.json").write_text(json.dumps({"parameters": {"seed": 0}}), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def parts(tiny_bert_dir):
    import torch
    from transformers import AutoTokenizer

    from detector.classifier import Calibration, SpinClassifier, SpinScorer
    from detector.encoder import SentenceEncoder
    from detector.thesaurus import SynonymTable

    torch.manual_seed(1)
    scorer = SpinScorer(SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir), Calibration(threshold=0.5))
    synonyms = SynonymTable.from_pairs([("admit", "confess"), ("members", "participants"), ("backing", "support")])
    return {"encoder": SentenceEncoder.load(tiny_bert_dir), "scorer": scorer, "synonyms": synonyms}


@pytest.fixture(scope="module")
def bare(parts):
    from detector.api import Detector

    return Detector(encoder=parts["encoder"], synonyms=parts["synonyms"])


@pytest.fixture(scope="module")
def full(parts):
    from detector.api import Detector

    return Detector(**parts)


@pytest.fixture
def eval_dir(tmp_path):
    return _write_set(tmp_path / "eval")


def test_baseline_similarities_rank_the_copied_source_first():
    sources = [WIRE, RATES, FOOTBALL]
    for matrix in (minhash_similarity_matrix([WIRE, SPUN_WIRE, FOOTBALL], sources), tfidf_cosine_matrix([WIRE, SPUN_WIRE, FOOTBALL], sources)):
        assert matrix.shape == (3, 3)
        assert matrix.argmax(axis=1).tolist() == [0, 0, 2]
        assert matrix[0, 0] == pytest.approx(1.0, abs=1e-6) and matrix[0, 1] < 0.2
    assert minhash_similarity_matrix([], sources).shape == (0, 3)


def test_threshold_verdicts_are_ordered_cuts_on_one_similarity():
    model = fit_threshold_verdicts([0.95, 0.9, 0.6, 0.55, 0.1, 0.05], ["copy", "copy", "spun", "spun", "original", "original"])
    assert model.predict([[0.99], [0.58], [0.0]]).tolist() == ["copy", "spun", "original"]


def test_load_eval_data_samples_per_verdict_and_caps_distractors(eval_dir):
    data = load_eval_data(eval_dir, sample=1)
    assert sorted(s["verdict"] for s in data.suspects) == ["copy", "original", "spun"]
    assert [s["id"] for s in data.suspects if s["verdict"] == "copy"] == ["copy:0"]
    capped = load_eval_data(eval_dir, sample=1, distractors=0)
    assert [d.id for d in capped.sources] == ["wire"]  # the only source a kept suspect points to
    assert len(load_eval_data(eval_dir).sources) == 3 and data.card == {"parameters": {"seed": 0}}
    with pytest.raises(InputError, match="build_eval_articles"):
        load_eval_data(eval_dir / "missing")
    with pytest.raises(InputError, match="positive"):
        load_eval_data(eval_dir, sample=0)


def test_sample_from_env(monkeypatch):
    monkeypatch.delenv(SAMPLE_ENV, raising=False)
    assert sample_from_env() is None
    monkeypatch.setenv(SAMPLE_ENV, "7")
    assert sample_from_env() == 7
    monkeypatch.setenv(SAMPLE_ENV, "many")
    with pytest.raises(InputError, match=SAMPLE_ENV):
        sample_from_env()


def test_evaluate_without_classifier_gives_every_figure(eval_dir, tmp_path, bare):
    result = evaluate(eval_dir, bare, bootstrap=20)
    articles = result.articles
    assert articles["suspects"] == 3  # the test split only
    for name in ("detector", *BASELINES):
        system = articles["systems"][name]
        assert set(system) >= {"macro_f1", "f1", "confusion", "retrieval"}
        assert system["confusion"]["labels"] == list(VERDICTS)
        assert np.array(system["confusion"]["matrix"]).sum() == 3
        assert set(system["macro_f1"]) == {"value", "low", "high", "n"}
        assert set(system["retrieval"]["copy+spun"]) == {"at_1", "at_5"}
    records = {r.id: r for r in result.article_records}
    assert records["copy:0"].ranked["minhash"][0] == "wire"
    assert result.pairs["score"].startswith("spin strength") and result.data["classifier"] is False
    assert all(r.spun_probability is None for r in result.pair_records)
    assert set(result.pairs["roc_auc_by_rate"]) == {"0.3"}
    saved = json.loads(result.save(tmp_path / "out" / "evaluation.json").read_text())
    assert saved["article_records"][0]["id"] == "copy:0" and saved["data"]["notes"]
    table = summary_table(saved)
    assert table.splitlines()[0] == "| metric | this project | minhash | tfidf_cosine |" and "article macro-F1" in table


def test_evaluate_with_classifier_scores_pairs(eval_dir, full):
    result = evaluate(load_eval_data(eval_dir), full, bootstrap=10)
    assert result.data["classifier"] is True and result.pairs["score"] == "classifier spun probability"
    assert all(0.0 <= r.spun_probability <= 1.0 for r in result.pair_records)
    assert not math.isnan(result.throughput["articles_per_second"])
    assert set(result.throughput["machine"]) >= {"cpu_model", "vector_extensions", "torch_threads"}  # speed needs its CPU


def test_evaluate_command_prints_the_table_and_writes_json(eval_dir, tmp_path, bare):
    from detector.cli import main

    out = tmp_path / "result.json"
    run = CliRunner().invoke(main, ["evaluate", "--data", str(eval_dir), "--out", str(out), "--bootstrap", "10", "--sample", "1"], obj={"detector": bare})
    assert run.exit_code == 0, run.output
    assert "| article macro-F1 |" in run.output and "note: no trained classifier" in run.output
    assert json.loads(out.read_text())["data"]["sample"] == 1
    missing = CliRunner().invoke(main, ["evaluate", "--data", str(tmp_path / "nowhere")], obj={"detector": bare})
    assert missing.exit_code == 1 and "python -m training.build_eval_articles" in missing.output


def test_default_paths_are_relative_to_the_current_directory(tmp_path, monkeypatch):
    """Issue 36: the defaults named build/eval and benchmarks/ inside the package's checkout."""
    from detector.evaluation import DEFAULT_DATA, DEFAULT_RESULTS

    assert not DEFAULT_DATA.is_absolute() and not DEFAULT_RESULTS.is_absolute()
    _write_set(tmp_path / DEFAULT_DATA)
    monkeypatch.chdir(tmp_path)
    assert [s["id"] for s in load_eval_data().suspects] == [s["id"] for s in SUSPECTS]


def test_the_library_main_moved_to_the_cli_and_still_runs_with_a_deprecation_warning(capsys):
    """Issue 36: detector.evaluation imported its own CLI for `main`."""
    import detector.evaluation
    from detector.cli.evaluate import main

    with pytest.warns(DeprecationWarning, match="moved to detector.cli.evaluate.main"):
        old = detector.evaluation.main
    assert old is main
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0 and "--data" in capsys.readouterr().out
    with pytest.raises(AttributeError, match="no attribute 'mian'"):
        detector.evaluation.mian


def test_build_eval_set_uses_only_test_split_news(shared_dir):
    from training.build_eval_articles import build_eval_set
    from training.build_dataset import NEWS_FRACTIONS
    from training.corpora import REUTERS_HELD_OUT, assign_split
    from training.spinner import Spinner
    from training.thesauri import Thesaurus

    thesaurus = Thesaurus()
    for term, synonym in (("said", "stated"), ("company", "firm"), ("market", "marketplace"), ("year", "twelvemonth")):
        thesaurus.add(term, synonym, "mythes", None)
    built = build_eval_set(shared_dir, per_verdict=5, pairs_per_relation=10, distractors=5, spinner=Spinner(thesaurus, seed=0))
    assert {s.verdict for s in built.suspects} == set(VERDICTS)
    indexed = {d.id for d in built.sources}
    assert all(s.source_id in indexed for s in built.suspects if s.source_id)
    indexed_texts = {d.text for d in built.sources}
    assert not [s.id for s in built.suspects if s.verdict in ("original", "related") and s.text in indexed_texts]
    news = [d.id for d in built.sources if not d.id.startswith("paraphrase-article:")]
    for doc_id in news:
        assert doc_id.split(":")[1] in REUTERS_HELD_OUT if doc_id.startswith("reuters:") else assign_split(doc_id, 0, NEWS_FRACTIONS) == "test"
    assert {s.variant for s in built.suspects if s.verdict == "paraphrased"} == {"mrpc_sts", "parasci"}
    assert {p.relation for p in built.pairs} == {"copy", "spun", "paraphrase", "unrelated"}


def test_evaluate_is_quiet_by_default_and_counts_articles_and_pairs_when_asked(eval_dir, bare, capsys):
    """Issue 37: `spin-detect evaluate` showed no progress; the library stays quiet unless asked."""
    evaluate(eval_dir, bare, bootstrap=10)
    assert capsys.readouterr().err == ""
    evaluate(eval_dir, bare, bootstrap=10, progress=True)
    bars = capsys.readouterr().err
    assert f"{len(SUSPECTS)}/{len(SUSPECTS)}" in bars and f"{len(PAIRS)}/{len(PAIRS)}" in bars
    assert f"{len(SOURCES)}/{len(SOURCES)}" in bars  # the sources indexed


def test_evaluate_command_progress_goes_to_stderr_and_leaves_stdout_unchanged(eval_dir, tmp_path, bare):
    """Issue 37: the table on stdout is the same with and without --progress (but for the measured rate)."""
    from detector.cli import main

    def run(*flag):
        arguments = ["evaluate", "--data", str(eval_dir), "--out", str(tmp_path / "result.json"), "--bootstrap", "10", *flag]
        return CliRunner().invoke(main, arguments, obj={"detector": bare})

    runs = {flag: run(*flag) for flag in ((), ("--progress",), ("--no-progress",))}
    assert all(result.exit_code == 0 for result in runs.values())
    tables = {"\n".join(line for line in r.stdout.splitlines() if "per second" not in line) for r in runs.values()}
    assert len(tables) == 1 and "| article macro-F1 |" in tables.pop()
    assert f"{len(SUSPECTS)}/{len(SUSPECTS)}" in runs[("--progress",)].stderr and runs[("--no-progress",)].stderr == ""
