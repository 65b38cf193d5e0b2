"""Streaming readers for the corpora in ``shared/data`` and the article-level split rule.

Every reader yields plain dataclasses: :class:`Article` for news (BBC, Reuters-21578),
:class:`ParaphrasePair` for human paraphrase judgements (MRPC, STS, Twitter-URL, ParaSCI) and
:class:`TorturedPhrase` for the Problematic Paper Screener list. Splits are made by article (or pair,
or expected phrase), never by sentence, so that no story leaks from training into evaluation.

Example:
    >>> assign_split("bbc:tech/001", seed=0) in SPLITS
    True
"""

from __future__ import annotations

import csv
import hashlib
import html
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from detector.errors import InputError

__all__ = [
    "SPLITS",
    "Article",
    "ParaphrasePair",
    "TorturedPhrase",
    "assign_split",
    "detokenize",
    "read_bbc",
    "read_mrpc",
    "read_news",
    "read_parasci",
    "read_reuters",
    "read_sts",
    "read_tortured_phrases",
    "read_twitter_url",
    "resolve_shared_dir",
    "split_tortured_phrases",
    "tortured_phrase_groups",
    "stable_fraction",
]

SPLITS = ("train", "validation", "calibration", "test")
REUTERS_HELD_OUT = ("reut2-016", "reut2-017", "reut2-018")
PAIR_SPLITS = ("train", "validation", "test")
STS_TEST_YEARS = ("2015", "2016")
STS_DOMAINS = {
    "answer-answer": "social", "answers-forums": "social", "answers-students": "social",
    "belief": "social", "deft-forum": "social", "question-question": "social",
    "tweet-news": "social", "plagiarism": "science",
}


@dataclass(frozen=True)
class Article:
    """One news article: ``id`` is stable across runs ("bbc:tech/001", "reuters:reut2-000:17")."""

    id: str
    source: str
    title: str
    text: str
    held_out: bool = False


@dataclass(frozen=True)
class ParaphrasePair:
    """A human-judged sentence pair; ``text_b`` is the paraphrasing side when ``is_paraphrase``."""

    id: str
    source: str
    split: str
    text_a: str
    text_b: str
    score: float
    is_paraphrase: bool
    domain: str


@dataclass(frozen=True)
class TorturedPhrase:
    """A tortured phrase seen in published papers, the phrase it replaced, and in how many papers."""

    tortured: str
    expected: str
    papers: int


def resolve_shared_dir(path: str | os.PathLike | None = None) -> Path:
    """The shared data folder: ``path``, else ``$SPIN_DETECTOR_SHARED``, else ``../shared`` beside the repo."""
    if path is None:
        path = os.environ.get("SPIN_DETECTOR_SHARED") or Path(__file__).resolve().parents[2] / "shared"
    shared = Path(path)
    if not (shared / "data").is_dir():
        raise InputError(f"shared data folder {str(shared)!r} has no data/ subfolder; pass --shared or set SPIN_DETECTOR_SHARED")
    return shared


