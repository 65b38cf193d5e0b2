"""Language check (issues 6 and 37): non-English articles are reported as unsupported, English ones are scored."""

import pytest

from detector import language
from detector.language import LANGUAGE_NAMES, detect_language
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
# One news sentence (10 to 40 words) in each language; the first four, and Danish, Slovak, Croatian and
# Hungarian, read as English before issue 37.
SHORT_FOREIGN = {
    "cs": "Vláda ve čtvrtek schválila nový rozpočet, který počítá s vyššími výdaji na obranu a školství, ale opozice "
    "tvrdí, že schodek bude příliš velký.",
    "fi": "Hallitus hyväksyi torstaina uuden talousarvion, joka lisää puolustuksen ja koulutuksen menoja, mutta "
    "oppositio sanoo, että alijäämä kasvaa liian suureksi ensi vuonna.",
    "ro": "Guvernul a aprobat joi un nou buget care prevede cheltuieli mai mari pentru apărare și educație, dar "
    "opoziția spune că deficitul va fi prea mare.",
    "vi": "Chính phủ đã thông qua ngân sách mới vào thứ Năm, tăng chi tiêu cho quốc phòng và giáo dục, nhưng phe đối "
    "lập cho rằng thâm hụt sẽ quá lớn.",
    "pl": "Rząd przyjął w czwartek nowy budżet, który przewiduje wyższe wydatki na obronę i edukację, ale opozycja "
    "twierdzi, że deficyt będzie zbyt duży.",
    "nl": "De regering keurde donderdag een nieuwe begroting goed met hogere uitgaven voor defensie en onderwijs, maar "
    "de oppositie zegt dat het tekort te groot wordt.",
    "sv": "Regeringen godkände på torsdagen en ny budget med högre utgifter för försvar och utbildning, men "
    "oppositionen säger att underskottet blir alldeles för stort.",
    "tr": "Hükümet perşembe günü savunma ve eğitim harcamalarını artıran yeni bütçeyi onayladı, ancak muhalefet "
    "açığın çok büyük olacağını söylüyor.",
    "id": "Pemerintah pada hari Kamis menyetujui anggaran baru yang menaikkan belanja pertahanan dan pendidikan, "
    "tetapi pihak oposisi mengatakan defisitnya akan terlalu besar.",
    "hu": "A kormány csütörtökön elfogadta az új költségvetést, amely több pénzt ad a védelemre és az oktatásra, de "
    "az ellenzék szerint a hiány túl nagy lesz.",
    "pt": "O governo aprovou na quinta-feira um novo orçamento que aumenta os gastos com defesa e educação, mas a "
    "oposição diz que o déficit será grande demais.",
    "it": "Il governo ha approvato giovedì un nuovo bilancio che aumenta la spesa per la difesa e l'istruzione, ma "
    "l'opposizione sostiene che il deficit sarà troppo grande.",
    "de": "Die Regierung hat am Donnerstag einen neuen Haushalt beschlossen, der höhere Ausgaben für Verteidigung und "
    "Bildung vorsieht, doch die Opposition hält das Defizit für zu groß.",
    "fr": "Le gouvernement a adopté jeudi un nouveau budget qui augmente les dépenses de défense et d'éducation, mais "
    "l'opposition estime que le déficit sera trop important.",
    "es": "El Gobierno aprobó el jueves un nuevo presupuesto que aumenta el gasto en defensa y educación, pero la "
    "oposición afirma que el déficit será demasiado grande.",
    "da": "Regeringen vedtog torsdag et nyt budget med højere udgifter til forsvar og uddannelse, men oppositionen "
    "siger, at underskuddet bliver alt for stort.",
    "sk": "Vláda vo štvrtok schválila nový rozpočet, ktorý počíta s vyššími výdavkami na obranu a školstvo, ale "
    "opozícia tvrdí, že schodok bude príliš veľký.",
    "hr": "Vlada je u četvrtak usvojila novi proračun koji predviđa veće izdatke za obranu i obrazovanje, ali oporba "
    "tvrdi da će manjak biti prevelik.",
}
# The two paragraphs of issue 37's report, by their word counts: the old check read both as not foreign.
FINNISH_29_WORDS = (
    "Suomen hallitus kertoi maanantaina, että se aikoo vähentää julkisia menoja merkittävästi seuraavien kahden "
    "vuoden aikana. Valtiovarainministerin mukaan säästöt ovat välttämättömiä, koska velka kasvaa nopeasti ja korot "
    "nousevat koko Euroopassa."
)
ROMANIAN_41_WORDS = (
    "Președintele României a declarat marți că țara va cere sprijin de la partenerii europeni pentru a face față "
    "crizei energetice. El a spus că guvernul pregătește un pachet de măsuri pentru familiile cu venituri mici, care "
    "ar trebui adoptat luna viitoare."
)
ENGLISH_SHORT = [
    "NATO summit",
    "Apple unveils new iPhone",
    "Election results: Labour takes key seats",
    "Putin wins China backing over Ukraine crisis",
    "Stocks fall as Fed signals rate rise",
    "UK economy grows faster than expected",
    "Floods kill dozens in Pakistan as monsoon rains batter the north",
    "The government approved a new budget on Thursday that raises spending on defence and education.",
    "Vladimir Putin won China's backing on the main issues driving the Ukraine crisis, as European diplomacy "
    "intensified.",
]
NAME_LIST = (
    "Margaret Atwood (Canada), Saul Bellow (Canada), Gabriel Garcia Marquez (Colombia), Gunter Grass (Germany), "
    "Ismail Kadare (Albania), Naguib Mahfouz (Egypt), Tomi Ungerer (France), Chinua Achebe (Nigeria), Doris Lessing "
    "(Zimbabwe), Stanislaw Lem (Poland), Philip Roth (USA)."
)


