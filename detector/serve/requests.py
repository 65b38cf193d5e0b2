"""The request bodies of the /v1 routes: strict types (a number is no text) and no unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

__all__ = ["ScoreRequest", "CompareRequest", "AnalyzeRequest", "BatchRequest", "SourceRequest"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreRequest(_Body):
    """Sentences to score with the classifier alone."""

    sentences: list[StrictStr] = Field(description="One sentence per item.")


class CompareRequest(_Body):
    """One suspect sentence against one source sentence."""

    source: StrictStr = Field(description="The source sentence.")
    suspect: StrictStr = Field(description="The suspect sentence.")


class AnalyzeRequest(_Body):
    """One article, analysed against the served index."""

    text: StrictStr = Field(description="The article text.")
    id: StrictStr | None = Field(None, description="The article's id: written into the report, and an indexed source "
                                                  "with the same id is never its candidate.")
    exclude_ids: list[StrictStr] = Field(default_factory=list, description="Source ids never to match it against.")
    exclude_quotations: StrictBool = Field(False, description="Leave quoted speech out of the verdict and the spin score.")


class BatchRequest(_Body):
    """Several articles, analysed together."""

    articles: list[AnalyzeRequest]


class SourceRequest(_Body):
    """A clean source to add to the index."""

    id: StrictStr = Field(min_length=1, description="A new, unique source id.")
    text: StrictStr = Field(min_length=1, description="The source text.")
    meta: dict = Field(default_factory=dict, description="Anything to keep with the source (JSON object).")
