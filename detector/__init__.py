"""spin-detector: finds spun content and machine paraphrase.

Example:
    >>> from detector import Detector, SourceIndex, Document
    >>> Document(id="a", text="Some text.").id
    'a'
"""

from detector.api import Detector
from detector.index import Document, SourceIndex
from detector.relation import PairResult
from detector.report import ArticleReport, SentenceFinding, SentenceScore

__all__ = [
    "ArticleReport",
    "Detector",
    "Document",
    "PairResult",
    "SentenceFinding",
    "SentenceScore",
    "SourceIndex",
]
__version__ = "0.1.0"
