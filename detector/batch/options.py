"""What a batch job is asked for (`BatchOptions`, recorded in its manifest) and what it reports (`BatchSummary`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from detector.errors import InputError

__all__ = ["BatchOptions", "BatchSummary", "DEFAULT_MAX_CHARS", "OUTPUT_FORMATS", "RESULT_COLUMNS", "resolve_format"]

OUTPUT_FORMATS = ("jsonl", "parquet")
DEFAULT_MAX_CHARS = 200_000  # the detector's own limit (`detector.api.DEFAULT_MAX_CHARS`)
RESULT_COLUMNS = (
    "id",
    "verdict",
    "spin_score",
    "source_id",
    "source_similarity",
    "coverage",
    "sentences",
    "spun_sentences",
    "copied_sentences",
    "paraphrased_sentences",
)
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class BatchOptions:
    """The options that shape the output, recorded in the manifest: a rerun must repeat them."""

    id_field: str = "id"
    text_field: str = "text"
    output_format: str = "jsonl"
    details: bool = False
    max_chars: int = DEFAULT_MAX_CHARS
    exclude_self: bool = True
    precision: str = "int8"  # of the classifier and encoder (`Detector.load(precision=...)`), resolved: no "fast"
    batch_size: int = 32  # articles scored together: at int8 it can move a verdict (activations are scaled per batch)
    exclude_quotations: bool = False  # quoted speech left out of verdict and spin score (`Detector.analyze_many`)

    def __post_init__(self):
        if self.output_format not in OUTPUT_FORMATS:
            raise InputError(f"output format {self.output_format!r} is not one of {list(OUTPUT_FORMATS)}")
        if self.max_chars < 1:
            raise InputError(f"max_chars={self.max_chars} must be a positive number of characters")
        if not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise InputError(f"batch_size={self.batch_size!r} must be a positive number of articles")
        if not isinstance(self.exclude_quotations, bool):
            raise InputError(f"exclude_quotations={self.exclude_quotations!r} must be True or False")


@dataclass
class BatchSummary:
    """What a batch run did; counts are over the whole output folder unless said otherwise.

    `articles`: result rows in the output; `scored`: rows this run added; `resumed`: rows and errors
    an earlier run had committed; `errors`: bad records in the errors chunks, of which `duplicates`
    are repeated ids; `verdicts`: result rows per verdict; `articles_per_second`: this run's rate.
    """

    output: str
    engine: str
    workers: int
    articles: int = 0
    scored: int = 0
    resumed: int = 0
    errors: int = 0
    duplicates: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    wall_seconds: float = 0.0
    articles_per_second: float = 0.0

    def to_dict(self) -> dict:
        """Plain JSON-ready data."""
        return asdict(self)


def resolve_format(output: str | Path, output_format: str | None) -> str:
    """The output format: as given, else from the output folder's suffix, else JSON lines."""
    if output_format is not None:
        if output_format not in OUTPUT_FORMATS:
            raise InputError(f"output format {output_format!r} is not one of {list(OUTPUT_FORMATS)}")
        return output_format
    return _SUFFIX_FORMATS.get(Path(output).suffix.lower(), "jsonl")
