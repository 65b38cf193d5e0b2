"""Text stage: normalisation, sentence segmentation, boilerplate detection and tokenisation.

Everything downstream (classifier word scores, spinner word labels, alignment, pair relation) is
defined over the output of this module, so it is deliberately simple and deterministic: regular
expressions and ``str.translate`` only, no models, no per-character Python loops.

Example:
    >>> normalise("Russia\u2019s \u201cdignified\u201d rela\u00adtions \u2013 Reuters")
    'Russia\\'s "dignified" relations - Reuters'
    >>> [s.text for s in split_sentences("Mr. Xi met Putin. They spoke.\\nALSO READ: more")]
    ['Mr. Xi met Putin.', 'They spoke.', 'ALSO READ: more']
    >>> [t.text for t in tokenize("The U.S.-led bloc, China's 3.5%")]
    ['The', 'U.S.-led', 'bloc', ',', "China's", '3.5', '%']
    >>> word_key("China's") == word_key("Chinas")
    True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from detector.hf.spin_words import TOKEN_RE  # one pattern for this package and the model folder's remote code

__all__ = [
    "Segment",
    "TextFindings",
    "Token",
    "QUOTED_SHARE",
    "is_boilerplate",
    "normalise",
    "normalise_with_findings",
    "quoted_sentences",
    "shorten_text",
    "split_sentences",
    "tokenize",
    "word_key",
    "words",
]


@dataclass(frozen=True)
class Segment:
    """One sentence (or heading, or boilerplate line) of an article."""

    text: str  # normalised sentence text
    start: int  # character offsets into the normalised article text
    end: int
    is_boilerplate: bool  # scraper/blog furniture ("ALSO READ:", "Leave a Reply"): kept out of verdicts
    is_heading: bool  # title/heading line without final punctuation


@dataclass(frozen=True)
class Token:
    """One token of a sentence: a word, a number or a punctuation mark."""

    text: str  # surface form as written
    start: int  # offsets into the sentence
    end: int
    is_word: bool  # False for punctuation


@dataclass(frozen=True)
class TextFindings:
    """Invisible tricks removed by :func:`normalise_with_findings` (spinners use them to evade matching)."""

    zero_width: int = 0  # zero-width spaces/joiners, soft hyphens, BOMs, bidi marks, variation selectors, tags
    homoglyphs: int = 0  # Cyrillic/Greek look-alike letters inside Latin words, mapped to Latin
    control_characters: int = 0  # C0/C1 control characters dropped

    @property
    def total(self) -> int:
        return self.zero_width + self.homoglyphs + self.control_characters


# --- normalisation tables -------------------------------------------------------------------------

_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufeff\uffa0"
)
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\u02bb\u0060\u00b4\u2039\u203a\uff07"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u301d\u301e\uff02"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_LINE_BREAKS = "\r\x0b\x0c\x85\u2028\u2029"

_PUNCTUATION = {
    **{c: "'" for c in _SINGLE_QUOTES},
    **{c: '"' for c in _DOUBLE_QUOTES},
    **{c: "-" for c in _DASHES},
    **{c: "\n" for c in _LINE_BREAKS},
    "\u2026": "...",
}
_PUNCTUATION_RE = re.compile("[" + re.escape("".join(_PUNCTUATION)) + "]")
# Tag characters and text variation selectors anywhere; the emoji ones (FE0E, FE0F) inside words only.
_INVISIBLE_RANGES = "\ufe00-\ufe0d\U000e0000-\U000e007f"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}{_INVISIBLE_RANGES}]|(?<=[^\\W_])[\ufe0e\ufe0f]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_CRLF_RE = re.compile(r"\r\n")
_HSPACE_RE = re.compile(r"[^\S\n]+")
_NEWLINES_RE = re.compile(r" ?\n\s*")

# Cyrillic and Greek letters that render like Latin ones.
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ү": "y", "ѵ": "v", "ӏ": "l",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y",
    "Ӏ": "I",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "α": "a", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "υ": "u", "χ": "x", "ϲ": "c",
    "ϳ": "j",
}  # fmt: skip
_HOMOGLYPH_TABLE = str.maketrans(_HOMOGLYPHS)
_GREEK_CYRILLIC = "\u0370-\u03ff\u0400-\u052f"
_HAS_GREEK_CYRILLIC_RE = re.compile(f"[{_GREEK_CYRILLIC}]")
_MIXED_WORD_RE = re.compile(rf"[^\W\d_]*[{_GREEK_CYRILLIC}][^\W\d_]*")
_LATIN_LETTER_RE = re.compile(r"[A-Za-z]")


def normalise(text: str) -> str:
    """Canonical form of an article (see :func:`normalise_with_findings`)."""
    return normalise_with_findings(text)[0]


def normalise_with_findings(text: str) -> tuple[str, TextFindings]:
    """Normalise ``text`` and count the invisible evasion tricks that were removed.

    Steps: zero-width characters and soft hyphens out; curly quotes, primes and dashes to ASCII;
    Unicode NFKC; control characters out; Cyrillic/Greek look-alikes inside otherwise Latin words
    mapped to Latin; spaces collapsed; every line break kept as one ``"\\n"`` (a paragraph boundary),
    blank lines and leading/trailing spaces dropped. Idempotent.
    """
    if text.isascii():
        text, controls = _CONTROL_RE.subn("", _ascii_punctuation(_CRLF_RE.sub("\n", text)))
        return _collapse_whitespace(text), TextFindings(control_characters=controls)
    text, zero_width = _INVISIBLE_RE.subn("", text)
    text = unicodedata.normalize("NFKC", _ascii_punctuation(_CRLF_RE.sub("\n", text)))
    text = _ascii_punctuation(text)  # NFKC turns some fullwidth forms into curly ones
    text, controls = _CONTROL_RE.subn("", text)
    text, homoglyphs = _replace_homoglyphs(text)
    return _collapse_whitespace(text), TextFindings(zero_width, homoglyphs, controls)


def _ascii_punctuation(text: str) -> str:
    return _PUNCTUATION_RE.sub(lambda m: _PUNCTUATION[m.group()], text)


def _collapse_whitespace(text: str) -> str:
    return _NEWLINES_RE.sub("\n", _HSPACE_RE.sub(" ", text)).strip()


def _replace_homoglyphs(text: str) -> tuple[str, int]:
    """Map look-alike letters to Latin inside words that also hold Latin letters ("Mоscow")."""
    if not _HAS_GREEK_CYRILLIC_RE.search(text):
        return text, 0
    count = 0

    def fix(match: re.Match) -> str:
        nonlocal count
        word = match.group()
        if not _LATIN_LETTER_RE.search(word):
            return word  # a genuinely Cyrillic or Greek word
        fixed = word.translate(_HOMOGLYPH_TABLE)
        count += sum(a != b for a, b in zip(word, fixed))
        return fixed

    return _MIXED_WORD_RE.sub(fix, text), count


# --- boilerplate ----------------------------------------------------------------------------------

_BOILERPLATE_START_RE = re.compile(
    r"""^\W*(?:
        (?:also|read|see|more)\s+(?:read|also|more|here)\b
      | (?:related|recommended|trending|advertisement|sponsored|tags?|topics?|filed\s+under|posted\s+in)
            \s*(?:stories|articles|posts|news|content)?\s*[:|]
      | (?:news\s+)?source\s*:
      | (?:photo|image|picture|video|credit|caption|file\s+photo)s?\s*(?:credit)?\s*:
      | you\s+(?:may|might)\s+(?:also\s+)?(?:like|enjoy|be\s+interested)
      | share\s+(?:this|on|via)\b
      | click\s+here\b
      | subscribe\b
      | sign\s+up\s+(?:for|to)\b
      | follow\s+us\b
      | leave\s+a\s+(?:reply|comment)\b
      | (?:your\s+)?email\s+address\s+will\s+not\s+be\s+published
      | required\s+fields\s+are\s+marked
      | error\s*:\s*content\s+is\s+protected
      | (?:copyright|\(c\)|all\s+rights\s+reserved)\b
      | (?:published|updated|posted|last\s+updated|first\s+published)\s*(?:on|at)?\s*:
      | by\s+[A-Z][a-z]+(?:\s+[A-Z]\.?)*\s+[A-Z][a-z]+\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_BOILERPLATE_HINTS = ("cookie", "not been edited", "click here", "read more")
_BOILERPLATE_ANYWHERE_RE = re.compile(
    r"""(?:
        \b(?:we|this\s+(?:web)?site)\s+uses?\s+cookies\b
      | \baccept\s+(?:all\s+)?cookies\b
      | \bcookie\s+(?:policy|settings|preferences)\b
      | \bthis\s+story\s+has\s+not\s+been\s+edited\b
      | \bclick\s+here\s+to\b
      | \bread\s+more\s*(?:$|[:>\]»])
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_URL_ONLY_RE = re.compile(r"^\W*(?:https?://|www\.)\S+\W*$", re.IGNORECASE)
_DATE_WORDS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?"
    r"|thu(?:rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?|am|pm|gmt|utc|ist|est|edt|bst|cet|et"
    r"|published|updated|posted|on|at|\d+(?:st|nd|rd|th)?"
)
_DATE_OR_NUMBER_ONLY_RE = re.compile(rf"^(?=.*\d)(?:(?:{_DATE_WORDS})\b|[\s,./:|()-])+$", re.IGNORECASE)
_CAPTION_CREDIT_RE = re.compile(
    r"[.!?]\s*-\s*(?:AFP|AP|Reuters|EPA|Getty(?:\s+Images)?|Xinhua|TASS|Bloomberg|File(?:\s+photo)?)\W*$"
)


def is_boilerplate(text: str) -> bool:
    """True for scraper and blog furniture: "ALSO READ: ...", "Leave a Reply", share/subscribe
    prompts, cookie notices, photo captions and credits, a line that is only a URL, a date or a number.

    >>> is_boilerplate("ALSO READ: Russia engages New Delhi"), is_boilerplate("Published: Fri 4 Feb 2022, 23:15")
    (True, True)
    >>> is_boilerplate("Russia won China's backing on Friday.")
    False
    """
    text = text.strip()
    if not text:
        return True
    return bool(
        _BOILERPLATE_START_RE.search(text)
        or (any(hint in text.lower() for hint in _BOILERPLATE_HINTS) and _BOILERPLATE_ANYWHERE_RE.search(text))
        or _URL_ONLY_RE.match(text)
        or _DATE_OR_NUMBER_ONLY_RE.match(text)
        or _CAPTION_CREDIT_RE.search(text, max(0, len(text) - 40))
    )


# --- sentence segmentation ------------------------------------------------------------------------

# Always followed by a name or a number: never the end of a sentence.
_PREFIX_ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Mx Dr Prof St Ste Sen Rep Gov Gen Lt Col Maj Capt Cmdr Sgt Cpl Pvt Adm Rev Fr Hon "
    "Pres Supt Insp Det Mt Ft Messrs Mme Mlle Mssrs No Nos Nr Art Fig Figs Vol Vols pp Ch Sec Para "
    "Ref approx cf vs viz".split()
)
# May end a sentence: a boundary only when the next word is a typical sentence opener.
_AMBIGUOUS_ABBREVIATIONS = frozenset(
    "Inc Corp Co Ltd Plc LLC Bros Jr Sr Esq etc al Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "Mon Tue Tues Wed Thu Thur Thurs Fri Sat Sun Ave Blvd Rd Dept Univ Assn Est est".split()
)
_SENTENCE_OPENERS = frozenset(
    "The A An It Its He She They We I You His Her Their Our My This That These Those There Then "
    "But And Yet So Or Nor However Meanwhile Still Also In On At For From With After Before When "
    "While If As Since Although Though Because Some Many Most Other Others Such No Not One Two "
    "What Who Why How Where Last Earlier Later Now Today Yesterday Tomorrow Separately".split()
)
_BOUNDARY_RE = re.compile(
    r"""(?P<punct>[.!?]+)(?P<close>["')\]]*)
        (?: \s+(?=["'(\[]*[A-Z0-9\u00c0-\u00d6\u00d8-\u00de])   # "end. Next", 'end." Next'
          | (?<=[a-z\d"')\]][.!?])(?=[A-Z][a-z])               # missing space: 'relationship".In'
          | (?<=[a-z\d"')\]][.!?]["')\]])(?=[A-Z][a-z])
        )""",
    re.VERBOSE,
)
_NEXT_WORD_RE = re.compile(r"""\s*["'(\[]*([^\s"'(\[\]),.;:!?]*)""")
_DOTTED_RE = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]$")
_INITIAL_RE = re.compile(r"^[A-Z]$")
_LINE_RE = re.compile(r"[^\n]+")
_TERMINAL_RE = re.compile(r"""[.!?]+["')\]]*$""")
_DATELINE_RE = re.compile(
    r"""^(?:[A-Z][A-Z.'-]{2,}(?:[ ][A-Z][A-Z.'-]+)*          # BEIJING / NEW DELHI
         (?:,[ ][A-Za-z0-9 .]+?)?(?:,?[ ]\d{4})?                  # , China / , Feb 4 / , 2022
         (?:[ ]\((?:Reuters|AP|AFP|IANS|PTI|ANI|UPI|dpa|Xinhua|TASS|Bloomberg|CNN|BBC)\))?
       | \((?:Reuters|AP|AFP|IANS|PTI|ANI|UPI|dpa|Xinhua|TASS|Bloomberg|CNN|BBC)\)
       )[ ]?-[ ]
    """,
    re.VERBOSE,
)


def shorten_text(text: str, limit: int) -> tuple[str, int]:
    """``text`` cut to at most ``limit`` characters, at the last space in its final tenth if there is
    one; and the number of characters left out."""
    if len(text) <= limit:
        return text, 0
    cut = text[:limit]
    space = max(cut.rfind(" ", limit - limit // 10), cut.rfind("\n", limit - limit // 10))
    cut = cut[:space].rstrip() if space > 0 else cut
    return cut, len(text) - len(cut)


def split_sentences(text: str, *, max_heading_words: int = 25) -> list[Segment]:
    """Normalise ``text`` and cut it into sentences; offsets refer to ``normalise(text)``.

    Every line break is a boundary. Inside a line a sentence ends at ``.``, ``!`` or ``?`` (plus any
    closing quotes or brackets) followed by a space and a capital, a digit or an opening quote, or
    directly by a capitalised word ("relationship\\".In a long ..."), except after abbreviations
    (Mr., Dr., St., No., initials such as "J. Smith"; after U.S., Inc., Feb. and the like only when
    a typical sentence opener follows). A wire dateline ("BEIJING (Reuters) - ") becomes its own
    boilerplate segment. A line of one segment without final punctuation and at most
    ``max_heading_words`` words is a heading.
    """
    normalised = normalise(text)
    segments: list[Segment] = []
    for line in _LINE_RE.finditer(normalised):
        segments.extend(_line_segments(line.group(), line.start(), max_heading_words))
    return segments


def _line_segments(line: str, offset: int, max_heading_words: int) -> list[Segment]:
    spans: list[tuple[int, int, bool]] = []  # (start, end, is_dateline)
    start = 0
    dateline = _DATELINE_RE.match(line)
    if dateline and dateline.end() < len(line):
        spans.append((0, dateline.end(), True))
        start = dateline.end()
    for match in _BOUNDARY_RE.finditer(line, start):
        if _is_sentence_end(line, match):
            spans.append((start, match.end("close"), False))
            start = match.end()
    spans.append((start, len(line), False))
    line_is_boilerplate = is_boilerplate(line)
    single = sum(1 for s, e, d in spans if line[s:e].strip() and not d) == 1
    segments = []
    for s, e, is_dateline in spans:
        piece = line[s:e]
        stripped = piece.strip()
        if not stripped:
            continue
        s += len(piece) - len(piece.lstrip())
        heading = (
            single
            and not is_dateline
            and not _TERMINAL_RE.search(stripped)
            and len(stripped.split()) <= max_heading_words
        )
        boilerplate = is_dateline or line_is_boilerplate or (stripped != line and is_boilerplate(stripped))
        segments.append(Segment(stripped, offset + s, offset + s + len(stripped), boilerplate, heading))
    return segments


def _is_sentence_end(line: str, match: re.Match) -> bool:
    """Decide whether a candidate boundary is real, looking at the words on either side."""
    if match.group("punct") != ".":
        return True
    end = match.start()
    previous = line[line.rfind(" ", 0, end) + 1 : end].lstrip("\"'([")
    if previous in _PREFIX_ABBREVIATIONS or _INITIAL_RE.match(previous):
        return False
    if previous in _AMBIGUOUS_ABBREVIATIONS or _DOTTED_RE.match(previous):
        return _NEXT_WORD_RE.match(line, match.end()).group(1) in _SENTENCE_OPENERS
    return True


# --- quotations ----------------------------------------------------------------------------------

QUOTED_SHARE = 0.7  # share of a sentence's words inside quotation marks that makes it quoted speech


def quoted_sentences(text: str, segments: Sequence[Segment], *, min_share: float = QUOTED_SHARE) -> list[bool]:
    """For each segment of ``text`` (normalised, as `split_sentences` cut it), whether at least
    ``min_share`` of its words stand inside double quotation marks.

    Straight and curly double quotes are one mark after normalisation; whether a quotation is open
    carries from sentence to sentence, so a quotation over several sentences marks each of them. A
    paragraph break closes an open quotation (a quotation that runs on opens again with a mark, by
    news convention, and a stray mark spoils one paragraph at most). Single quotes are not read:
    they cannot be told from apostrophes.

    >>> article = 'He spoke. "We will not back down. Never." Talks resumed on "key issues" today.'
    >>> quoted_sentences(article, split_sentences(article))
    [False, True, True, False]
    """
    flags, inside, previous_end = [], False, None
    for segment in segments:
        if previous_end is not None and "\n" in text[previous_end : segment.start]:
            inside = False
        quoted = total = 0
        for token in tokenize(segment.text):
            if token.is_word:
                total += 1
                quoted += inside
            elif token.text == '"':
                inside = not inside
        flags.append(total > 0 and quoted / total >= min_share)
        previous_end = segment.end
    return flags


# --- tokenisation ---------------------------------------------------------------------------------

_KEY_TABLE = str.maketrans("", "", "'\u2019\u2018\u02bc`")
_HAS_LETTER_RE = re.compile(r"[^\W\d_]")


def tokenize(sentence: str) -> list[Token]:
    """Split a sentence into word, number and punctuation tokens (offsets into ``sentence``).

    A word is a run of letters/digits joined by internal apostrophes or hyphens ("China's",
    "didn't", "pro-Western", "tit-for-tat", "S-400"); dotted abbreviations keep their dots
    ("U.S.", "U.S.-led"); a number keeps its decimal, thousands, time and date separators ("3.5",
    "100,000", "23:15"). Everything else is one punctuation token per character (``is_word=False``).
    A trailing or leading apostrophe ("nations'") is punctuation.
    """
    return [
        Token(m.group(), m.start(), m.end(), m.lastgroup != "punct") for m in TOKEN_RE.finditer(sentence)
    ]


def words(sentence: str) -> list[str]:
    """The word tokens of a sentence, as written (punctuation left out)."""
    return [m.group() for m in TOKEN_RE.finditer(sentence) if m.lastgroup != "punct"]


def word_key(word: str) -> str:
    """Comparison key of a word: lower-case, apostrophes removed, and the dots of an abbreviation
    removed ("China's" == "Chinas", "U.S." == "US"); a number keeps its dots ("3.5").
    """
    key = word.translate(_KEY_TABLE).lower()
    if "." in key and _HAS_LETTER_RE.search(key):
        key = key.replace(".", "")
    return key
