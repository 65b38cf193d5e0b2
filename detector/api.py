"""`Detector`: the public entry point that wires the stages of the data flow together.

normalise + segment -> classifier (spun probability per sentence and word) -> encode -> retrieve
candidate sources -> align to the best one -> pair relation per aligned sentence -> `ArticleReport`.

`analyze_many` batches across articles: the sentences of a whole batch of articles go through one
encoder pass and one classifier pass, which is what makes batch scoring fast.

Example:
    >>> from detector import Detector, SourceIndex
    >>> det = Detector.load()                                               # doctest: +SKIP
    >>> index = SourceIndex.build([{"id": "wire", "text": wire_text}])      # doctest: +SKIP
    >>> det.analyze(spun_text, index=index).verdict                         # doctest: +SKIP
    'spun'
"""

from __future__ import annotations

import copy
import dataclasses
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from detector.align import align_sentences
from detector.decision import DECISIONS_FILE, DEFAULT_MODEL_PATH, DecisionModel
from detector.encoder import SentenceEncoder
from detector.errors import InputError, ModelFormatError
from detector.language import SAMPLE_CHARS, LanguageGuess, detect_language
from detector.relation import PairResult, SpinEvidence, compare_pair
from detector.report import (
    UNMATCHED,
    ArticleReport,
    SentenceFinding,
    SentenceScore,
    SourceContribution,
    count_relations,
    decide_verdict,
    spin_score,
)
from detector.story import (
    StoryProfile,
    figure_overlap,
    mark_name_test,
    shared_words,
    template_lines,
    word_cosine,
)
from detector.text import (
    Segment,
    TextFindings,
    normalise_with_findings,
    quoted_sentences,
    shorten_text,
    split_sentences,
)

__all__ = [
    "Detector", "DEFAULT_MODEL_PATH", "MODEL_ENV", "DEFAULT_MAX_CHARS", "DEFAULT_MAX_SENTENCE_CHARS", "OVERSIZE_POLICIES",
    "model_folder",
]

MODEL_ENV = "SPIN_DETECTOR_MODEL"
DEFAULT_MAX_CHARS = 200_000  # about 30,000 words: far beyond a news article, well within memory
DEFAULT_MAX_SENTENCE_CHARS = 2_000  # word alignment is quadratic in sentence length; news sentences stay under 600
OVERSIZE_POLICIES = ("reject", "truncate")
NO_SOURCE_NOTE = "no source index given: verdict from the classifier alone"
THRESHOLD_NOTE = (
    "classifier threshold {threshold:.2f}: a sentence is spun at that spun probability or over; "
    "the word head flags words at {word_threshold:.2f} or over"
)
NO_CLASSIFIER_NOTE = "no trained classifier loaded: verdict from the source comparison alone"
NO_MODEL_MESSAGE = (
    "no spin-detector model found: an installed package does not ship one (none at {default}); copy the folder "
    "models/spin-classifier of the spin-detector repository and name it with --model FOLDER, ${env}=FOLDER or "
    "Detector.load(FOLDER) (docs/INSTALL.md)"
)
NOTHING_NOTE = "no trained classifier loaded and no source index given: nothing to judge by"
EMPTY_INDEX_NOTE = "the source index is empty (0 sources): judged as with no index"
EMPTY_NOTE = "empty text"
QUOTATIONS_NOTE = (
    "quotations excluded: {count} sentence(s) mostly inside quotation marks left out of the verdict and the "
    "spin score (the same quotations are in every report of a story)"
)
EVASION_KINDS = ("zero_width", "homoglyphs")
SECOND_SOURCE_MARGIN = 0.05  # how much better another source must align a sentence to take it from the main one
STORY_PARTNERS = 20  # sources sharing the most rare names with an article that the same-story check reads
TEMPLATE_NOTE = (
    "{count} sentence(s) aligned with {source} as paraphrases read as another issue of one template, not a paraphrase: "
    "the pairs giving figures share {overlap:.0%} of them{lines}, so they count as unrelated"
)
TEMPLATE_LINES_NOTE = ", and {lines} keep the source's wording with other figures"
OTHER_STORY_NOTE = (
    "{count} sentence(s) aligned with {source} as paraphrases read as another report in the same sentence frames, "
    "not a paraphrase: the two texts share few of one event's words (word similarity {similarity:.2f}, under "
    "{floor:.2f}) and {marks} rare name(s), figure(s) or quotation(s), so they count as unrelated"
)
STORY_WORDS = 8  # the shared words of most weight that `report.story` lists