def stable_fraction(key: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by ``key`` and ``seed`` (blake2b, independent of PYTHONHASHSEED)."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def assign_split(key: str, seed: int, fractions: Sequence[float] = (0.8, 0.05, 0.05, 0.1), splits: Sequence[str] = SPLITS) -> str:
    """The split of an article (or pair) by a seeded hash of its id: the same id always lands in one split."""
    if len(fractions) != len(splits) or abs(sum(fractions) - 1.0) > 1e-9:
        raise InputError(f"split fractions {tuple(fractions)} must be one per split {tuple(splits)} and sum to 1")
    point, edge = stable_fraction(key, seed), 0.0
    for split, fraction in zip(splits, fractions):
        edge += fraction
        if point < edge:
            return split
    return splits[-1]


_DETOKENIZE_RULES = [
    (re.compile(r"\s+([,.;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$])\s+"), r"\1"),
    (re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", re.IGNORECASE), r"\1"),
    (re.compile(r"\s*([’'])\s*(s|t|re|ve|ll|d|m)\b"), r"\1\2"),
    (re.compile(r"\s+-\s+"), " - "),
    (re.compile(r"\s+"), " "),
]


def detokenize(text: str, capitalize: bool = True) -> str:
    """Undo PTB-style spacing ("the tool , which ( cmu )" -> "the tool, which (cmu)") and capitalise the start."""
    for pattern, replacement in _DETOKENIZE_RULES:
        text = pattern.sub(replacement, text)
    text = text.strip()
    return text[:1].upper() + text[1:] if capitalize else text


def read_bbc(shared: str | os.PathLike | None = None) -> Iterator[Article]:
    """BBC News 2004-2005: one article a file, the first line its title; id ``bbc:<topic>/<file>``."""
    root = resolve_shared_dir(shared) / "data" / "news" / "bbc"
    for path in sorted(root.glob("*/*.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        title, body = lines[0].strip(), "\n\n".join(line.strip() for line in lines[1:] if line.strip())
        yield Article(id=f"bbc:{path.parent.name}/{path.stem}", source="bbc", title=title, text=body)


_REUTERS_DOC = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.DOTALL)
_REUTERS_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.DOTALL)
_REUTERS_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.DOTALL)
_REUTERS_TRAILER = re.compile(r"\s*\breut(?:er|e)s?\b\s*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _reuters_body(raw: str) -> str:
    """Unescape entities, drop control bytes and the "Reuter" sign-off, rejoin wrapped lines into paragraphs."""
    text = _CONTROL.sub("", html.unescape(raw))
    text = _REUTERS_TRAILER.sub("", text.rstrip())
    paragraphs = re.split(r"\n\s{2,}|\n\s*\n", text)
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def read_reuters(shared: str | os.PathLike | None = None, held_out: bool | None = None) -> Iterator[Article]:
    """Reuters-21578 articles with a <BODY>; ``held_out`` True gives only reut2-016..018, False only the rest."""
    root = resolve_shared_dir(shared) / "data" / "news" / "reuters21578"
    for path in sorted(root.glob("reut2-*.sgm")):
        is_held_out = path.stem in REUTERS_HELD_OUT
        if held_out is not None and is_held_out != held_out:
            continue
        for new_id, document in _REUTERS_DOC.findall(path.read_text(encoding="latin-1")):
            body = _REUTERS_BODY.search(document)
            if body is None:
                continue
            title = _REUTERS_TITLE.search(document)
            yield Article(
                id=f"reuters:{path.stem}:{new_id}",
                source="reuters",
                title=" ".join(html.unescape(title.group(1)).split()) if title else "",
                text=_reuters_body(body.group(1)),
                held_out=is_held_out,
            )


def read_news(shared: str | os.PathLike | None = None, held_out: bool | None = None) -> Iterator[Article]:
    """BBC then Reuters; with ``held_out`` True only the Reuters held-out files (BBC has none)."""
    if not held_out:
        yield from read_bbc(shared)
    yield from read_reuters(shared, held_out=held_out)


def _check_split(split: str, valid: Sequence[str]) -> None:
    if split not in valid:
        raise InputError(f"unknown split {split!r}; choose one of {', '.join(valid)}")


def read_mrpc(shared: str | os.PathLike | None = None, split: str = "train") -> Iterator[ParaphrasePair]:
    """Microsoft Research Paraphrase Corpus (``train`` or ``test``); quality 1 = paraphrase."""
    _check_split(split, ("train", "test"))
    path = resolve_shared_dir(shared) / "data" / "paraphrase" / "mrpc" / f"msr_paraphrase_{split}.txt"
    with path.open(encoding="utf-8-sig") as handle:
        next(handle)
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 5:
                continue
            quality, id_a, id_b, text_a, text_b = fields
            yield ParaphrasePair(f"mrpc:{id_a}-{id_b}", "mrpc", split, text_a.strip(), text_b.strip(),
                                 float(quality), quality == "1", "news")


def read_sts(shared: str | os.PathLike | None = None, split: str = "train", min_score: float = 4.0) -> Iterator[ParaphrasePair]:
    """SemEval STS pairs with a gold score; ``train`` = 2012-2014, ``test`` = 2015-2016; paraphrase = score >= ``min_score``."""
    _check_split(split, ("train", "test"))
    root = resolve_shared_dir(shared) / "data" / "paraphrase" / "sts"
    for path in sorted(root.glob("20*/*.tsv")):
        year, subset = path.parent.name, path.name.split(".")[0]
        if (year in STS_TEST_YEARS) != (split == "test"):
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle):
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 3 or not fields[0].strip():
                    continue
                score = float(fields[0])
                yield ParaphrasePair(f"sts:{year}:{path.stem}:{number}", "sts", split, fields[1].strip(),
                                     fields[2].strip(), score, score >= min_score, STS_DOMAINS.get(subset, "news"))


def read_twitter_url(shared: str | os.PathLike | None = None, split: str = "train") -> Iterator[ParaphrasePair]:
    """Twitter-URL pairs: ``train`` from the tokenised release (detokenised), ``test`` from the raw file; >= 4 of 6 votes = paraphrase, 3 dropped."""
    _check_split(split, ("train", "test"))
    root = resolve_shared_dir(shared) / "data" / "paraphrase" / "twitter-url"
    if split == "train":
        with open(root / "train" / "a.toks", encoding="utf-8") as a, open(root / "train" / "b.toks", encoding="utf-8") as b, \
                open(root / "train" / "sim.txt", encoding="utf-8") as sim:
            for number, (text_a, text_b, label) in enumerate(zip(a, b, sim)):
                yield ParaphrasePair(f"twitter:train:{number}", "twitter-url", split, detokenize(text_a), detokenize(text_b),
                                     float(label), label.strip() == "1", "social")
        return
    with open(root / "Twitter_URL_Corpus_testNew.larger.txt", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle):
            fields = line.rstrip("\n").split("\t")
            votes = re.fullmatch(r"\((\d),6\)", fields[2].strip()) if len(fields) >= 3 else None
            if votes is None or votes.group(1) == "3":
                continue
            yield ParaphrasePair(f"twitter:test:{number}", "twitter-url", split, fields[0].strip(), fields[1].strip(),
                                 int(votes.group(1)) / 6, int(votes.group(1)) >= 4, "social")


def read_parasci(shared: str | os.PathLike | None = None, split: str = "train", subsets: Sequence[str] = ("ACL", "arXiv")) -> Iterator[ParaphrasePair]:
    """ParaSCI scientific paraphrase pairs (every pair a paraphrase), detokenised; arXiv has no train part here."""
    _check_split(split, PAIR_SPLITS)
    part = {"train": "train", "validation": "val", "test": "test"}[split]
    root = resolve_shared_dir(shared) / "data" / "paraphrase" / "parasci"
    for subset in subsets:
        folder = root / f"ParaSCI-{subset}" / part
        if not folder.is_dir():
            continue
        with open(folder / f"{part}.src", encoding="utf-8") as src, open(folder / f"{part}.tgt", encoding="utf-8") as tgt:
            for number, (text_a, text_b) in enumerate(zip(src, tgt)):
                yield ParaphrasePair(f"parasci:{subset}:{part}:{number}", "parasci", split, detokenize(text_a),
                                     detokenize(text_b), 1.0, True, "science")


_PPS_ANNOTATION = re.compile(r"\s*[\[(][^\])]*[\])]\s*")


def _clean_phrase(phrase: str) -> str:
    """Drop the list's context tags and acronyms ("[audio] bit depth", "analysis of variance (anova)")."""
    return " ".join(_PPS_ANNOTATION.sub(" ", phrase).split())


def read_tortured_phrases(shared: str | os.PathLike | None = None) -> list[TorturedPhrase]:
    """The PPS tortured-phrase list, annotations removed, rows whose two sides coincide or vanish dropped."""
    path = resolve_shared_dir(shared) / "data" / "tortured" / "pps-train.csv"
    phrases, seen = [], set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            tortured, expected = _clean_phrase(row["tortured"]), _clean_phrase(row["expected"])
            key = (tortured.lower(), expected.lower())
            if not tortured or not expected or key[0] == key[1] or key in seen:
                continue
            seen.add(key)
            phrases.append(TorturedPhrase(tortured, expected, int(row["papers"] or 0)))
    return phrases


def _phrase_key(phrase: str) -> str:
    """Loose identity of a phrase: lower-case words with a plural "s" dropped ("Support Vector Machines" = "support vector machine")."""
    return " ".join(word[:-1] if len(word) > 3 and word.endswith("s") else word for word in re.findall(r"[a-z0-9]+", phrase.lower()))


def tortured_phrase_groups(phrases: Sequence[TorturedPhrase]) -> list[str]:
    """A group key per phrase: rows linked by a shared expected or tortured phrase (loosely) share a group."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for phrase in phrases:
        a, b = root("e:" + _phrase_key(phrase.expected)), root("t:" + _phrase_key(phrase.tortured))
        parent[max(a, b)] = min(a, b)
    return [root("e:" + _phrase_key(phrase.expected)) for phrase in phrases]


def split_tortured_phrases(phrases: Sequence[TorturedPhrase], seed: int = 0, test_fraction: float = 0.5) -> tuple[list[TorturedPhrase], list[TorturedPhrase]]:
    """(train, test) halves split by expected phrase: rows that share an expected phrase (up to case and
    plural) or a tortured phrase stay on one side, so no test phrase is seen in training."""
    train, test = [], []
    for phrase, group in zip(phrases, tortured_phrase_groups(phrases)):
        (test if stable_fraction("pps:" + group, seed) < test_fraction else train).append(phrase)
    return train, test
