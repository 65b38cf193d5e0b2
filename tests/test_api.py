"""`Detector` with tiny models: the flow, batching across articles and bad input (issue 2)."""

import pytest

from detector.api import EMPTY_NOTE, MODEL_ENV, NO_SOURCE_NOTE, NOTHING_NOTE, TEMPLATE_NOTE, Detector, model_folder
from detector.errors import InputError, ModelFormatError

WIRE = (
    "Russia won China's backing in its standoff with the West over Ukraine on Friday. "
    "Beijing agreed with Moscow that the NATO alliance should not admit new members. "
    "The demand came after a meeting between Vladimir Putin and Xi Jinping in Beijing. "
    "Western capitals accuse Russia of massing 100,000 troops near the border of Ukraine."
)
OTHER = (
    "The Bank of England raised interest rates to 0.5% on Thursday. "
    "Economists expect inflation to peak above 7% in April. "
    "Mortgage holders face higher monthly payments this spring."
)
SHUFFLED_COPY = " ".join(reversed([s + "." for s in WIRE.split(". ") if s]))[:-1]


@pytest.fixture(scope="module")
def parts(tiny_bert_dir):
    import torch
    from transformers import AutoTokenizer

    from detector.classifier import Calibration, SpinClassifier, SpinScorer
    from detector.encoder import SentenceEncoder
    from detector.thesaurus import SynonymTable

    torch.manual_seed(1)
    scorer = SpinScorer(
        SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir), Calibration(threshold=0.5)
    )
    synonyms = SynonymTable.from_pairs([("admit", "confess"), ("members", "participants"), ("backing", "support")])
    return {"encoder": SentenceEncoder.load(tiny_bert_dir), "scorer": scorer, "synonyms": synonyms}


@pytest.fixture(scope="module")
def det(parts):
    return Detector(**parts)


@pytest.fixture(scope="module")
def bare(parts):
    return Detector(encoder=parts["encoder"], synonyms=parts["synonyms"])


@pytest.fixture(scope="module")
def index(parts):
    from detector.index import SourceIndex

    return SourceIndex.build([{"id": "wire", "text": WIRE}, {"id": "rates", "text": OTHER}], encoder=parts["encoder"])


def test_score_sentences_gives_one_score_per_sentence(det):
    scores = det.score_sentences(["Beijing agreed with Moscow.", "NATO should not confess new participants."])
    assert [s.text for s in scores] == ["Beijing agreed with Moscow.", "NATO should not confess new participants."]
    for s in scores:
        assert 0.0 <= s.spun_probability <= 1.0 and s.is_spun == (s.spun_probability >= det.scorer.threshold)
        assert [w for w, _ in s.word_scores][:2] in (["Beijing", "agreed"], ["NATO", "should"])
        assert s.swapped_words == [w for w, p in s.word_scores if p >= det.scorer.word_threshold]
    assert det.score_sentences([]) == []


def test_score_sentences_without_a_classifier_says_how_to_get_one(bare):
    with pytest.raises(ModelFormatError, match="no trained classifier"):
        bare.score_sentences(["A sentence."])


def test_score_sentences_rejects_one_string(det):
    with pytest.raises(InputError, match="wrap it"):
        det.score_sentences("A sentence.")


def test_compare_finds_copies_and_thesaurus_swaps(det):
    source = "Beijing agreed with Moscow that the NATO alliance should not admit new members."
    assert det.compare(source, source).relation == "copy"
    spun = det.compare(source, "Beijing agreed with Moscow that the NATO alliance should not confess new participants.")
    assert spun.relation == "spun"
    assert ("admit", "confess") in spun.substitutions and ("members", "participants") in spun.substitutions


def test_shuffled_copy_is_a_copy_of_the_right_source(det, index):
    report = det.analyze(SHUFFLED_COPY, index=index)
    assert report.verdict == "copy"
    assert report.source_id == "wire" and report.candidates[0][0] == "wire"
    assert report.coverage == pytest.approx(1.0)
    assert report.source_given and report.classifier_used


