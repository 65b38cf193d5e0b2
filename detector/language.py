"""Language check: is an article English, the only language the classifier and the relation rules read?

Two stages. (1) A cheap fast path decides most texts at once: a writing system other than Latin
(from the share of letters in each script: Cyrillic, Arabic, Han, ...) gives that script's tag, and
Latin-script text with many English function words (a fifth or more of its words; English prose,
machine-translated included, has a third or more) is English. (2) Anything else goes to py3langid,
a small offline n-gram language identifier (langid.py's model, bundled with the package). It is
limited to all the Latin-script languages it knows, not to a short list: only Latin-script text
reaches it, so the non-Latin ones could only be wrong answers, while a short list would force an
unlisted language onto a listed neighbour. Function-word lists alone cannot name the many languages
that share few words with any list, and those passed as English (Czech, Finnish, Romanian,
Vietnamese; issue 37). Below `_MIN_WORDS` words, or when the identifier is unsure, the text is too
short to tell and taken as English, unless it is long and has almost no English function words
("und-Latn"). Only a sample at the start of the text is read, so a 10 MB article costs no more
than a long one.

Example:
    >>> detect_language("The alliance should not admit new members, the two leaders said on Friday.").code
    'en'
    >>> detect_language("L'alliance ne doit pas admettre de nouveaux membres, ont déclaré les deux dirigeants.").code
    'fr'
    >>> detect_language("Альянс не должен принимать новых членов, заявили лидеры.").code
    'und-Cyrl'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

__all__ = ["LanguageGuess", "detect_language", "LANGUAGE_NAMES", "SAMPLE_CHARS"]

SAMPLE_CHARS = 20_000  # characters read from the start of the text
_MIN_WORDS = 8  # fewer Latin words than this: too little to judge, taken as English
_OTHER_SCRIPT_SHARE = 0.5  # non-Latin letters above this share: not English
_CLEAR_ENGLISH_SHARE = 0.2  # English function words at or above this share: English, no identifier
_MIN_CONFIDENCE = 0.9  # the identifier's probability below this: unsure
_MIN_ENGLISH_SHARE = 0.06  # unsure, below this share, with _MIN_WORDS_ANY or more words: not English
_MIN_WORDS_ANY = 30

# The most frequent English function words, lower-case.
_ENGLISH_WORDS = frozenset(
    "the of and to a in is that for it was on with as by at be this are from or have an "
    "not but had has they his her he she its which were been their will would who we you there "
    "said also more than after about into over when can one new could i our them these those "
    "all should other up out no if do so what while many most us him".split()
)

# Names of the languages a guess can carry: the Latin-script languages of the identifier's model
# (the set it is limited to) and the non-Latin scripts that name one language.
LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "sv": "Swedish", "pl": "Polish", "id": "Indonesian",
    "tr": "Turkish", "ko": "Korean", "ja": "Japanese", "th": "Thai", "el": "Greek",
    "af": "Afrikaans", "an": "Aragonese", "az": "Azerbaijani", "br": "Breton", "bs": "Bosnian",
    "ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish", "eo": "Esperanto",
    "et": "Estonian", "eu": "Basque", "fi": "Finnish", "fo": "Faroese", "ga": "Irish",
    "gl": "Galician", "hr": "Croatian", "ht": "Haitian Creole", "hu": "Hungarian", "is": "Icelandic",
    "jv": "Javanese", "ku": "Kurdish", "la": "Latin", "lb": "Luxembourgish", "lt": "Lithuanian",
    "lv": "Latvian", "mg": "Malagasy", "ms": "Malay", "mt": "Maltese", "nb": "Norwegian Bokmål",
    "nn": "Norwegian Nynorsk", "no": "Norwegian", "oc": "Occitan", "qu": "Quechua",
    "ro": "Romanian", "rw": "Kinyarwanda", "se": "Northern Sami", "sk": "Slovak", "sl": "Slovenian",
    "sq": "Albanian", "sw": "Swahili", "tl": "Tagalog", "vi": "Vietnamese", "vo": "Volapük",
    "wa": "Walloon", "xh": "Xhosa", "zu": "Zulu",
}  # fmt: skip
_NON_LATIN_NAMED = {"Hang": "ko", "Kana": "ja", "Thai": "th", "Grek": "el"}

# ISO 15924 codes of the scripts told apart, with their letter ranges.
_SCRIPTS = {
    "Latn": "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff",
    "Cyrl": "\u0400-\u052f",
    "Grek": "\u0370-\u03ff\u1f00-\u1fff",
    "Arab": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff",
    "Hebr": "\u0590-\u05ff",
    "Deva": "\u0900-\u097f",
    "Beng": "\u0980-\u09ff",
    "Thai": "\u0e00-\u0e7f",
    "Hang": "\u1100-\u11ff\uac00-\ud7af",
    "Kana": "\u3040-\u30ff",
    "Hani": "\u3400-\u4dbf\u4e00-\u9fff",
}
_SCRIPT_NAMES = {
    "Latn": "Latin", "Cyrl": "Cyrillic", "Grek": "Greek", "Arab": "Arabic", "Hebr": "Hebrew",
    "Deva": "Devanagari", "Beng": "Bengali", "Thai": "Thai", "Hang": "Hangul", "Kana": "Japanese",
    "Hani": "Han (Chinese)", "Zzzz": "an unlisted",
}  # fmt: skip
_SCRIPT_RES = {script: re.compile(f"[{chars}]") for script, chars in _SCRIPTS.items()}
_LETTER_RE = re.compile(r"[^\W\d_]")
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True)
class LanguageGuess:
    """What `detect_language` found.

    `code` is a BCP 47 tag: "en", another language's code ("fr", "de", ...), or "und-<Script>"
    (language undetermined, written in that script, e.g. "und-Cyrl"); `script` the dominant
    writing system (ISO 15924, "Latn" for English); `english_share` the share of word tokens that
    are English function words; `supported` is True only for English (and for text too short or too
    uncertain to tell).
    """

    code: str
    script: str
    english_share: float
    supported: bool

    @property
    def name(self) -> str:
        """A readable name for notes ("French", "an unidentified language in Cyrillic script")."""
        if self.code in LANGUAGE_NAMES:
            return LANGUAGE_NAMES[self.code]
        return f"an unidentified language in {_SCRIPT_NAMES.get(self.script, 'another')} script"


def detect_language(text: str, *, sample_chars: int = SAMPLE_CHARS) -> LanguageGuess:
    """Guess whether ``text`` is English, reading its first ``sample_chars`` characters."""
    sample = text[:sample_chars]
    script = _dominant_script(sample)
    if script not in ("Latn", "none"):
        return LanguageGuess(_script_language(script), script, 0.0, supported=False)
    tokens = [word.lower() for word in _WORD_RE.findall(sample)]
    english = round(sum(t in _ENGLISH_WORDS for t in tokens) / len(tokens), 4) if tokens else 0.0
    if len(tokens) < _MIN_WORDS or english >= _CLEAR_ENGLISH_SHARE:
        return LanguageGuess("en", "Latn", english, supported=True)
    code, confidence = _identifier().classify(sample)
    if confidence >= _MIN_CONFIDENCE:
        return LanguageGuess(code, "Latn", english, supported=code == "en")
    if len(tokens) >= _MIN_WORDS_ANY and english < _MIN_ENGLISH_SHARE:
        return LanguageGuess("und-Latn", "Latn", english, supported=False)
    return LanguageGuess("en", "Latn", english, supported=True)


@cache
def _identifier() -> LanguageIdentifier:
    """py3langid's bundled model, loaded once and limited to the Latin-script languages it knows."""
    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    latin = set(LANGUAGE_NAMES) - set(_NON_LATIN_NAMED.values())
    identifier.set_languages([code for code in identifier.nb_classes if code in latin])
    return identifier


def _dominant_script(sample: str) -> str:
    """"Latn" unless another script holds over half of the letters; "none" when there are no letters.

    Japanese mixes Han and kana: Han with any kana counts as kana ("ja"). Letters of a script not
    listed give "Zzzz" (ISO 15924: unknown script).
    """
    letters = len(sample) - len(_LETTER_RE.sub("", sample))
    if not letters:
        return "none"
    counts = {script: len(sample) - len(pattern.sub("", sample)) for script, pattern in _SCRIPT_RES.items()}
    if counts["Latn"] >= (1 - _OTHER_SCRIPT_SHARE) * letters:
        return "Latn"
    others = {script: n for script, n in counts.items() if script != "Latn"}
    best = max(others, key=others.get)
    if best == "Hani" and others["Kana"]:
        return "Kana"
    return best if others[best] > 0 else "Zzzz"


def _script_language(script: str) -> str:
    """A language tag for a non-Latin script: only the unambiguous ones get a language."""
    return _NON_LATIN_NAMED.get(script, f"und-{script}")
