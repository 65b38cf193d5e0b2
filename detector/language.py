"""Language check: is an article English, the only language the classifier and the relation rules read?

Cheap and dependency-free on purpose: (1) the writing system, from the share of letters in each
script (Cyrillic, Arabic, Han, ...); (2) for Latin-script text, the share of word tokens that are
common function words of English and of a few other Latin-script languages. English prose, even
machine-translated (seed 001), has a third or more of its words among the English function words;
French, German or Spanish prose has few, and many of its own. Only a sample at the start of the text
is read, so a 10 MB article costs no more than a long one.

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

__all__ = ["LanguageGuess", "detect_language", "LANGUAGE_NAMES", "SAMPLE_CHARS"]

SAMPLE_CHARS = 20_000  # characters read from the start of the text
_MIN_WORDS = 8  # fewer Latin words than this: too little to judge, taken as English
_OTHER_SCRIPT_SHARE = 0.5  # non-Latin letters above this share: not English
_OTHER_LANGUAGE_SHARE = 0.15  # another language's function words above this share...
_OTHER_LANGUAGE_RATIO = 1.5  # ...and this many times the English share: that language
_MIN_ENGLISH_SHARE = 0.06  # below this, with _MIN_WORDS_ANY or more words: not English
_MIN_WORDS_ANY = 30

# The most frequent function words of each language, lower-case; words shared with English
# ("a", "in", "die") count for both and so decide nothing on their own.
_FUNCTION_WORDS = {
    "en": "the of and to a in is that for it was on with as by at be this are from or have an "
    "not but had has they his her he she its which were been their will would who we you there "
    "said also more than after about into over when can one new could i our them these those "
    "all should other up out no if do so what while other many most us him".split(),
    "fr": "le la les de des du un une et est en que qui dans pour pas sur au aux par ne se "
    "ce cette ces il elle ils sont avec plus ou mais son sa ses leur été être avait ont "
    "nous vous je lui comme tout aussi très".split(),
    "de": "der die das und ist nicht ein eine einer eines den dem des zu von mit sich auf für "
    "im ich sie es auch als wie bei oder aus nach wird wurde werden sind war hat haben noch "
    "über nur dass wir ihr sein seine".split(),
    "es": "el la los las de del y que en un una es por con para no se su sus al lo como más "
    "pero fue ha son está este esta ese entre sobre también ya muy sin hasta desde donde".split(),
    "it": "il lo la gli le di del della dei delle e che è un una per non con si da al alla "
    "sono come più ma anche nel nella questo questa ha hanno stato essere tra sul".split(),
    "pt": "o a os as de do da dos das e que em um uma é para com não por se no na nos nas ao "
    "mais como mas foi são está ser também pelo pela seu sua entre".split(),
    "nl": "de het een en van is dat op te in voor niet met zijn aan er ook als bij maar om "
    "door naar dan wordt werd hij zij ze wij nog heeft hebben deze dit".split(),
    "sv": "och att det som en ett är på för med av till den inte har om var de jag vi men "
    "från så kan eller när också efter under".split(),
    "pl": "i w na z że się nie do to jest o jak po co ale przez od za dla jego jej są był "
    "była tak już oraz który która które także".split(),
    "id": "yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke ada oleh "
    "adalah karena mereka sudah bisa atau telah saat tersebut".split(),
    "tr": "ve bir bu da de için ile olarak daha çok gibi olan ama en ise kadar sonra şey "
    "değil var ancak ya hem veya olduğu".split(),
}
_FUNCTION_SETS = {lang: frozenset(words) for lang, words in _FUNCTION_WORDS.items()}

LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "sv": "Swedish", "pl": "Polish", "id": "Indonesian",
    "tr": "Turkish", "ko": "Korean", "ja": "Japanese", "th": "Thai", "el": "Greek",
}  # fmt: skip

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
    are English function words; `supported` is True only for English (and for text too short to tell).
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
    if not tokens:
        return LanguageGuess("en", "Latn", 0.0, supported=True)
    shares = {lang: sum(t in words for t in tokens) / len(tokens) for lang, words in _FUNCTION_SETS.items()}
    english = shares.pop("en")
    best = max(shares, key=shares.get)
    if len(tokens) >= _MIN_WORDS and shares[best] >= _OTHER_LANGUAGE_SHARE and shares[best] >= _OTHER_LANGUAGE_RATIO * english:
        return LanguageGuess(best, "Latn", round(english, 4), supported=False)
    if len(tokens) >= _MIN_WORDS_ANY and english < _MIN_ENGLISH_SHARE:
        return LanguageGuess("und-Latn", "Latn", round(english, 4), supported=False)
    return LanguageGuess("en", "Latn", round(english, 4), supported=True)


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
    return {"Hang": "ko", "Kana": "ja", "Thai": "th", "Grek": "el"}.get(script, f"und-{script}")
