"""training.fit_decisions: pair features from a fold, and the fitted DecisionModel (tiny models)."""

import json

import pytest

from detector.decision import DecisionModel
from detector.errors import InputError
from detector.relation import CLASSIFIER_FEATURES, RELATIONS
from training.fit_decisions import fit_decision_model, main, pair_rows, read_pairs

PAIRS = [
    {"source": "NATO should not admit new members.", "suspect": "NATO should not admit new members.", "relation": "copy"},
    {"source": "Putin met Xi in Beijing on Friday.", "suspect": "putin met xi in beijing on friday", "relation": "copy"},
    {"source": "NATO should not admit new members.", "suspect": "NATO should not confess new participants.", "relation": "spun", "family": "mythes"},
    {"source": "The talks will resume in Geneva next week.", "suspect": "The discussions will restart in Geneva next week.", "relation": "spun", "family": "embedding"},
    {"source": "The bank raised rates to curb inflation.", "suspect": "To rein in prices, rates were lifted by the central bank.", "relation": "paraphrase"},
    {"source": "Shares fell sharply in early trading.", "suspect": "Early trading saw a steep drop in stock prices.", "relation": "paraphrase"},
    {"source": "NATO should not admit new members.", "suspect": "The weather in Lisbon was sunny all week.", "relation": "unrelated"},
    {"source": "Putin met Xi in Beijing on Friday.", "suspect": "Mortgage holders face higher payments.", "relation": "unrelated"},
]


@pytest.fixture(scope="module")
def rows(tiny_parts):
    from detector.thesaurus import SynonymTable

    table = SynonymTable.from_pairs([("admit", "confess", "mythes"), ("member", "participant", "mythes"), ("talk", "discussion", "wordnet")])
    return pair_rows(PAIRS, tiny_parts["scorer"], tiny_parts["encoder"], table)


def test_thesaurus_evidence_of_a_spun_pair_leaves_its_own_family_out(rows):
    unseen, whole, labels = rows
    assert labels == [p["relation"] for p in PAIRS]
    assert unseen[2]["thesaurus_share"] == 0.0 and whole[2]["thesaurus_share"] > 0  # mythes pair, mythes table
    assert unseen[3]["thesaurus_share"] == whole[3]["thesaurus_share"]  # embedding: no table lists it anyway


def test_a_fold_leaves_the_family_out(tiny_parts):
    from detector.thesaurus import SynonymTable

    table = SynonymTable.from_pairs([("admit", "confess", "mythes")])
    unseen, whole, labels = pair_rows(PAIRS, tiny_parts["scorer"], tiny_parts["encoder"], table, exclude_family="embedding")
    assert len(labels) == len(PAIRS) - 1


def test_the_fitted_model_round_trips_and_reads_its_pairs(rows, tmp_path):
    unseen, whole, labels = rows
    model, reports = fit_decision_model(unseen, whole, labels, fitted_on={"pairs": "test"})
    assert model.classes == RELATIONS and set(reports) == {"with_classifier", "source_only"}
    assert not set(model.source_only.features) & set(CLASSIFIER_FEATURES)
    model.save(tmp_path)
    assert DecisionModel.load(tmp_path) == model
    predicted = [model.relation(f, with_classifier=False)[0] for f in whole]
    assert sum(p == t for p, t in zip(predicted, labels)) >= 6


def test_every_relation_needs_examples(rows):
    unseen, whole, labels = rows
    with pytest.raises(InputError, match="unrelated"):
        fit_decision_model(unseen[:6], whole[:6], labels[:6])


def test_a_bad_pairs_file_is_named(tmp_path):
    with pytest.raises(InputError, match="build_family_eval"):
        read_pairs(tmp_path / "missing.jsonl")
    bad = tmp_path / "pairs.jsonl"
    bad.write_text(json.dumps({"source": "a", "suspect": "b", "relation": "similar"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="similar"):
        read_pairs(bad)


def test_the_command_writes_decisions_into_the_model_folder(tiny_parts, tmp_path, monkeypatch):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(p) + "\n" for p in PAIRS), encoding="utf-8")
    monkeypatch.setattr("training.fit_decisions.SpinScorer.load", lambda folder: tiny_parts["scorer"])
    monkeypatch.setattr("training.fit_decisions.SentenceEncoder.load", lambda: tiny_parts["encoder"])
    model = main(["--pairs", str(pairs), "--model", str(tmp_path / "model"), "--out", str(tmp_path / "model")])
    assert DecisionModel.load(tmp_path / "model").version == model.version
    assert model.fitted_on["counts"]["spun/mythes"] == 1