@dataclass
class _Article:
    """One article after normalisation and segmentation, with its rows in the batch arrays."""

    segments: list[Segment]
    evasion: dict[str, int]
    first_row: int
    language: LanguageGuess | None = None
    truncation: dict[str, int] = field(default_factory=dict)
    quotations: list[bool] = field(default_factory=list)  # per segment, when quotations are excluded

    @property
    def scored(self) -> bool:
        """False for an article in a language the detector does not read: its sentences are not scored."""
        return self.language is None or self.language.supported

    @property
    def rows(self) -> range:
        """Its sentences' rows in the batch arrays (none when it is not scored)."""
        return range(self.first_row, self.first_row + (len(self.segments) if self.scored else 0))


class Detector:
    """Scores sentences, compares sentence pairs and analyses articles against a `SourceIndex`.

    Args:
        encoder: the `SentenceEncoder` for retrieval and alignment (the index's encoder).
        synonyms: the `SynonymTable` (anything with `are_neighbours(a, b)`) that tells thesaurus
            swaps from rewrites.
        scorer: the trained `SpinScorer`, or None to work from the source comparison alone.
        batch_size: sentences per encoder / classifier batch.
        articles_per_batch: articles whose sentences `analyze_many` scores together.
        candidates: sources retrieved per article; rerank: how many of them are aligned to pick
            the closest (the one with the largest summed alignment similarity).
        related_min_score: retrieval score (0..1) the best candidate must also reach for an article
            with few aligned sentences to be `related`; 0 by default, since what makes it related is
            the marks of one event it shares with a candidate (`detector.story`), not the score.
        decisions: the `DecisionModel` that weighs a pair's evidence into a relation and holds the
            verdict rules (default: the shipped model's ``decisions.json``).
        max_chars: longest article, in characters (default 200,000); what happens to a longer
            one is `on_oversize`'s choice.
        on_oversize: "reject" (default: a longer article raises `InputError`) or "truncate" (it is
            cut to its first `max_chars` characters at a word boundary, and the report says so in
            `truncation` and `notes`).
        max_sentence_chars: longest sentence, in characters (default 2,000); a longer one (an
            unpunctuated wall of text, a 100,000-character "word") is always cut at a word boundary
            before scoring and alignment, and the report counts it in `truncation`.
        check_language: report non-English articles as unsupported instead of scoring them as if
            they were English (`detector.language`); on by default.
        model_note: said in every report (for example why no classifier was loaded).
    """

    def __init__(
        self,
        *,
        encoder: SentenceEncoder,
        synonyms,
        scorer=None,
        batch_size: int = 64,
        articles_per_batch: int = 32,
        candidates: int = 5,
        rerank: int = 3,
        max_chars: int = DEFAULT_MAX_CHARS,
        on_oversize: str = "reject",
        max_sentence_chars: int = DEFAULT_MAX_SENTENCE_CHARS,
        check_language: bool = True,
        model_note: str | None = None,
        decisions: DecisionModel | None = None,
        related_min_score: float = 0.0,
    ):
        _check_limits(max_chars, max_sentence_chars, on_oversize)
        self.encoder = encoder
        self.synonyms = synonyms
        self.scorer = scorer
        self.batch_size = batch_size
        self.articles_per_batch = articles_per_batch
        self.candidates = candidates
        self.rerank = rerank
        self.max_chars = max_chars
        self.on_oversize = on_oversize
        self.max_sentence_chars = max_sentence_chars
        self.check_language = check_language
        self.related_min_score = related_min_score
        self.decisions = decisions if decisions is not None else DecisionModel.load()
        self.model_note = model_note if model_note is not None else (NO_CLASSIFIER_NOTE if scorer is None else None)

    def __repr__(self) -> str:
        classifier = "none" if self.scorer is None else f"threshold={self.scorer.threshold:.3f}"
        return f"Detector(encoder={self.encoder!r}, classifier={classifier}, candidates={self.candidates})"

    @classmethod
    def load(
        cls, path: str | os.PathLike | None = None, *, precision: str = "fp32", quantize: bool = False, **options
    ) -> Detector:
        """The shipped detector: the model folder that `model_folder` finds (`path`, $SPIN_DETECTOR_MODEL
        or the checkout's models/spin-classifier).

        When no path is named and the checkout's folder holds no trained classifier yet, the detector
        loads without one and every report says so; a named folder that is missing or broken raises
        `ModelFormatError`, and so does an installed package given no folder. ``precision`` runs the
        classifier and the sentence encoder in ``fp32``, ``bf16`` (fast on CPUs with AMX), ``int8``
        (any CPU; the classifier then uses its int8 calibration when the model folder has one) or
        ``fast`` (bf16 with AMX, else int8; see `detector.precision`); speeds and agreement with
        fp32 are measured in benchmarks/README.md. ``quantize=True`` is a deprecated spelling of
        ``precision="int8"``. `options` go to the constructor.
        """
        from detector.classifier import SpinScorer
        from detector.precision import resolve_precision
        from detector.thesaurus import SynonymTable

        if quantize:
            warnings.warn('Detector.load(quantize=True) is deprecated: use precision="int8"', DeprecationWarning, stacklevel=2)
            if precision not in ("fp32", "int8"):
                raise InputError(f"quantize=True asks for int8 but precision={precision!r}: give one of them")
        precision = resolve_precision("int8" if quantize else precision)
        named = _named_model(path)
        folder = model_folder(path)
        scorer, note = None, None
        if named is not None or (folder / "config.json").is_file():
            if not folder.is_dir():
                raise ModelFormatError(f"model folder {str(folder)!r} does not exist: give a trained classifier folder")
            scorer = SpinScorer.load(folder, precision=precision)
        else:
            note = f"{NO_CLASSIFIER_NOTE} (none found at {folder})"
        if "decisions" not in options:
            options["decisions"] = DecisionModel.load(folder if (folder / DECISIONS_FILE).is_file() else None)
        encoder = SentenceEncoder.load().with_precision(precision)
        return cls(encoder=encoder, synonyms=SynonymTable.load(), scorer=scorer, model_note=note, **options)

    def score_sentences(self, sentences: Sequence[str]) -> list[SentenceScore]:
        """The classifier's spun probability for each sentence, with word scores; no source needed."""
        sentences = _checked_list(sentences, "sentences")
        scorer = self._require_scorer()
        predictions = scorer.predict(sentences, batch_size=self.batch_size) if sentences else []
        return [
            SentenceScore(
                text, float(p), bool(p >= scorer.threshold), [(w, float(s)) for w, s in words],
                [w for w, s in words if s >= scorer.word_threshold],
            )
            for text, (p, words) in zip(sentences, predictions)
        ]

    def with_verdict_rules(self, **changes: float) -> Detector:
        """A detector sharing this one's classifier, encoder and settings whose verdict rules differ in
        ``changes`` (`DecisionModel.with_verdict_rules`: its reports record a version naming them)."""
        changed = copy.copy(self)
        changed.decisions = self.decisions.with_verdict_rules(**changes)
        return changed

    def compare(self, source_sentence: str, suspect_sentence: str) -> PairResult:
        """The relation of one suspect sentence to one source sentence, with its substitutions.

        Sentences longer than `max_sentence_chars` are compared on their first `max_sentence_chars`
        characters (cut at a word boundary).
        """
        for name, value in (("source_sentence", source_sentence), ("suspect_sentence", suspect_sentence)):
            _check_text(value, name)
        source, suspect = (shorten_text(text.strip(), self.max_sentence_chars)[0] for text in (source_sentence, suspect_sentence))
        embeddings = self.encoder.encode([source, suspect], batch_size=self.batch_size)
        alignment = align_sentences([suspect], embeddings[1:], [source], embeddings[:1], min_similarity=0.0)
        similarity = alignment[0].similarity if alignment else float(np.dot(embeddings[0], embeddings[1]))
        probability, word_scores = self.scorer.predict([suspect])[0] if self.scorer is not None and suspect else (None, None)
        return self._compare(source, suspect, min(1.0, max(0.0, similarity)), probability, word_scores)

    def _compare(self, source: str, suspect: str, similarity: float, probability, word_scores) -> PairResult:
        return compare_pair(
            source, suspect, similarity, self.synonyms, spun_probability=probability,
            word_scores=word_scores if probability is not None else None,
            word_threshold=self.scorer.word_threshold if self.scorer is not None else 0.5, decisions=self.decisions,
        )

    def analyze(
        self, text: str, index=None, exclude_ids: Iterable[str] = (), *, exclude_quotations: bool = False
    ) -> ArticleReport:
        """Analyse one article against `index` (a `SourceIndex`), or by the classifier alone
        (`exclude_quotations` as in `analyze_many`)."""
        self._check_article(text, "text")
        return next(self.analyze_many([text], index=index, exclude_ids=exclude_ids, exclude_quotations=exclude_quotations))

    def analyze_many(
        self,
        texts: Iterable[str],
        index=None,
        batch_size: int | None = None,
        exclude_ids: Iterable[str] | Sequence[Iterable[str]] = (),
        *,
        articles_per_batch: int | None = None,
        exclude_quotations: bool = False,
    ) -> Iterator[ArticleReport]:
        """Reports for many articles, in input order, scored `articles_per_batch` articles at a time
        (default: the detector's own).

        `exclude_ids` is either one collection of source ids left out for every article, or one
        collection per article (a list of lists, aligned with `texts`). ``batch_size`` is a
        deprecated spelling of ``articles_per_batch`` (the constructor's ``batch_size`` counts sentences).
        With ``exclude_quotations``, a sentence whose words are mostly inside quotation marks
        (`detector.text.quoted_sentences`) is left out of the verdict and the spin score, as boilerplate
        is, and marked ``is_quotation``: every outlet reporting a story carries the same quotations.
        Off by default: shared quotations then count as shared text.
        """
        if not isinstance(exclude_quotations, bool):
            raise InputError(f"exclude_quotations={exclude_quotations!r} must be True or False")
        per_article = _per_article_exclusions(exclude_ids)
        index = _checked_index(index)
        if batch_size is not None:
            warnings.warn(
                "analyze_many(batch_size=...) is deprecated: use articles_per_batch=... (batch_size counts sentences "
                "in Detector(...))", DeprecationWarning, stacklevel=2,
            )
            if articles_per_batch is not None and articles_per_batch != batch_size:
                raise InputError(f"batch_size={batch_size} and articles_per_batch={articles_per_batch} differ: give one of them")
        size = articles_per_batch or batch_size or self.articles_per_batch
        if size < 1:
            raise InputError(f"articles_per_batch={size} must be a positive integer")
        batch: list[tuple[int, str]] = []
        for position, text in enumerate(_checked_iterable(texts)):
            batch.append((position, text))
            if len(batch) == size:
                yield from self._analyze_batch(batch, index, per_article, exclude_quotations)
                batch = []
        if batch:
            yield from self._analyze_batch(batch, index, per_article, exclude_quotations)

    def _require_scorer(self):
        if self.scorer is None:
            raise ModelFormatError(
                f"no trained classifier is loaded (looked in {DEFAULT_MODEL_PATH}): train one with training/train.py, "
                f"or name a model folder with Detector.load(path) or ${MODEL_ENV}"
            )
        return self.scorer

    def _analyze_batch(self, batch, index, exclusions, exclude_quotations: bool) -> Iterator[ArticleReport]:
        articles, sentences = [], []
        for position, text in batch:
            self._check_article(text, f"text {position}")
            article = self._prepare(text, len(sentences), exclude_quotations)
            articles.append(article)
            if article.scored:
                sentences += [segment.text for segment in article.segments]
        unique = list(dict.fromkeys(sentences))  # boilerplate and shared wire sentences repeat across a batch
        row_of = {sentence: row for row, sentence in enumerate(unique)}
        rows = [row_of[sentence] for sentence in sentences]
        predictions = self._predict(unique)
        predictions = [predictions[row] for row in rows] if predictions is not None else None
        embeddings = self._embed(unique, index)[rows] if index is not None and unique else None
        for (position, _), article in zip(batch, articles):
            yield self._report(article, predictions, embeddings, index, exclusions(position))

    def _embed(self, sentences: list[str], index) -> np.ndarray:
        """Sentence vectors: the index's stored vector for a sentence it holds verbatim, else the encoder's."""
        found, stored = index.stored_vectors(sentences)
        vectors = np.empty((len(sentences), self.encoder.dim), dtype=np.float32)
        vectors[found] = stored
        missing = np.setdiff1d(np.arange(len(sentences)), found)
        if len(missing):
            vectors[missing] = self.encoder.encode([sentences[i] for i in missing], batch_size=self.batch_size)
        return vectors

    def _check_article(self, text, name: str) -> None:
        _check_text(text, name, self.max_chars if self.on_oversize == "reject" else None)

    def _prepare(self, text: str, first_row: int, exclude_quotations: bool = False) -> _Article:
        """Cut to the limits, normalise, segment and check the language of one article; with
        `exclude_quotations`, mark its quoted sentences."""
        truncation = {}
        if len(text) > self.max_chars:
            text, dropped = shorten_text(text, self.max_chars)
            truncation["article_chars_dropped"] = dropped
        normalised, findings = normalise_with_findings(text)
        segments, shortened = [], 0
        for segment in split_sentences(normalised):
            if not segment.text.strip():
                continue
            if len(segment.text) > self.max_sentence_chars:
                cut = shorten_text(segment.text, self.max_sentence_chars)[0]
                segment, shortened = dataclasses.replace(segment, text=cut, end=segment.start + len(cut)), shortened + 1
            segments.append(segment)
        if shortened:
            truncation["sentences_shortened"] = shortened
        language = _language_of(segments) if self.check_language and segments else None
        quotations = quoted_sentences(normalised, segments) if exclude_quotations else []
        return _Article(segments, _evasion_counts(findings), first_row, language, truncation, quotations)

    def _predict(self, sentences: list[str]) -> list[tuple[float, list[tuple[str, float]]]] | None:
        if self.scorer is None or not sentences:
            return None
        return [(float(p), [(w, float(s)) for w, s in words]) for p, words in self.scorer.predict(sentences, batch_size=self.batch_size)]

    def _report(self, article: _Article, predictions, embeddings, index, exclude_ids) -> ArticleReport:
        unscored = [(None, []) for _ in article.segments]
        scores = [predictions[row] for row in article.rows] if predictions and article.scored else unscored
        quotations = article.quotations or [False] * len(article.segments)
        findings = [
            SentenceFinding(
                text=segment.text,
                spun_probability=probability,
                relation=UNMATCHED,
                word_scores=word_scores,
                is_boilerplate=segment.is_boilerplate,
                is_quotation=quoted and not segment.is_boilerplate,
            )
            for segment, (probability, word_scores), quoted in zip(article.segments, scores, quotations)
        ]
        report = ArticleReport(
            verdict="original", spin_score=0.0, sentences=findings, source_given=index is not None,
            classifier_used=self.scorer is not None and article.scored, notes=self._notes(article),
            evasion=article.evasion, truncation=article.truncation, decision_version=self.decisions.version,
            language=article.language.code if article.language else None,
        )
        if not findings:
            report.notes.insert(0, EMPTY_NOTE)
            return report
        quoted = sum(finding.is_quotation for finding in findings)
        if quoted:
            report.notes.append(QUOTATIONS_NOTE.format(count=quoted))
        if not article.scored:
            report.relation_counts = count_relations(report.sentences)
            return report
        if index is None or not len(index):
            self._judge_alone(report, index)
        else:
            self._judge_against_source(report, embeddings[article.first_row : article.rows.stop], index, exclude_ids)
        report.relation_counts = count_relations(report.sentences)
        report.spin_score = spin_score(report.sentences, verdict=report.verdict)
        return report

    def _notes(self, article: _Article) -> list[str]:
        """What every report of this article says: the model, its language, limits applied, evasion found."""
        notes = [self.model_note] if self.model_note else []
        if not article.scored:
            language = article.language
            notes.insert(0, (
                f"unsupported language: the text reads as {language.name} ({language.code}), not English; "
                "spin-detector reads English only, so nothing was scored and the verdict means 'not judged'"
            ))
        if "article_chars_dropped" in article.truncation:
            notes.append(article_cut_note(self.max_chars, article.truncation["article_chars_dropped"]))
        if "sentences_shortened" in article.truncation:
            notes.append(
                f"{article.truncation['sentences_shortened']} sentence(s) over {self.max_sentence_chars:,} characters "
                "cut to that length before scoring"
            )
        hidden = {kind: article.evasion.get(kind, 0) for kind in EVASION_KINDS}
        if any(hidden.values()):
            counts = ", ".join(f"{kind.replace('_', '-')} {count}" for kind, count in hidden.items() if count)
            notes.append(
                f"evasion: hidden characters removed before scoring ({counts}), a trick to slip past duplicate checks"
            )
        return notes

    def _judge_alone(self, report: ArticleReport, index=None) -> None:
        if index is not None:
            report.notes.append(EMPTY_INDEX_NOTE)
        report.notes.append(NO_SOURCE_NOTE if self.scorer is not None else NOTHING_NOTE)
        if self.scorer is not None:
            threshold, word_threshold = self.scorer.threshold, self.scorer.word_threshold
            report.notes.append(THRESHOLD_NOTE.format(threshold=threshold, word_threshold=word_threshold))
            for finding in report.sentences:
                if finding.spun_probability >= threshold:
                    finding.relation = "spun"
                    finding.evidence = SpinEvidence(
                        flagged_words=[(word, score) for word, score in finding.word_scores if score >= word_threshold],
                        sentence_probability=finding.spun_probability,
                        relation_probability=finding.spun_probability,
                    )
        report.verdict = decide_verdict(report.sentences, source_given=False, has_candidate=False, rules=self.decisions.verdict)

    def _judge_against_source(self, report: ArticleReport, embeddings: np.ndarray, index, exclude_ids) -> None:
        content = [row for row, finding in enumerate(report.sentences) if not finding.left_out]
        if not content:
            quoted = " or quoted speech" if any(finding.is_quotation for finding in report.sentences) else ""
            report.notes.append(f"every sentence is boilerplate{quoted}: nothing to compare")
            return
        texts = [report.sentences[row].text for row in content]
        vectors = embeddings[content]
        report.candidates = [(doc_id, float(score)) for doc_id, score in index.search(texts, vectors, k=self.candidates, exclude_ids=exclude_ids)]
        aligned = self._aligned_candidates(texts, vectors, report.candidates, index)
        if aligned:
            self._record_pairs(report, content, aligned, index)
        rules = self.decisions.verdict
        verdicts = {close: decide_verdict(report.sentences, source_given=True, has_candidate=close, rules=rules) for close in (True, False)}
        report.verdict = verdicts[True]
        if verdicts[True] != verdicts[False]:  # only then does it matter whether a candidate tells the same story
            told = [row for row, finding in enumerate(report.sentences) if not finding.is_boilerplate]  # quotations too
            story_texts = [report.sentences[row].text for row in told]
            report.verdict = verdicts[self._same_story(report, story_texts, embeddings[told], index, exclude_ids)]

    def _same_story(self, report: ArticleReport, texts: list[str], vectors: np.ndarray, index, exclude_ids) -> bool:
        """Whether a source tells the same story as the article (`detector.story`): it is on the
        article's topic (``min_story_similarity``), shares the event's words
        (``min_story_word_similarity``, `detector.story.word_cosine`) and at least
        ``min_story_names`` rare names (not common words in a title: `mark_name_test`), telling
        figures or quotations with it. The retrieved candidates are tried, and the sources that share
        the most rare names with the article; of those passing both similarities, the one with the
        most marks goes in ``report.story``."""
        rules = self.decisions.verdict
        profile = StoryProfile.of(texts)
        rare = self._mark_test(index)
        named = index.sources_naming([n for n in profile.names if rare(n)], rules.min_story_names, exclude_ids)
        partners = dict.fromkeys([doc_id for doc_id, _ in report.candidates] + [doc_id for doc_id, _ in named[:STORY_PARTNERS]])
        topic = _unit(vectors.mean(axis=0))
        words = profile.word_weights(index.word_frequency, len(index))  # once; each candidate is compared with it
        best = None
        for doc_id in partners:
            source = index.source(doc_id)
            content = [i for i, segment in enumerate(source.segments) if not segment.is_boilerplate]
            similarity = float(topic @ _unit(source.embeddings[content].mean(axis=0))) if content else 0.0
            if similarity < rules.min_story_similarity:  # another topic: whatever it shares is chance
                continue
            told = StoryProfile.of([source.segments[i].text for i in content])
            told_words = told.word_weights(index.word_frequency, len(index))
            word_similarity = word_cosine(words, told_words)
            if word_similarity < rules.min_story_word_similarity:
                continue  # the same beat, not the same event
            marks = profile.shared(told, rare)
            if best is None or marks.count > best[1].count:
                best = doc_id, marks, similarity, word_similarity, shared_words(words, told_words, STORY_WORDS)
        if best is None:
            return False
        doc_id, marks, similarity, word_similarity, event_words = best
        report.story = {
            "source_id": doc_id, "names": list(marks.names), "numbers": list(marks.numbers),
            "quotations": marks.quotations, "topic_similarity": round(similarity, 4),
            "word_similarity": round(word_similarity, 4), "words": event_words,
        }
        best_score = report.candidates[0][1] if report.candidates else 0.0
        return marks.count >= rules.min_story_names and best_score >= self.related_min_score

    def _mark_test(self, index) -> Callable[[str], bool]:
        """Which names count as same-story marks against ``index`` under the verdict rules (`mark_name_test`)."""
        rules = self.decisions.verdict
        return mark_name_test(index, rules.max_story_name_share, rules.min_common_word_sources, rules.min_common_word_share)

    def _aligned_candidates(self, texts, vectors, candidates, index) -> list[tuple[str, list[str], list]]:
        """(source id, its content sentences, alignments) of the reranked candidates that align at
        all, the one with the largest summed alignment similarity first."""
        aligned = []
        for doc_id, _ in candidates[: self.rerank]:
            source = index.source(doc_id)
            keep = [i for i, segment in enumerate(source.segments) if not segment.is_boilerplate]
            source_texts = [source.segments[i].text for i in keep]
            alignments = align_sentences(texts, vectors, source_texts, source.embeddings[keep]) if keep else []
            if alignments:
                aligned.append((doc_id, source_texts, alignments))
            if sum(a.similarity for a in alignments) >= len(texts):  # every sentence matched verbatim
                break
        return sorted(aligned, key=lambda item: -sum(a.similarity for a in item[2]))

    def _record_pairs(self, report: ArticleReport, content: list[int], aligned, index) -> None:
        """Pair relations against the main source, and against every other source that contributes
        at least two copied or spun sentences it aligns clearly better than the main source does (a
        near-duplicate of the main source takes none: 003 and 004 both carry the wire's sentences)."""
        pairs: dict[tuple[int, int], tuple[str, PairResult]] = {}

        def pair(rank: int, alignment) -> tuple[str, PairResult]:
            """The (shortened) source sentence and the pair's relation, computed once per source and sentence."""
            key = (rank, alignment.suspect_index)
            if key not in pairs:
                finding = report.sentences[content[alignment.suspect_index]]
                source_sentence = shorten_text(aligned[rank][1][alignment.source_index], self.max_sentence_chars)[0]
                pairs[key] = source_sentence, self._compare(
                    source_sentence, finding.text, alignment.similarity, finding.spun_probability, finding.word_scores
                )
            return pairs[key]

        chosen = {a.suspect_index: (0, a) for a in aligned[0][2]}
        for rank, (_, _, alignments) in enumerate(aligned[1:], 1):
            better = [
                a for a in alignments
                if a.suspect_index not in chosen or a.similarity > chosen[a.suspect_index][1].similarity + SECOND_SOURCE_MARGIN
            ]
            reused = [a for a in better if pair(rank, a)[1].relation in ("copy", "spun")]
            if len(reused) >= self.decisions.verdict.min_reused_sentences:
                chosen.update({a.suspect_index: (rank, a) for a in reused})
        for rank, alignment in chosen.values():
            source_sentence, result = pair(rank, alignment)
            finding = report.sentences[content[alignment.suspect_index]]
            finding.relation, finding.similarity = result.relation, float(result.similarity)
            finding.source_id, finding.source_position = aligned[rank][0], alignment.source_index
            finding.source_sentence = source_sentence
            finding.substitutions = [tuple(words) for words in result.substitutions]
            finding.thesaurus_substitutions = result.thesaurus_substitutions
            finding.spin_strength = float(result.spin_strength)
            finding.evidence = result.evidence
        findings = [report.sentences[row] for row in content]
        self._drop_template(report, findings, aligned[0][0])
        self._drop_other_story(report, findings, aligned[0][0], aligned[0][1], index)
        matched = [report.sentences[row] for row in content if report.sentences[row].relation in ("copy", "spun", "paraphrase")]
        report.coverage = len(matched) / len(content)
        report.source_similarity = float(np.mean([f.similarity for f in matched])) if matched else 0.0
        for doc_id, _, _ in aligned:
            own = [f for f in matched if f.source_id == doc_id]
            if own:
                report.sources.append(SourceContribution(
                    doc_id, len(own) / len(content), count_relations(own), float(np.mean([f.similarity for f in own]))
                ))
        report.source_id = report.sources[0].id if report.sources else aligned[0][0]

    def _drop_template(self, report: ArticleReport, findings: list[SentenceFinding], source_id: str) -> None:
        """Paraphrase pairs with the main source that give other figures are another issue of one
        template, as two companies' earnings tables are, not a paraphrase: they become unrelated, and a
        note says so. Either the pairs giving figures share few of them, pooled (`detector.story.figure_overlap`
        under ``max_template_figure_overlap``, over at least ``min_template_pairs`` pairs), or at least
        ``min_template_lines`` pairs, and half those giving figures, keep the source's wording with other
        figures (`detector.story.template_lines`), as a two-line bond issue or money-market report does."""
        rules = self.decisions.verdict
        if not rules.min_template_pairs and not rules.min_template_lines:
            return
        paraphrases = [f for f in findings if f.relation == "paraphrase" and f.source_id == source_id]
        pairs = [(f.source_sentence, f.text) for f in paraphrases]
        given, overlap = figure_overlap(pairs)
        pooled = 0 < rules.min_template_pairs <= given and overlap < rules.max_template_figure_overlap
        lines = 0
        if rules.min_template_lines:
            lines = template_lines(pairs, rules.max_template_figure_overlap, rules.min_template_wording)
        by_lines = 0 < rules.min_template_lines <= lines and 2 * lines >= given
        if not (pooled or by_lines):
            return
        for finding in paraphrases:
            finding.relation = "unrelated"
        said = TEMPLATE_LINES_NOTE.format(lines=lines) if by_lines else ""
        report.notes.append(TEMPLATE_NOTE.format(count=len(paraphrases), source=source_id, overlap=overlap, lines=said))

    def _drop_other_story(self, report: ArticleReport, findings: list[SentenceFinding], source_id: str,
                          source_texts: list[str], index) -> None:
        """Paraphrase pairs with a main source that tells another event are another report in the same
        sentence frames, as two companies' share issues are, not a paraphrase: a paraphrase retells its
        source's event. The article (quotations included, as `_same_story` reads it) and the source share
        few of one event's words (`detector.story.word_cosine` under ``min_paraphrase_word_similarity``)
        and fewer than ``min_story_names`` rare names, figures or quotations, which a rewrite of part of
        a long source keeps. The pairs become unrelated, and a note says so."""
        rules = self.decisions.verdict
        paraphrases = [f for f in findings if f.relation == "paraphrase" and f.source_id == source_id]
        if not rules.min_paraphrase_word_similarity or not paraphrases:
            return
        told = StoryProfile.of([f.text for f in report.sentences if not f.is_boilerplate])
        source = StoryProfile.of(source_texts)
        weights = [profile.word_weights(index.word_frequency, len(index)) for profile in (told, source)]
        if not all(weights):  # no content words on one side: nothing to tell the event by
            return
        similarity = word_cosine(*weights)
        if similarity >= rules.min_paraphrase_word_similarity:
            return
        rare = self._mark_test(index)
        marks = told.shared(source, rare).count
        if marks >= rules.min_story_names:
            return
        for finding in paraphrases:
            finding.relation = "unrelated"
        report.notes.append(OTHER_STORY_NOTE.format(count=len(paraphrases), source=source_id, similarity=similarity,
                                                    floor=rules.min_paraphrase_word_similarity, marks=marks))