def test_excluded_ids_are_never_the_source(det, index):
    report = det.analyze(WIRE, index=index, exclude_ids=["wire"])
    assert report.source_id != "wire" and "wire" not in [c for c, _ in report.candidates]
    assert report.verdict != "copy"


def test_without_an_index_the_classifier_alone_decides(det):
    report = det.analyze(WIRE)
    assert NO_SOURCE_NOTE in report.notes and not report.source_given
    assert report.verdict in ("spun", "original") and report.source_id is None
    assert all(s.relation in ("spun", "unmatched") for s in report.sentences)
    assert 0.0 <= report.spin_score <= 1.0


def test_without_classifier_the_source_comparison_still_works(bare, index):
    report = bare.analyze(SHUFFLED_COPY, index=index)
    assert report.verdict == "copy" and not report.classifier_used
    assert all(s.spun_probability is None for s in report.sentences)
    assert any("no trained classifier" in note for note in report.notes)
    assert NOTHING_NOTE in bare.analyze(WIRE).notes


@pytest.mark.parametrize("text", ["", "   \n\t  ", "\u200b\u200b"])
def test_empty_text_gives_an_empty_report(det, index, text):
    report = det.analyze(text, index=index)
    assert report.verdict == "original" and report.sentences == [] and EMPTY_NOTE in report.notes
    assert report.spin_score == 0.0


@pytest.mark.parametrize("value", [b"bytes", None, 42, ["a list"]])
def test_non_text_input_names_its_type(det, value):
    with pytest.raises(InputError, match=type(value).__name__):
        det.analyze(value)


def test_overlong_article_is_refused_with_the_limit(parts):
    small = Detector(**parts, max_chars=1000)
    with pytest.raises(InputError, match="over the limit of 1,000"):
        small.analyze("word " * 1000)


def test_hidden_characters_are_counted(det, index):
    report = det.analyze(SHUFFLED_COPY.replace("Beijing", "Bei\u200bjing"), index=index)
    assert report.evasion["zero_width"] >= 1
    assert report.verdict == "copy"


def test_analyze_many_keeps_input_order_and_matches_analyze(det, index):
    texts = [SHUFFLED_COPY, OTHER, "", WIRE]
    batched = list(det.analyze_many(texts, index=index, articles_per_batch=3))
    single = [det.analyze(text, index=index) for text in texts]
    assert [r.verdict for r in batched] == [r.verdict for r in single]
    assert [r.source_id for r in batched] == [r.source_id for r in single]
    for a, b in zip(batched, single):
        assert [s.spun_probability for s in a.sentences] == pytest.approx([s.spun_probability for s in b.sentences], abs=1e-5)


def test_analyze_many_encodes_a_whole_batch_at_once(parts, index):
    calls = []

    class CountingEncoder:
        dim = parts["encoder"].dim

        def encode(self, sentences, batch_size=64):
            calls.append(len(sentences))
            return parts["encoder"].encode(sentences, batch_size)

    from detector.index import SourceIndex

    index = SourceIndex.build([{"id": "rates", "text": OTHER}], encoder=parts["encoder"])  # the wire's sentences are new
    counting = Detector(encoder=CountingEncoder(), synonyms=parts["synonyms"], scorer=parts["scorer"])
    reports = list(counting.analyze_many([SHUFFLED_COPY, OTHER, WIRE, OTHER], index=index, articles_per_batch=4))
    assert len(reports) == 4 and len(calls) == 1
    assert calls[0] < sum(len(r.sentences) for r in reports)
    alone = list(counting.analyze_many([SHUFFLED_COPY, OTHER, WIRE], index=index, articles_per_batch=3))
    assert calls[1] == calls[0]  # the repeated article's sentences are encoded once
    assert [r.to_dict() for r in reports[:3]] == [r.to_dict() for r in alone]
    assert reports[3].to_dict() == reports[1].to_dict()


