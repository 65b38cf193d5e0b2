"""Scoring: the detector a worker loads, and the scorer that turns a unit of work items into rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from detector.batch.options import BatchOptions
from detector.batch.plan import BadRecord, WorkItem
from detector.schema import SCHEMA_VERSION

__all__ = ["ArticleScorer", "DetectorLoader", "UnitResult", "is_detector_factory", "result_row"]


def result_row(doc_id: str, report, details: bool = False) -> dict:
    """One output row for an `ArticleReport`; with `details`, the full report (`to_dict()`) nested in "report"."""
    content = [s for s in report.sentences if not getattr(s, "is_boilerplate", False) and not getattr(s, "is_quotation", False)]
    counts = Counter(s.relation for s in content)
    row = {
        "id": doc_id,
        "verdict": report.verdict,
        "spin_score": float(report.spin_score),
        "source_id": report.source_id,
        "source_similarity": float(report.source_similarity),
        "coverage": float(report.coverage),
        "sentences": sum(counts.values()),
        "spun_sentences": counts["spun"],
        "copied_sentences": counts["copy"],
        "paraphrased_sentences": counts["paraphrase"],
    }
    if details:
        report.article_id = doc_id
        row["report"] = report.to_dict()
    row["schema_version"] = SCHEMA_VERSION  # of the row and its report: docs/REPORT_SCHEMA.md
    return row


class UnitResult(NamedTuple):
    """The rows and bad records of one scored unit of articles."""

    rows: list[dict]
    errors: list[BadRecord]


class ArticleScorer:
    """Scores units of work items with one detector and index; a failing article becomes a BadRecord."""

    def __init__(self, detector, index, options: BatchOptions):
        self.detector = detector
        self.index = index
        self.options = options

    def score(self, items: list[WorkItem]) -> UnitResult:
        """Rows for `items` in order, batched across articles; on failure, articles one at a time."""
        try:
            reports = self._analyze(items)
        except Exception:
            return self._score_one_by_one(items)
        return UnitResult([result_row(i.id, r, self.options.details) for i, r in zip(items, reports, strict=True)], [])

    def _analyze(self, items: list[WorkItem]) -> list:
        exclusions = [(item.id,) for item in items] if self.options.exclude_self else ()
        reports = list(self.detector.analyze_many([item.text for item in items], index=self.index, exclude_ids=exclusions,
                                                  exclude_quotations=self.options.exclude_quotations))
        if len(reports) != len(items):
            raise RuntimeError(f"the detector returned {len(reports)} reports for {len(items)} articles")
        return reports

    def _score_one_by_one(self, items: list[WorkItem]) -> UnitResult:
        result = UnitResult([], [])
        for item in items:
            try:
                result.rows.append(result_row(item.id, self._analyze([item])[0], self.options.details))
            except Exception as exc:
                reason = f"the detector failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
                result.errors.append(BadRecord(item.position, item.id, "score", reason))
        return result


@dataclass(frozen=True)
class DetectorLoader:
    """Loads the detector in a worker process or Ray actor: `Detector.load(model, precision=...)` (picklable)."""

    model: str | None = None
    precision: str = "int8"

    def __call__(self):
        from detector.api import Detector  # deferred: torch and the model stack load in the worker, not at import

        return Detector.load(self.model, precision=self.precision)


def is_detector_factory(thing) -> bool:
    """True for a callable that builds a detector (a function, a partial), False for a loaded detector."""
    return callable(thing) and not hasattr(thing, "analyze_many")