def model_folder(path: str | os.PathLike | None = None) -> Path:
    """The model folder `Detector.load` reads: ``path``, else $SPIN_DETECTOR_MODEL, else the checkout's
    models/spin-classifier (beside the package: an editable install or a run from the checkout).

    An installed package ships no model: given no folder, it raises `ModelFormatError` saying how
    to get one, so that it never scores without a classifier unawares.
    """
    named = _named_model(path)
    if named is not None:
        return Path(named)
    if not DEFAULT_MODEL_PATH.is_dir():
        raise ModelFormatError(NO_MODEL_MESSAGE.format(default=DEFAULT_MODEL_PATH, env=MODEL_ENV))
    return DEFAULT_MODEL_PATH


def _named_model(path: str | os.PathLike | None) -> str | os.PathLike | None:
    """The folder the caller named: ``path``, else $SPIN_DETECTOR_MODEL (None when neither is set)."""
    return path if path is not None else os.environ.get(MODEL_ENV) or None


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _evasion_counts(findings: TextFindings) -> dict[str, int]:
    """Hidden-character counts from `normalise_with_findings`, as a plain {name: count} dict."""
    return {name: int(count) for name, count in asdict(findings).items()}


def _language_of(segments: list[Segment]) -> LanguageGuess:
    """The language of an article, read from its first content sentences (about `SAMPLE_CHARS`)."""
    sample, size = [], 0
    for segment in segments:
        if segment.is_boilerplate:
            continue
        sample.append(segment.text)
        size += len(segment.text) + 1
        if size >= SAMPLE_CHARS:
            break
    return detect_language("\n".join(sample) if sample else "\n".join(s.text for s in segments[:50]))