def test_sentences_the_index_holds_verbatim_are_not_encoded_again(parts, index):
    encoded = []

    class RecordingEncoder:
        dim = parts["encoder"].dim

        def encode(self, sentences, batch_size=64):
            encoded.extend(sentences)
            return parts["encoder"].encode(sentences, batch_size)

    spun = WIRE.replace("admit new members", "confess new participants")
    recording = Detector(encoder=RecordingEncoder(), synonyms=parts["synonyms"], scorer=parts["scorer"])
    report = recording.analyze(spun, index=index)
    assert encoded == ["Beijing agreed with Moscow that the NATO alliance should not confess new participants."]
    assert report.source_id == "wire" and [s.relation for s in report.sentences].count("copy") == 3
    assert report.to_dict() == Detector(**parts).analyze(spun, index=index).to_dict()


def test_a_verbatim_copy_is_aligned_with_its_source_only(det, index, monkeypatch):
    import detector.api

    aligned_with = []
    align = detector.api.align_sentences
    monkeypatch.setattr(detector.api, "align_sentences", lambda *args: aligned_with.append(args[2]) or align(*args))
    report = det.analyze(SHUFFLED_COPY, index=index)
    assert report.verdict == "copy" and report.source_id == "wire"
    assert len(report.candidates) == 2 and len(aligned_with) == 1


def test_analyze_many_takes_one_exclusion_list_per_article(det, index):
    reports = list(det.analyze_many([WIRE, WIRE], index=index, exclude_ids=[["wire"], []]))
    assert reports[0].source_id != "wire" and reports[1].source_id == "wire"


def test_load_from_a_missing_folder_says_what_is_wrong(tmp_path):
    with pytest.raises(ModelFormatError, match="does not exist"):
        Detector.load(tmp_path / "no-model")


@pytest.mark.parametrize("options, expected", [({"precision": "bf16"}, "bf16"), ({"precision": "int8"}, "int8"), ({}, "fp32")])
def test_load_runs_classifier_and_encoder_at_the_precision_asked(parts, tmp_path, options, expected):
    parts["scorer"].save(tmp_path / "model")
    loaded = Detector.load(tmp_path / "model", **options)
    assert loaded.scorer.precision == expected and loaded.encoder.precision == expected
    assert loaded.score_sentences(["NATO should not confess new participants."])[0].spun_probability >= 0.0


def test_quantize_still_loads_int8_with_a_deprecation_warning(parts, tmp_path):
    """Issue 36: quantize=True duplicated precision="int8"."""
    parts["scorer"].save(tmp_path / "model")
    with pytest.warns(DeprecationWarning, match='use precision="int8"'):
        loaded = Detector.load(tmp_path / "model", quantize=True)
    assert loaded.scorer.precision == "int8" and loaded.encoder.precision == "int8"


def test_load_refuses_two_different_precisions(tmp_path):
    with pytest.warns(DeprecationWarning), pytest.raises(InputError, match="quantize=True asks for int8 but precision='bf16'"):
        Detector.load(tmp_path / "model", quantize=True, precision="bf16")


def test_analyze_many_batch_size_still_counts_articles_with_a_deprecation_warning(det, index):
    """Issue 36: batch_size counts sentences in Detector(...) but counted articles in analyze_many."""
    with pytest.warns(DeprecationWarning, match="use articles_per_batch"):
        old = list(det.analyze_many([WIRE, OTHER], index=index, batch_size=1))
    assert [r.to_dict() for r in old] == [r.to_dict() for r in det.analyze_many([WIRE, OTHER], index=index, articles_per_batch=1)]
    with pytest.warns(DeprecationWarning), pytest.raises(InputError, match="batch_size=1 and articles_per_batch=2 differ"):
        list(det.analyze_many([WIRE], index=index, batch_size=1, articles_per_batch=2))
    with pytest.raises(InputError, match="articles_per_batch=-1 must be a positive integer"):
        list(det.analyze_many([WIRE], index=index, articles_per_batch=-1))