@pytest.mark.parametrize("code", sorted(FOREIGN))
def test_foreign_text_is_named_and_unsupported(code):
    guess = detect_language(FOREIGN[code])
    assert guess.code == code and not guess.supported
    assert guess.name and "English" not in guess.name


@pytest.mark.parametrize("code", sorted(SHORT_FOREIGN))
def test_a_short_foreign_sentence_is_never_read_as_english_issue_37(code):
    text = SHORT_FOREIGN[code]
    assert 10 <= len(text.split()) <= 40
    guess = detect_language(text)
    assert guess.code == code and not guess.supported
    assert guess.name == LANGUAGE_NAMES[code]


@pytest.mark.parametrize(("text", "code"), [(FINNISH_29_WORDS, "fi"), (ROMANIAN_41_WORDS, "ro")])
def test_the_finnish_and_romanian_paragraphs_of_issue_37_are_named(text, code):
    guess = detect_language(text)
    assert guess.code == code and guess.name in ("Finnish", "Romanian") and not guess.supported


def test_a_latin_language_outside_the_old_word_lists_is_named():
    guess = detect_language(SWAHILI)
    assert guess.code == "sw" and guess.name == "Swahili" and not guess.supported


def test_a_long_text_the_identifier_cannot_place_without_english_words_is_undetermined():
    guess = detect_language(NAME_LIST)
    assert guess.code == "und-Latn" and not guess.supported and "Latin script" in guess.name


@pytest.mark.parametrize("text", ENGLISH_SHORT)
def test_short_english_headlines_and_sentences_stay_english(text):
    guess = detect_language(text)
    assert guess.code == "en" and guess.supported


def test_clear_english_is_decided_without_the_identifier(monkeypatch, seed_texts):
    def no_identifier():
        raise AssertionError("the identifier was asked about clear English")

    monkeypatch.setattr(language, "_identifier", no_identifier)
    assert detect_language(ENGLISH_SHORT[-1]).code == "en"
    assert all(detect_language(normalise(text)).code == "en" for text in seed_texts.values())


def test_a_non_latin_script_is_decided_without_the_identifier(monkeypatch):
    monkeypatch.setattr(language, "_identifier", lambda: pytest.fail("the identifier was asked about Cyrillic"))
    assert detect_language(FOREIGN["und-Cyrl"] * 3).code == "und-Cyrl"


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