def article_cut_note(max_chars: int, dropped: int) -> str:
    """What a report says of an article cut to its first ``max_chars`` characters."""
    return f"article cut to its first {max_chars:,} characters ({dropped:,} left out): raise Detector(max_chars=...) to read it whole"


def _check_limits(max_chars, max_sentence_chars, on_oversize) -> None:
    for name, value in (("max_chars", max_chars), ("max_sentence_chars", max_sentence_chars)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"{name}={value!r} must be a positive whole number of characters")
    if on_oversize not in OVERSIZE_POLICIES:
        raise InputError(f"on_oversize={on_oversize!r} is unknown: use one of {', '.join(OVERSIZE_POLICIES)}")


def _check_text(text, name: str, max_chars: int | None = None) -> None:
    if not isinstance(text, str):
        raise InputError(f"{name} is {type(text).__name__}, not str: decode bytes as UTF-8 text first")
    if max_chars is not None and len(text) > max_chars:
        raise InputError(
            f"{name} has {len(text):,} characters, over the limit of {max_chars:,}: "
            "split it into articles, raise Detector(max_chars=...), or pass Detector(on_oversize='truncate') to read its start"
        )


def _checked_list(values, name: str) -> list[str]:
    if isinstance(values, str):
        raise InputError(f"{name} must be a list of strings, not one string: wrap it as [text]")
    values = list(_checked_iterable(values))
    for position, value in enumerate(values):
        _check_text(value, f"{name}[{position}]")
    return values


