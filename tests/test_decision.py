"""DecisionModel: versioned JSON, strict loading, and the relation it picks."""

import json

import pytest

from detector.decision import DECISIONS_FILE, DecisionModel, PairModel, VerdictRules
from detector.errors import InputError, ModelFormatError
from detector.model_manifest import MANIFEST_FILE, refresh_manifest
from detector.relation import CLASSIFIER_FEATURES, PAIR_FEATURES, RELATIONS


def _pair_model(names, spun_feature="swap_share"):
    """A regression that says spun in proportion to one feature and copy otherwise."""
    coef = [[0.0] * len(names) for _ in RELATIONS]
    coef[RELATIONS.index("spun")][names.index(spun_feature)] = 4.0
    return PairModel(tuple(names), (0.0,) * len(names), (1.0,) * len(names), tuple(map(tuple, coef)), (1.0, -1.0, -2.0, -2.0))


@pytest.fixture
def model():
    source_only = [n for n in PAIR_FEATURES if n not in CLASSIFIER_FEATURES]
    return DecisionModel("test-1", RELATIONS, _pair_model(list(PAIR_FEATURES)), _pair_model(source_only))


def test_the_most_probable_relation_is_picked(model):
    features = dict.fromkeys(PAIR_FEATURES, 0.0)
    assert model.relation(features, with_classifier=True)[0] == "copy"
    relation, probabilities = model.relation({**features, "swap_share": 1.0}, with_classifier=False)
    assert relation == "spun" and set(probabilities) == set(RELATIONS)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-3)


def test_save_and_load_keep_everything(model, tmp_path):
    path = model.save(tmp_path)
    assert path.name == DECISIONS_FILE
    loaded = DecisionModel.load(tmp_path)
    assert loaded == model and loaded.verdict == VerdictRules()
    assert list(json.loads((tmp_path / MANIFEST_FILE).read_text())["files"]) == [DECISIONS_FILE]


def test_issue_39_a_changed_decisions_json_is_refused(model, tmp_path):
    path = model.save(tmp_path)
    path.write_text(path.read_text().replace('"min_matched": 2', '"min_matched": 3'))
    with pytest.raises(ModelFormatError, match="decisions.json fails its sha256 checksum.*spin-detect seal-model"):
        DecisionModel.load(tmp_path)


def test_decisions_without_a_manifest_are_refused_naming_the_command_that_writes_one(model, tmp_path):
    model.save(tmp_path)
    (tmp_path / MANIFEST_FILE).unlink()
    with pytest.raises(ModelFormatError, match=f"no manifest.json .* `spin-detect seal-model {tmp_path}`"):
        DecisionModel.load(tmp_path)


def test_the_shipped_decisions_load_and_cover_every_feature():
    shipped = DecisionModel.load()
    assert shipped.classes == RELATIONS
    assert set(shipped.with_classifier.features) == set(PAIR_FEATURES)
    assert not set(shipped.source_only.features) & set(CLASSIFIER_FEATURES)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(format="other"), "not a spin-detector-decisions"),
        (lambda d: d.update(format_version=99), "format version 99"),
        (lambda d: d["with_classifier"]["coef"][0].__setitem__(0, float("nan")), "not a finite number"),
        (lambda d: d["source_only"]["scale"].__setitem__(0, 0.0), "scale must be positive"),
        (lambda d: d["with_classifier"].update(mean=[0.0]), "need"),
        (lambda d: d.update(verdict={"min_spun_share": 2.0}), "min_spun_share"),
        (lambda d: d.update(verdict={"min_matched": True}), "min_matched"),
        (lambda d: d.update(spun_min_support=True), "spun_min_support=True"),
        (lambda d: d.pop("classes"), "lacks or mistypes"),
    ],
)
def test_a_bad_document_is_refused_with_the_fix(model, tmp_path, change, message):
    data = json.loads(json.dumps(model.to_dict()))
    change(data)
    (tmp_path / DECISIONS_FILE).write_text(json.dumps(data), encoding="utf-8")
    refresh_manifest(tmp_path, [DECISIONS_FILE])  # recorded as it is: the value checks must refuse it
    with pytest.raises(ModelFormatError, match=message) as error:
        DecisionModel.load(tmp_path)
    assert "training.fit_decisions" in str(error.value)


def test_a_missing_or_unreadable_file_names_the_folder(tmp_path):
    with pytest.raises(ModelFormatError, match="no decisions.json"):
        DecisionModel.load(tmp_path)
    (tmp_path / DECISIONS_FILE).write_text("{not json", encoding="utf-8")
    refresh_manifest(tmp_path, [DECISIONS_FILE])
    with pytest.raises(ModelFormatError, match="not readable JSON"):
        DecisionModel.load(tmp_path)


def test_missing_features_are_named(model):
    with pytest.raises(InputError, match="missing"):
        model.relation({"kept": 1.0}, with_classifier=True)


def test_changed_verdict_rules_say_so_in_the_version(model):
    """A detector with a bar changed for a trial must not report the saved rules' version."""
    changed = model.with_verdict_rules(min_story_names=3, min_matched=4)
    assert changed.verdict.min_story_names == 3 and changed.verdict.min_matched == 4
    assert changed.version == "test-1+min_matched=4,min_story_names=3" and model.version == "test-1"
    assert model.with_verdict_rules() is model


def test_an_unknown_verdict_rule_is_named_with_the_known_ones(model):
    with pytest.raises(InputError, match="no verdict rule named min_story_nmaes.*min_story_names"):
        model.with_verdict_rules(min_story_nmaes=3)
    with pytest.raises(InputError, match=r"min_coverage=1.5 must be a share in \[0, 1\]$"):  # no advice to refit
        model.with_verdict_rules(min_coverage=1.5)
