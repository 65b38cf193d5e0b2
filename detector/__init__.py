"""spin-detector: finds spun content and machine paraphrase.

The public names are imported lazily, so that ``import detector.classifier`` (used by training on a
machine without FAISS) does not pull in the retrieval stack.

Example:
    >>> from detector import Document
    >>> Document(id="a", text="Some text.").id
    'a'
"""

import importlib

__all__ = [
    "ArticleReport",
    "DecisionModel",
    "Detector",
    "Document",
    "PairResult",
    "SentenceFinding",
    "SentenceScore",
    "SourceContribution",
    "SourceIndex",
    "SpinEvidence",
]
__version__ = "0.1.0"

_HOME = {
    "ArticleReport": "detector.report",
    "DecisionModel": "detector.decision",
    "Detector": "detector.api",
    "Document": "detector.documents",
    "PairResult": "detector.relation",
    "SentenceFinding": "detector.report",
    "SentenceScore": "detector.report",
    "SourceContribution": "detector.report",
    "SourceIndex": "detector.index",
    "SpinEvidence": "detector.relation",
}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'detector' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
