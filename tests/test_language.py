"""Language check (issue 6): non-English articles are reported as unsupported, English ones are scored."""

import pytest

from detector.language import detect_language
from detector.text import normalise

FOREIGN = {
    "fr": "Vladimir Poutine a obtenu le soutien de la Chine sur les principales questions qui alimentent la crise "
    "ukrainienne, alors que les efforts diplomatiques européens s'intensifient.",
    "de": "Wladimir Putin hat die Unterstützung Chinas in den wichtigsten Fragen der Ukraine-Krise gewonnen, während "
    "die diplomatischen Bemühungen der Europäer zunehmen.",
    "es": "Vladimir Putin obtuvo el apoyo de China en los principales temas que alimentan la crisis de Ucrania, "
    "mientras se intensifican los esfuerzos diplomáticos europeos.",
    "it": "Vladimir Putin ha ottenuto il sostegno della Cina sulle principali questioni che alimentano la crisi "
    "ucraina, mentre si intensificano gli sforzi diplomatici europei.",
    "pt": "Vladimir Putin conquistou o apoio da China nas principais questões que alimentam a crise na Ucrânia, "
    "enquanto os esforços diplomáticos europeus se intensificam.",
    "nl": "Vladimir Poetin heeft de steun van China gekregen voor de belangrijkste kwesties van de crisis in "
    "Oekraïne, terwijl de diplomatieke inspanningen van Europa toenemen.",
    "und-Cyrl": "Владимир Путин заручился поддержкой Китая по главным вопросам украинского кризиса.",
    "und-Hani": "普京在乌克兰危机的主要问题上赢得了中国的支持。",
    "ja": "プーチン大統領はウクライナ危機の主要な問題で中国の支持を得た。",
    "und-Arab": "حصل فلاديمير بوتين على دعم الصين في القضايا الرئيسية التي تغذي الأزمة الأوكرانية.",
    "el": "Ο Βλαντιμίρ Πούτιν κέρδισε την υποστήριξη της Κίνας στα κύρια ζητήματα της ουκρανικής κρίσης.",
}
SWAHILI = (
    "Rais Vladimir Putin amepata uungwaji mkono wa China kuhusu masuala makuu yanayochochea mzozo wa Ukraine huku "
    "juhudi za kidiplomasia za Ulaya zikiongezeka kwa kasi kubwa sana mwaka huu katika bara zima la Ulaya na Asia "
    "pamoja na Afrika yote kabisa leo hii."
)


@pytest.mark.parametrize("code", sorted(FOREIGN))
def test_foreign_text_is_named_and_unsupported(code):
    guess = detect_language(FOREIGN[code])
    assert guess.code == code and not guess.supported
    assert guess.name and "English" not in guess.name


def test_unlisted_latin_language_is_unsupported_when_long_enough():
    guess = detect_language(SWAHILI)
    assert guess.code == "und-Latn" and not guess.supported and "Latin script" in guess.name


def test_every_seed_reads_as_english_including_the_translated_one(seed_texts):
    for name, text in seed_texts.items():
        guess = detect_language(normalise(text))
        assert guess.code == "en" and guess.supported, name
        assert guess.english_share > 0.25, name


@pytest.mark.parametrize("text", ["", "   ", "12,000 - 3.5%", "NATO summit", "Putin, Xi, Macron, Scholz", "😀🎉"])
def test_short_or_letterless_text_is_not_rejected(text):
    assert detect_language(text).supported


def test_english_with_a_foreign_name_or_quote_stays_english():
    text = (
        "The minister told reporters in Paris that the talks would go on. "
        "\"C'est la vie,\" he said with a shrug, before he left for the airport on Friday."
    )
    assert detect_language(text).code == "en"


def test_only_the_start_of_a_huge_text_is_read():
    text = "The alliance should not admit new members, they said. " * 200 + FOREIGN["fr"] * 1_000
    assert detect_language(text).code == "en"
    assert detect_language(text, sample_chars=10**9).code == "fr"


@pytest.fixture(scope="module")
def det(tiny_bert_dir):
    import torch
    from transformers import AutoTokenizer

    from detector.api import Detector
    from detector.classifier import Calibration, SpinClassifier, SpinScorer
    from detector.encoder import SentenceEncoder
    from detector.thesaurus import SynonymTable

    torch.manual_seed(1)
    scorer = SpinScorer(
        SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir), Calibration(threshold=0.0)
    )
    return Detector(encoder=SentenceEncoder.load(tiny_bert_dir), synonyms=SynonymTable.from_pairs([]), scorer=scorer)


def test_analyze_reports_a_foreign_article_as_unsupported_and_scores_nothing(det):
    report = det.analyze(FOREIGN["fr"] + "\n" + FOREIGN["fr"])
    assert report.verdict == "original" and report.spin_score == 0.0
    assert report.language == "fr" and not report.language_supported and not report.classifier_used
    assert report.sentences and all(s.spun_probability is None and s.relation == "unmatched" for s in report.sentences)
    assert any("unsupported language" in note and "French" in note for note in report.notes)
    data = report.to_dict()
    assert data["language"] == "fr"
    assert "unsupported language" in report.to_markdown() and "unsupported language" in report.to_html()


def test_analyze_scores_an_english_article(det, seed_texts):
    # threshold 0: every English sentence is flagged, so "spun" shows that the classifier ran
    report = det.analyze(seed_texts["001"])
    assert report.language == "en" and report.language_supported and report.classifier_used
    assert report.verdict == "spun" and all(s.spun_probability is not None for s in report.sentences)


def test_analyze_many_mixes_supported_and_unsupported_articles(det, seed_texts):
    texts = [seed_texts["003"], FOREIGN["und-Cyrl"], seed_texts["004"], FOREIGN["de"]]
    reports = list(det.analyze_many(texts, articles_per_batch=4))
    assert [r.language for r in reports] == ["en", "und-Cyrl", "en", "de"]
    for text, report in zip(texts, reports):
        alone = det.analyze(text)
        assert [s.spun_probability for s in report.sentences] == pytest.approx([s.spun_probability for s in alone.sentences], abs=1e-5)


def test_the_language_check_can_be_switched_off(tiny_bert_dir, det):
    from detector.api import Detector

    loose = Detector(encoder=det.encoder, synonyms=det.synonyms, scorer=det.scorer, check_language=False)
    report = loose.analyze(FOREIGN["fr"])
    assert report.language is None and report.classifier_used
    assert report.sentences[0].spun_probability is not None