def _checked_iterable(values):
    if isinstance(values, (str, bytes)):
        raise InputError(f"expected a list of texts, got one {type(values).__name__}: wrap it as [text]")
    try:
        return iter(values)
    except TypeError:
        raise InputError(f"expected a list of texts, got {type(values).__name__}") from None


def _per_article_exclusions(exclude_ids):
    """A function from article position to the ids it must not be matched against."""
    if isinstance(exclude_ids, str):
        raise InputError(f"exclude_ids={exclude_ids!r} is one string: give a collection of ids, e.g. [{exclude_ids!r}]")
    if not hasattr(exclude_ids, "__iter__"):
        raise InputError(f"exclude_ids is a {type(exclude_ids).__name__}: give a collection of source ids")
    exclude_ids = list(exclude_ids)
    if exclude_ids and all(isinstance(item, (list, tuple, set, frozenset)) for item in exclude_ids):
        lists = [tuple(_checked_id(i) for i in item) for item in exclude_ids]
        return lambda position: lists[position] if position < len(lists) else ()
    ids = tuple(_checked_id(item) for item in exclude_ids)
    return lambda position: ids


def _checked_id(item) -> str:
    if not isinstance(item, (str, int)) or isinstance(item, bool):
        raise InputError(
            f"exclude_ids holds {item!r} ({type(item).__name__}): give source ids as strings, "
            "or one list of ids per article"
        )
    return str(item)


def _checked_index(index):
    """``index`` when it is a `SourceIndex` (or None); a path or anything else is refused."""
    if index is None or (hasattr(index, "search") and hasattr(index, "source")):
        return index
    if isinstance(index, (str, os.PathLike)):
        raise InputError(f"index={str(index)!r} is a path: load the folder first, index=SourceIndex.load({str(index)!r})")
    raise InputError(f"index is a {type(index).__name__}, not a SourceIndex: build one with SourceIndex.build(documents)")