def test_an_installed_package_without_a_model_says_how_to_get_one(monkeypatch, tmp_path):
    """Issue 36: outside the checkout there is no models/ folder; loading must stop, not score without a classifier."""
    import detector.api

    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.setattr(detector.api, "DEFAULT_MODEL_PATH", tmp_path / "site-packages" / "models" / "spin-classifier")
    with pytest.raises(ModelFormatError, match=r"no spin-detector model found.*--model FOLDER, \$SPIN_DETECTOR_MODEL=FOLDER") as error:
        Detector.load()
    assert "\n" not in str(error.value)
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "named"))
    assert model_folder() == tmp_path / "named" and model_folder(tmp_path / "given") == tmp_path / "given"


THIRD = (
    "The city council approved a new cycling lane along the river embankment on Tuesday evening. "
    "Residents had campaigned for safer routes to the central railway station for three years. "
    "Construction of the two kilometre lane is due to start in the spring and to last four months."
)


def test_a_stitched_article_lists_every_source_and_aligns_each_sentence_to_its_own(parts):
    """Issue 35: content farms merge several sources; only the main one was reported."""
    from detector.index import SourceIndex

    det = Detector(**parts, rerank=3)
    index = SourceIndex.build([{"id": "wire", "text": WIRE}, {"id": "rates", "text": OTHER}, {"id": "city", "text": THIRD}], encoder=parts["encoder"])
    wire, city = [s + "." for s in WIRE.split(". ")][:3], [s + "." for s in THIRD.split(". ")]
    report = det.analyze(" ".join(wire + city).replace("..", "."), index=index)
    assert {source.id for source in report.sources} == {"wire", "city"}
    by_source = {s.source_id for s in report.sentences if s.relation == "copy"}
    assert by_source == {"wire", "city"} and report.verdict == "copy"
    assert report.coverage == pytest.approx(1.0)
    assert sum(source.coverage for source in report.sources) == pytest.approx(1.0)
    data = report.to_dict()
    assert data["sources"][0]["id"] == report.source_id and data["decision_version"] == det.decisions.version


def test_one_shared_sentence_does_not_make_a_second_source(det, index):
    report = det.analyze(WIRE + " Economists expect inflation to peak above 7% in April.", index=index)
    assert [source.id for source in report.sources] == ["wire"]


@pytest.mark.parametrize(
    ("options", "message"),
    [({"index": "build/index"}, r"is a path: load the folder first, index=SourceIndex.load\('build/index'\)"),
     ({"index": 42}, "index is a int, not a SourceIndex"),
     ({"exclude_ids": [None]}, "exclude_ids holds None"),
     ({"exclude_ids": [["wire", None]]}, "exclude_ids holds None")],
)
def test_wrong_types_give_one_line_errors(det, index, options, message):
    """Issue 39: index="path" raised an AttributeError, exclude_ids=[None] a TypeError."""
    with pytest.raises(InputError, match=message):
        det.analyze(WIRE, **{"index": index, **options})


def test_an_empty_index_says_so(det, parts):
    """Issue 39: an empty index gave `original` with no note."""
    from detector.index import SourceIndex

    report = det.analyze(WIRE, SourceIndex.build([], encoder=parts["encoder"]))
    assert report.notes[0].startswith("the source index is empty (0 sources)")
    assert report.verdict == det.analyze(WIRE).verdict


def test_the_template_note_reads_right_for_one_sentence():
    """With ``min_template_lines`` 1 a caller's rules can demote a single pair; the note said "1 sentences"."""
    note = TEMPLATE_NOTE.format(count=1, source="harlow", overlap=0.0, lines="")
    assert note.startswith("1 sentence(s) aligned with harlow")
