"""Article reports: per-sentence findings, the verdict rules, and JSON / Markdown / HTML rendering.

A report is plain data (dataclasses), so the batch job, the notebook and the command line all read
the same fields. The verdict is decided here, from the findings alone, by `decide_verdict`; the
degree of spinning by `spin_score`.

Example:
    >>> finding = SentenceFinding(text="NATO should not confess new participants.", spun_probability=None,
    ...     relation="spun", source_sentence="NATO should not admit new members.",
    ...     substitutions=[("admit", "confess"), ("members", "participants")])
    >>> decide_verdict([finding, finding], source_given=True, has_candidate=True)
    'spun'
"""

from __future__ import annotations

import html
import json
import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from detector.decision import VerdictRules
from detector.relation import SpinEvidence
from detector.schema import SCHEMA_VERSION
from detector.text import words

__all__ = [
    "VERDICTS",
    "MATCHED_RELATIONS",
    "SentenceScore",
    "SentenceFinding",
    "SourceContribution",
    "ArticleReport",
    "decide_verdict",
    "spin_score",
    "count_relations",
    "render_markdown",
    "render_html",
]

VERDICTS = ("original", "copy", "spun", "paraphrased", "related")
MATCHED_RELATIONS = ("copy", "spun", "paraphrase")
UNMATCHED = "unmatched"


@dataclass
class SentenceScore:
    """The classifier's reading of one sentence, with no source at hand."""

    text: str
    spun_probability: float
    is_spun: bool
    word_scores: list[tuple[str, float]] = field(default_factory=list)
    swapped_words: list[str] = field(default_factory=list)  # words at or above the model's word threshold


@dataclass
class SentenceFinding:
    """One sentence of an article as analysed.

    `relation` is the pair relation to its aligned source sentence ("copy", "spun", "paraphrase",
    "unrelated"), or "unmatched" when no source sentence aligned. With no source given, it is "spun"
    where the classifier flags the sentence and "unmatched" elsewhere. `spun_probability` is None
    when no trained classifier was loaded. `thesaurus_substitutions` and `spin_strength` (share of
    the source sentence's content words swapped, by any dictionary, or padded with spinner fillers)
    come from `detector.relation.PairResult`; `source_id` names the source this sentence was aligned
    to (articles stitched from several sources align each sentence to its own) and
    `source_position` where that sentence stands among the source's content sentences (from 0);
    `evidence` says why the relation was chosen: against a source, the pair's evidence; with no index, for a
    sentence the classifier flags, its probability and flagged words; else None. `is_quotation`
    is True only when the caller excluded quotations (``exclude_quotations``) and most of the
    sentence's words are inside quotation marks (`detector.text.quoted_sentences`): it is then left
    out as boilerplate is.
    """

    text: str
    spun_probability: float | None
    relation: str
    source_sentence: str | None = None
    substitutions: list[tuple[str, str]] = field(default_factory=list)
    word_scores: list[tuple[str, float]] = field(default_factory=list)
    is_boilerplate: bool = False
    similarity: float = 0.0
    thesaurus_substitutions: int = 0
    spin_strength: float = 0.0
    source_id: str | None = None
    evidence: SpinEvidence | None = None
    source_position: int | None = None
    is_quotation: bool = False

    @property
    def left_out(self) -> bool:
        """Whether the sentence is kept out of the verdict, the spin score and the counts: boilerplate,
        or quoted speech when the caller excluded quotations."""
        return self.is_boilerplate or self.is_quotation


@dataclass
class SourceContribution:
    """One source that contributes aligned sentences to an article: how many, and as what."""

    id: str
    coverage: float  # share of the article's content sentences aligned to this source
    relation_counts: dict[str, int] = field(default_factory=dict)
    similarity: float = 0.0  # mean similarity of its aligned sentences


@dataclass
class ArticleReport:
    """What `Detector.analyze` found in one article.

    `coverage` is the share of the article's content sentences (boilerplate, and quotations when
    excluded, left out) aligned to a
    source sentence; `candidates` the retrieved sources as (id, score), best first; `notes` says what
    the verdict rests on; `evasion` counts hidden characters found by normalisation (zero-width,
    homoglyphs, control characters); `relation_counts` counts the content sentences per relation;
    `language` is the BCP 47 tag of the text's language ("en"; "fr", "und-Cyrl", ... for text the
    detector does not read, whose sentences are listed unscored under the verdict "original"; None
    when it was not checked); `truncation` counts what the size limits cut
    ("article_chars_dropped", "sentences_shortened"; empty when nothing was cut); `sources` lists
    every source that contributes aligned sentences (`source_id` is the main one, first);
    `story` what the article shares with the candidate that marks the same event best (rare
    names, numbers, quotations; looked up only when the verdict hangs on it, else empty); `decision_version` the `detector.decision.DecisionModel` that
    made the calls.
    """

    verdict: str
    spin_score: float
    source_id: str | None = None
    source_similarity: float = 0.0
    coverage: float = 0.0
    candidates: list[tuple[str, float]] = field(default_factory=list)
    sentences: list[SentenceFinding] = field(default_factory=list)
    source_given: bool = False
    classifier_used: bool = False
    notes: list[str] = field(default_factory=list)
    evasion: dict[str, int] = field(default_factory=dict)
    relation_counts: dict[str, int] = field(default_factory=dict)
    article_id: str | None = None
    language: str | None = None
    truncation: dict[str, int] = field(default_factory=dict)
    sources: list[SourceContribution] = field(default_factory=list)
    story: dict = field(default_factory=dict)
    decision_version: str | None = None

    @property
    def language_supported(self) -> bool:
        """False when the text is in a language the detector does not read (nothing was scored)."""
        return self.language in (None, "en")

    @property
    def evasion_found(self) -> bool:
        """True when zero-width characters or homoglyphs were hidden in the text (removed before scoring)."""
        return bool(self.evasion.get("zero_width") or self.evasion.get("homoglyphs"))

    @property
    def spun_sentences(self) -> list[SentenceFinding]:
        """Content sentences judged spun against the source, or by the classifier with no source."""
        return [s for s in self.sentences if not s.left_out and s.relation == "spun"]

    def to_dict(self) -> dict:
        """Plain JSON-ready data (tuples become lists)."""
        data = asdict(self)
        data["candidates"] = [[doc_id, score] for doc_id, score in self.candidates]
        for sentence in data["sentences"]:
            sentence["substitutions"] = [list(pair) for pair in sentence["substitutions"]]
            sentence["word_scores"] = [list(pair) for pair in sentence["word_scores"]]
        data["schema_version"] = SCHEMA_VERSION  # docs/REPORT_SCHEMA.md, `spin-detect schema report`
        return data

    def to_json(self, indent: int | None = None) -> str:
        """The report as JSON (`indent` as for `json.dumps`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_markdown(self) -> str:
        """A readable report: verdict, source, scores and a table of the spun sentences."""
        return render_markdown([self])

    def to_html(self) -> str:
        """A self-contained HTML page; every piece of article text is escaped."""
        return render_html([self])


def decide_verdict(
    findings: Sequence[SentenceFinding],
    *,
    source_given: bool,
    has_candidate: bool,
    rules: VerdictRules | None = None,
) -> str:
    """One of `VERDICTS` for an article, from its findings against its sources.

    Boilerplate sentences (and quotations, when excluded) are left out; ``rules``
    (`detector.decision.VerdictRules`, the model's versioned thresholds) set every bar. Without an
    index (``source_given`` False) the classifier alone decides: "spun" when at least
    ``min_classifier_share`` of the sentences are flagged. With one:

    * few sentences align (under ``min_matched`` or ``min_coverage``): two or more copied or spun
      sentences of ``min_reused_words`` words or more are still reuse, "copy" or "spun" (a text
      that lifts a paragraph into its own writing); otherwise "related" when ``has_candidate`` (a
      source on the same event, see `detector.story`), else "original";
    * "spun" when at least ``min_spun_share`` of the matched sentences, and ``min_spun_sentences``
      of them, are spun; or when ``min_light_spun_share`` of them are and they make up at least
      ``min_spun_share_of_changed`` of the sentences that are not verbatim copies (a copy spun
      lightly: the spinner made most of its changes, where a copy-editor's rewrite paraphrases);
    * "copy" when at least ``min_copy_share`` of them are copies and they make up at least
      ``min_copied_coverage`` of the article; "paraphrased" when the matched sentences are
      rewrites covering at least ``min_paraphrased_coverage`` of it (paraphrase pairs under
      ``min_paraphrase_similarity`` do not count: a follow-up story on the same event aligns loosely),
      or when at least ``min_ordered_coverage`` of it, and ``min_ordered_sentences``, rewrite one
      source sentence by sentence in the source's order (a loose paraphrase still follows its
      source; an independent report of the event does not). Below those coverages the article is
      partial reuse ("copy") when it lifted enough sentences, else "related" or "original" as above.
    """
    rules = rules or VerdictRules()
    content = [f for f in findings if not f.left_out]
    if not source_given:
        flagged = sum(f.relation == "spun" for f in content)
        return "spun" if content and flagged / len(content) >= rules.min_classifier_share else "original"
    matched = [f for f in content if f.relation in MATCHED_RELATIONS]
    reused = [f for f in matched if f.relation in ("copy", "spun") and len(words(f.text)) >= rules.min_reused_words]
    reuse = None
    if len(reused) >= rules.min_reused_sentences:
        reuse = "spun" if _spun(reused, rules) else "copy"
    unaligned = "related" if has_candidate else "original"
    if not matched or len(matched) < rules.min_matched or len(matched) / len(content) < rules.min_coverage:
        return reuse or unaligned
    if _spun(matched, rules):
        return "spun"
    copies = sum(f.relation == "copy" for f in matched)
    if copies / len(matched) < rules.min_copy_share:
        close = [f for f in matched if f.relation != "paraphrase" or f.similarity >= rules.min_paraphrase_similarity]
        if len(close) / len(content) >= rules.min_paraphrased_coverage or _in_source_order(matched, len(content), rules):
            return "paraphrased"
        return reuse or unaligned
    if copies / len(content) < rules.min_copied_coverage:
        return reuse or unaligned
    return "copy"


def _in_source_order(matched: Sequence[SentenceFinding], content: int, rules: VerdictRules) -> bool:
    """Whether enough of the article follows its main source sentence by sentence: the longest run
    of matched sentences whose source positions rise, in the article's order."""
    main = Counter(f.source_id for f in matched).most_common(1)[0][0]
    rising: list[int] = []  # rising[k]: the smallest last position of a rising run of k + 1 sentences
    for position in (f.source_position for f in matched if f.source_id == main and f.source_position is not None):
        at = bisect_left(rising, position)
        rising[at : at + 1] = [position]
    return len(rising) >= rules.min_ordered_sentences and len(rising) / content >= rules.min_ordered_coverage


def _spun(matched: Sequence[SentenceFinding], rules: VerdictRules) -> bool:
    """A real share of the matched sentences spun, and more than one of them; a lighter share when
    the spun sentences are most of those changed."""
    spun = sum(f.relation == "spun" for f in matched)
    if spun < rules.min_spun_sentences:
        return False
    share = spun / len(matched)
    changed = sum(f.relation != "copy" for f in matched)
    return share >= rules.min_spun_share or (
        share >= rules.min_light_spun_share and spun >= rules.min_spun_share_of_changed * changed
    )


def spin_score(
    findings: Sequence[SentenceFinding],
    *,
    verdict: str,
    strength_scale: float = 0.25,
    classifier_weight: float = 0.2,
) -> float:
    """How spun an article is, 0..1.

    From the source comparison: the share of matched sentences that are spun, each weighted by its
    spin strength s (share of content words swapped) as 1 - exp(-s / strength_scale) (0.25: a
    fifth of the content words swapped weighs 0.55, half of them 0.86). Combined with the classifier's mean spun probability over
    the content sentences as (1 - classifier_weight) * source + classifier_weight * classifier
    (0.2: the calibrated probability says whether a sentence is spun, the source says how much).
    With no matched source (verdicts "original" and "related"), the classifier alone; with no
    classifier, the source comparison alone; with neither, 0.
    """
    content = [f for f in findings if not f.left_out]
    probabilities = [f.spun_probability for f in content if f.spun_probability is not None]
    classifier = sum(probabilities) / len(probabilities) if probabilities else None
    matched = [f for f in content if f.relation in MATCHED_RELATIONS]
    if verdict in ("original", "related") or not matched:
        return round(classifier or 0.0, 4)
    weights = [1 - math.exp(-f.spin_strength / strength_scale) for f in matched if f.relation == "spun"]
    source = sum(weights) / len(matched)
    if classifier is None:
        return round(source, 4)
    return round((1 - classifier_weight) * source + classifier_weight * classifier, 4)


def count_relations(findings: Iterable[SentenceFinding]) -> dict[str, int]:
    """Content sentences per relation, boilerplate and excluded quotations counted apart."""
    counts = Counter(_shown_relation(f) for f in findings)
    return dict(sorted(counts.items()))


def _shown_relation(finding: SentenceFinding) -> str:
    """The relation a sentence is counted and shown as: "boilerplate", "quotation" (when excluded), or its own."""
    if finding.is_boilerplate:
        return "boilerplate"
    return "quotation" if finding.is_quotation else finding.relation


_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_MARKDOWN_SPECIAL = re.compile(
    r"[\\`*\[\]|#~]"  # escapes, code spans, emphasis, links and images, table cells, headings, strikethrough
    r"|(?<![^\W_])_|_(?![^\W_])"  # "_" but for snake_case inside a word, where CommonMark never reads it as emphasis
    r"|[.:@](?=[^\W\d_])|(?<!\d)[.:@](?=\d)|:(?=/)|/(?=/)"  # the dots, colons, "@" and "//" of bare URLs and e-mails
)
_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _md(text: object) -> str:
    """Text from the input, made inert for any place on one Markdown line (heading, list item, table cell).

    Reports are read where Markdown is rendered (GitHub, CommonMark renderers with or without linkify),
    so article text and ids must build nothing there (issue 39):

    * every line break (``\\n``, ``\\r``, ``\\v``, ``\\f``, U+0085, U+2028, U+2029, ...) becomes a space,
      so no input starts a block (a ``<script>`` line, a heading, a list, a table row);
    * ``&``, ``<`` and ``>`` become entities: no raw HTML, no ``<http://...>`` autolink;
    * a backslash goes before ``\\ ` * [ ] | # ~`` and before ``_`` outside ``snake_case``: no code span,
      emphasis, link, image, link reference, table cell or heading closer comes from the input;
    * bare URLs and addresses are broken for linkifiers (markdown-it's linkify, GitHub's autolinks) by a
      backslash before ``.``, ``:`` and ``@`` followed by a letter (or a digit, outside numbers like 3.5
      and 10:30), before ``:/`` and before the first slash of ``//``.

    Brackets being escaped, ``(``, ``)`` and ``!`` can build nothing and are left as they are, so an
    ordinary sentence reads as it was: "NATO (Reuters) said on Monday: no." comes out unchanged.

    >>> _md("<b>x</b> [a](javascript:alert(1)) see www.example.com\\n# Title")
    '&lt;b&gt;x&lt;/b&gt; \\\\[a\\\\](javascript\\\\:alert(1)) see www\\\\.example\\\\.com \\\\# Title'
    """
    text = _LINE_BREAKS.sub(" ", "" if text is None else str(text))
    text = _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), text)
    return re.sub(r"[&<>]", lambda match: _HTML_SPECIAL[match.group(0)], text)


def _code(text: str) -> str:
    """Input as a Markdown code span, one line, with a fence longer than any run of backticks inside it."""
    text = _LINE_BREAKS.sub(" ", text)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    if not text or text[0] in "` " or text[-1] in "` ":
        text = f" {text} "  # CommonMark strips one space a side
    return f"{fence}{text}{fence}"


def _substitution_list(finding: SentenceFinding) -> str:
    """The swaps against the source sentence; with no source, the words the word head flags."""
    if finding.substitutions or finding.source_sentence is not None:
        return ", ".join(f"{_md(a)} → {_md(b)}" for a, b in finding.substitutions)
    return ", ".join(f"{_md(word)} {score:.2f}" for word, score in _flagged_words(finding))


def _flagged_words(finding: SentenceFinding) -> list[tuple[str, float]]:
    """The words the word head flags in a sentence judged with no source (empty when there is a source)."""
    if finding.source_sentence is not None or finding.evidence is None:
        return []
    return finding.evidence.flagged_words


def _probability(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _markdown_one(report: ArticleReport) -> list[str]:
    """One report's Markdown lines; every piece of input goes through `_md` or `_code` (issue 39)."""
    title = f"## {_md(report.article_id)}" if report.article_id else "## Article report"
    lines = [title, "", f"**Verdict: {_md(report.verdict)}** · spin score {report.spin_score:.2f}", ""]
    if report.source_id is not None:
        lines.append(
            f"- Closest source: {_code(report.source_id)} (similarity {report.source_similarity:.2f}, "
            f"coverage {report.coverage:.0%})"
        )
    elif report.source_given:
        lines.append("- Closest source: none found in the index")
    if len(report.sources) > 1:
        lines.append("- Sources: " + ", ".join(
            f"{_code(source.id)} coverage {source.coverage:.0%}" for source in report.sources
        ))
    others = ", ".join(f"{_code(doc_id)} {score:.2f}" for doc_id, score in report.candidates)
    if others:
        lines.append(f"- Candidates: {others}")
    if report.story:
        heading, shares, similarities = _story_phrases(report)
        lines.append(f"- {heading}: {_code(report.story['source_id'])} shares {_md(shares)} ({similarities})")
    if report.relation_counts:
        lines.append("- Sentences: " + ", ".join(f"{_md(k)} {v}" for k, v in report.relation_counts.items()))
    if any(report.evasion.values()):
        lines.append("- Hidden characters: " + ", ".join(f"{_md(k)} {v}" for k, v in report.evasion.items() if v))
    lines += [f"- Note: {_md(note)}" for note in report.notes]
    spun = report.spun_sentences
    if spun and _with_source(report):
        lines += ["", "| # | spun p | sentence | source sentence | substitutions | why |", "|---|---|---|---|---|---|"]
        for number, finding in enumerate(spun, 1):
            lines.append(
                f"| {number} | {_probability(finding.spun_probability)} | {_md(finding.text)} | "
                f"{_md(finding.source_sentence)} | {_substitution_list(finding)} | "
                f"{_md(_why(finding))} |"
            )
    elif spun:
        lines += ["", "| # | spun p | sentence | flagged words | why |", "|---|---|---|---|---|"]
        for number, finding in enumerate(spun, 1):
            lines.append(
                f"| {number} | {_probability(finding.spun_probability)} | {_md(finding.text)} | "
                f"{_substitution_list(finding)} | {_md(_why(finding))} |"
            )
    return lines


def _story_phrases(report: ArticleReport) -> tuple[str, str, str]:
    """The same-story line's heading, what the candidate shares and its two similarities, unescaped."""
    story, quotations = report.story, report.story["quotations"]
    shared = [f"names {', '.join(story['names'])}" if story["names"] else "",
              f"figures {', '.join(story['numbers'])}" if story["numbers"] else "",
              f"{quotations} quotation{'s' if quotations > 1 else ''}" if quotations else "",
              f"words {', '.join(story['words'])}" if story["words"] else ""]
    heading = "Same story" if report.verdict == "related" else "Nearest same-story candidate, too little shared for related"
    similarities = f"word similarity {story['word_similarity']:.2f}, topic similarity {story['topic_similarity']:.2f}"
    return heading, "; ".join(part for part in shared if part) or "no marks", similarities


def _with_source(report: ArticleReport) -> bool:
    """Whether the report has a source column: an index was given, or some sentence has a source sentence."""
    return report.source_given or any(finding.source_sentence is not None for finding in report.sentences)


def _reasons(finding: SentenceFinding) -> list[str]:
    """The evidence behind a spun sentence, in short sentences: against its source sentence, or with no
    source the classifier's sentence probability and the words its word head flags."""
    if finding.evidence is None:
        return ["the classifier flags the sentence"] if finding.relation == "spun" else []
    if finding.source_sentence is not None:
        return finding.evidence.reasons()
    flagged = ", ".join(f"{word} ({score:.2f})" for word, score in finding.evidence.flagged_words)
    return [
        f"sentence spun probability {_probability(finding.evidence.sentence_probability)} "
        "at or over the classifier threshold (see the notes)",
        f"word head flags {flagged}" if flagged else "word head flags no single word",
    ]


def _why(finding: SentenceFinding) -> str:
    return "; ".join(_reasons(finding))


def render_markdown(reports: Sequence[ArticleReport]) -> str:
    """Several reports as one Markdown document."""
    return "\n\n".join("\n".join(_markdown_one(report)) for report in reports) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.4rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
.verdict{display:inline-block;padding:.15rem .6rem;border-radius:.3rem;font-weight:600;color:#fff}
.v-spun{background:#b3261e}.v-paraphrased{background:#b36b00}.v-copy{background:#6a1b9a}
.v-related{background:#1565c0}.v-original{background:#2e7d32}
table{border-collapse:collapse;width:100%;margin-top:.4rem}
td,th{border:1px solid #ddd;padding:.4rem;vertical-align:top;text-align:left}
th{background:#f4f4f4;white-space:nowrap}td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.boilerplate,tr.quotation{color:#999}tr.spun td:first-child{border-left:4px solid #b3261e;font-weight:600}
mark.sub{background:#ffd54f;padding:0 .1rem}mark.src{background:#c8e6c9;padding:0 .1rem}
mark.flag{background:#ffab91;padding:0 .1rem}
.meta{color:#555}.legend{color:#555;font-size:.9em}ul.why{margin:0;padding-left:1rem;font-size:.9em;color:#444}
"""


def _highlight(sentence: str, phrases: Iterable[str], css_class: str) -> str:
    """The sentence escaped, with each phrase (found left to right, whole words) in a <mark>."""
    pieces, position = [], 0
    for phrase in phrases:
        if not phrase.strip():
            continue
        pattern = re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.IGNORECASE)
        match = pattern.search(sentence, position) or pattern.search(sentence)
        if match is None or match.start() < position:
            continue
        pieces.append(html.escape(sentence[position : match.start()], quote=True))
        pieces.append(f'<mark class="{css_class}">{html.escape(match.group(0), quote=True)}</mark>')
        position = match.end()
    pieces.append(html.escape(sentence[position:], quote=True))
    return "".join(pieces)


def _html_row(finding: SentenceFinding, with_source: bool) -> str:
    """One sentence as a table row: swaps marked against the source sentence, or with no source the
    words the word head flags."""
    flagged = _flagged_words(finding)
    if flagged:
        suspect = _highlight(finding.text, (word for word, _ in flagged), "flag")
    else:
        suspect = _highlight(finding.text, (b for _, b in finding.substitutions), "sub")
    relation = _shown_relation(finding)
    why = "".join(f"<li>{_esc(line)}</li>" for line in _reasons(finding)) if relation == "spun" else ""
    source = ""
    if with_source:
        source = f"<td>{_highlight(finding.source_sentence or '', (a for a, _ in finding.substitutions), 'src')}</td>"
    return (
        f'<tr class="{_esc(relation)}"><td>{_esc(relation)}</td>'
        f'<td class="num">{_probability(finding.spun_probability)}</td>'
        f'<td>{suspect}</td>{source}<td><ul class="why">{why}</ul></td></tr>'
    )


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _html_candidates(report: ArticleReport) -> str:
    """Every retrieved candidate with its retrieval score, and the coverage and aligned sentences of
    those that contribute ("–" for the others); contributing sources not retrieved come last."""
    contributions = {source.id: source for source in report.sources}
    scores = dict(report.candidates)
    rows = []
    for doc_id in dict.fromkeys([doc_id for doc_id, _ in report.candidates] + list(contributions)):
        source = contributions.get(doc_id)
        score = f"{scores[doc_id]:.2f}" if doc_id in scores else "–"
        coverage = f"{source.coverage:.0%}" if source else "–"
        counts = ", ".join(f"{_esc(k)} {v}" for k, v in source.relation_counts.items()) if source else "–"
        rows.append(
            f'<tr><td><code>{_esc(doc_id)}</code></td><td class="num">{score}</td>'
            f'<td class="num">{coverage}</td><td>{counts}</td></tr>'
        )
    if not rows:
        return ""
    return (
        "<h3>Candidate sources</h3><table><thead><tr><th>source</th><th>retrieval score</th><th>coverage</th>"
        f"<th>aligned sentences</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _html_one(report: ArticleReport) -> str:
    title = _esc(report.article_id) if report.article_id else "Article report"
    meta = [f"spin score {report.spin_score:.2f}"]
    if report.source_id is not None:
        meta.append(
            f"closest source <code>{_esc(report.source_id)}</code> (similarity {report.source_similarity:.2f}, "
            f"coverage {report.coverage:.0%})"
        )
    elif not report.source_given:
        meta.append("no source index: the classifier alone")
    if report.relation_counts:
        meta.append(", ".join(f"{_esc(k)} {v}" for k, v in report.relation_counts.items()))
    items = [f"<li>{_esc(note)}</li>" for note in report.notes]
    items += [f"<li>hidden characters: {_esc(k)} {v}</li>" for k, v in report.evasion.items() if v]
    with_source = _with_source(report)
    if with_source:
        legend = '<mark class="sub">swapped-in words</mark> against <mark class="src">source words</mark>'
        source_head = "<th>source sentence</th>"
    else:
        legend = '<mark class="flag">words the word head flags</mark> (no source to compare with)'
        source_head = ""
    rows = "".join(_html_row(finding, with_source) for finding in report.sentences)
    notes = f"<ul>{''.join(items)}</ul>" if items else ""
    if report.story:
        heading, shares, similarities = _story_phrases(report)
        notes = (f'<p class="meta">{_esc(heading)}: <code>{_esc(report.story["source_id"])}</code> shares {_esc(shares)} '
                 f"({similarities})</p>{notes}")
    return (
        f"<section><h2>{title}</h2>"
        f'<p><span class="verdict v-{_esc(report.verdict)}">{_esc(report.verdict)}</span> '
        f'<span class="meta">{"; ".join(meta)}</span></p>'
        f"{notes}{_html_candidates(report)}"
        f'<h3>Sentences</h3><p class="legend">{legend}</p>'
        f"<table><thead><tr><th>relation</th><th>spun p</th><th>sentence</th>{source_head}<th>why</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></section>"
    )


def render_html(reports: Sequence[ArticleReport]) -> str:
    """Several reports as one self-contained HTML page (inline CSS, no scripts, text escaped)."""
    body = "".join(_html_one(report) for report in reports)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>spin-detector report</title><style>{_CSS}</style></head>"
        f"<body><h1>spin-detector report</h1>{body}</body></html>\n"
    )
