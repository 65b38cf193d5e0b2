"""`DecisionModel`: how the evidence of a sentence pair becomes a relation, and findings a verdict.

A pair's evidence (`detector.relation.pair_features`: words kept, skeleton kept, content words
swapped one for one, thesaurus membership of the swaps, the word head's probability on the swapped
words, the sentence probability, the similarity) is read by a multinomial logistic regression
fitted by ``python -m training.fit_decisions`` on pairs of several spinners, so that no single
dictionary gates the call. The article verdict's thresholds sit beside it. Both are versioned data:
``decisions.json`` in the model folder (JSON, no pickle), loaded by `Detector` and named in every
report by its ``version``.

Two regressions are kept: ``with_classifier`` reads every feature, ``source_only`` the features of
the source comparison alone, for a detector that runs without a trained classifier. With a
classifier, a `spun` call also needs its support (``spun_min_support``): a swapped-in word over the
model's word threshold, or a sentence probability of at least that much. Swaps nobody would notice
are what a copy-editor makes (seed 003 against 004): human paraphrases that swap words rarely carry
that support, spun pairs mostly do (the figures: docs/experiments.md).

Example:
    >>> model = DecisionModel.load()                                  # doctest: +SKIP
    >>> model.relation(features, with_classifier=True)                # doctest: +SKIP
    ('spun', {'copy': 0.01, 'spun': 0.97, 'paraphrase': 0.02, 'unrelated': 0.0})
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from detector.errors import InputError, ModelFormatError
from detector.model_manifest import refresh_manifest, verify_model_folder

__all__ = [
    "DECISIONS_FILE",
    "DEFAULT_MODEL_PATH",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "DecisionModel",
    "PairModel",
    "VerdictRules",
]

FORMAT_NAME = "spin-detector-decisions"
FORMAT_VERSION = 1
DECISIONS_FILE = "decisions.json"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "spin-classifier"
_FIX = (
    "refit it with python -m training.fit_decisions, or copy decisions.json from models/spin-classifier "
    "and seal the folder with spin-detect seal-model"
)


@dataclass(frozen=True)
class PairModel:
    """Multinomial logistic regression over named pair features (standardised by ``mean``/``scale``)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]  # one row per class
    intercept: tuple[float, ...]

    def __post_init__(self) -> None:
        width = len(self.features)
        if not width or len(self.mean) != width or len(self.scale) != width or any(len(row) != width for row in self.coef):
            raise ModelFormatError(f"pair model: mean, scale and every coefficient row need {width} values: {_FIX}")
        if len(self.intercept) != len(self.coef):
            raise ModelFormatError(f"pair model: {len(self.coef)} coefficient rows but {len(self.intercept)} intercepts: {_FIX}")
        values = [*self.mean, *self.scale, *self.intercept, *(v for row in self.coef for v in row)]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise ModelFormatError(f"pair model holds a value that is not a finite number: {_FIX}")
        if any(s <= 0 for s in self.scale):
            raise ModelFormatError(f"pair model: every scale must be positive: {_FIX}")

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self.mean), np.array(self.scale), np.array(self.coef), np.array(self.intercept)

    def probabilities(self, features: Mapping[str, float]) -> np.ndarray:
        """Class probabilities (in the model's class order) for one pair's features."""
        missing = [name for name in self.features if name not in features]
        if missing:
            raise InputError(f"pair features {missing} are missing: compute them with detector.relation.pair_features")
        mean, scale, coef, intercept = self._arrays
        logits = coef @ ((np.array([features[name] for name in self.features]) - mean) / scale) + intercept
        logits -= logits.max()
        weights = np.exp(logits)
        return weights / weights.sum()


@dataclass(frozen=True)
class VerdictRules:
    """Thresholds of the article verdict (see `detector.report.decide_verdict`)."""

    min_matched: int = 2  # aligned sentences an article needs to be more than related
    min_coverage: float = 0.3  # share of content sentences aligned, likewise
    min_spun_share: float = 0.2  # share of matched sentences spun for "spun" (a fifth: sparse tortured phrases)
    min_spun_sentences: int = 2  # and at least this many of them (one odd pair is no spinning)
    min_light_spun_share: float = 0.1  # a lighter share will do for a copy whose changed sentences are mostly spun
    min_spun_share_of_changed: float = 0.5  # "mostly": spun sentences among those not copied verbatim
    min_copy_share: float = 0.5  # share of matched sentences copied for "copy" (else "paraphrased")
    min_classifier_share: float = 0.3  # with no index: share of sentences the classifier flags for "spun"
    min_copied_coverage: float = 0.45  # share of content sentences copied for a whole-article "copy"
    min_paraphrased_coverage: float = 0.55  # share of content sentences aligned for "paraphrased"
    min_paraphrase_similarity: float = 0.6  # a paraphrase pair counts towards that share from this similarity
    min_reused_sentences: int = 2  # copied or spun sentences that make partial reuse "copy" / "spun"
    min_reused_words: int = 10  # words a reused sentence needs to count
    min_story_names: int = 2  # rare names, numbers or quotations shared with a candidate for "related"
    max_story_name_share: float = 0.005  # a name more of the indexed sources carry is common, not a mark
    min_story_similarity: float = 0.3  # cosine of the mean sentence vectors: the candidate is on the same topic
    min_story_word_similarity: float = 0.0  # TF-IDF cosine of the content words: it shares the event's words
    min_common_word_sources: int = 3  # a capitalised word this many indexed sources write lower-case ...
    min_common_word_share: float = 0.1  # ... in this share of those carrying it is a common word, not a name
    min_template_pairs: int = 0  # paraphrase pairs giving figures on both sides that can show a template (0: never)
    max_template_figure_overlap: float = 0.2  # below this share of shared figures they are another issue, not a paraphrase
    min_template_lines: int = 0  # or this many pairs (and half those giving figures) keeping the wording with other figures (0: never)
    min_template_wording: float = 0.5  # content words shared over all the two sentences give (`detector.story.wording_overlap`)
    min_paraphrase_word_similarity: float = 0.0  # TF-IDF cosine with the main source its paraphrase pairs need (0: never checked)
    min_ordered_coverage: float = 0.75  # share of content sentences rewritten in the source's order for "paraphrased"
    min_ordered_sentences: int = 3  # and at least this many of them

    def __post_init__(self) -> None:
        for item in fields(self):
            problem = _rule_problem(item.name, item.type, getattr(self, item.name))
            if problem:
                raise ModelFormatError(f"{problem}: {_FIX}")


def _rule_problem(name: str, kind: str, value) -> str | None:
    """Why a verdict rule's value is out of its range (a count >= 0, or a share in [0, 1]), or None."""
    if kind == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        return f"verdict rule {name}={value!r} must be a whole number >= 0"
    if kind == "float" and (not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0):
        return f"verdict rule {name}={value!r} must be a share in [0, 1]"
    return None


@dataclass(frozen=True)
class DecisionModel:
    """The pair-relation regressions and the verdict rules, with the version every report records."""

    version: str
    classes: tuple[str, ...]
    with_classifier: PairModel
    source_only: PairModel
    verdict: VerdictRules = field(default_factory=VerdictRules)
    fitted_on: dict = field(default_factory=dict)
    spun_min_support: float = 0.3

    def __post_init__(self) -> None:
        support = self.spun_min_support
        if not isinstance(support, (int, float)) or isinstance(support, bool) or not 0.0 <= support <= 1.0:
            raise ModelFormatError(f"spun_min_support={self.spun_min_support!r} must be a probability in [0, 1]: {_FIX}")
        for name, model in (("with_classifier", self.with_classifier), ("source_only", self.source_only)):
            if len(model.coef) != len(self.classes):
                raise ModelFormatError(f"{name}: {len(model.coef)} coefficient rows for {len(self.classes)} classes: {_FIX}")

    def relation(self, features: Mapping[str, float], *, with_classifier: bool) -> tuple[str, dict[str, float]]:
        """The most probable relation of a pair and every class probability."""
        model = self.with_classifier if with_classifier else self.source_only
        probabilities = model.probabilities(features)
        ranked = {name: round(float(p), 4) for name, p in zip(self.classes, probabilities)}
        order = [self.classes[i] for i in np.argsort(-probabilities, kind="stable")]
        supported = features.get("word_flagged", 0.0) > 0 or features.get("sentence_probability", 0.0) >= self.spun_min_support
        if with_classifier and order[0] == "spun" and not supported:
            order.pop(0)
        return order[0], ranked

    def with_verdict_rules(self, **changes: float) -> DecisionModel:
        """These decisions with some verdict rules changed, to try a bar without writing a decisions
        file. The version names the changes, so that no report claims the saved rules."""
        kinds = {item.name: item.type for item in fields(VerdictRules)}
        unknown = sorted(set(changes) - set(kinds))
        if unknown:
            raise InputError(f"no verdict rule named {', '.join(unknown)}; the rules are: {', '.join(sorted(kinds))}")
        problems = [problem for name, value in changes.items() if (problem := _rule_problem(name, kinds[name], value))]
        if problems:
            raise InputError("; ".join(problems))
        if not changes:
            return self
        said = ",".join(f"{name}={value}" for name, value in sorted(changes.items()))
        return replace(self, verdict=replace(self.verdict, **changes), version=f"{self.version}+{said}")

    def to_dict(self) -> dict:
        """Plain JSON-ready data, with the format name and version."""
        data = asdict(self)
        return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **data}

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``decisions.json`` into ``folder`` (created when missing) and record it in the folder's
        manifest.json (`detector.model_manifest.refresh_manifest`); returns its path."""
        path = Path(folder) / DECISIONS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{DECISIONS_FILE}.tmp")
        staging.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        staging.replace(path)
        refresh_manifest(path.parent, [DECISIONS_FILE])
        return path

    @classmethod
    def load(cls, folder: str | os.PathLike | None = None) -> DecisionModel:
        """The decisions in ``folder`` (a model folder), or the shipped model's when ``folder`` is None.

        decisions.json must match its entry in the folder's manifest.json (`detector.model_manifest`).
        """
        path = Path(folder if folder is not None else DEFAULT_MODEL_PATH) / DECISIONS_FILE
        if not path.is_file():
            raise ModelFormatError(f"no {DECISIONS_FILE} in {str(path.parent)!r}: {_FIX}")
        verify_model_folder(path.parent, require=[DECISIONS_FILE], only=[DECISIONS_FILE])
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelFormatError(f"{str(path)!r} is not readable JSON ({error}): {_FIX}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: dict, where: str = "decisions") -> DecisionModel:
        """A model from `to_dict` output; a foreign, newer or malformed document raises `ModelFormatError`."""
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise ModelFormatError(f"{where} is not a {FORMAT_NAME} document: {_FIX}")
        if data.get("format_version") != FORMAT_VERSION:
            raise ModelFormatError(
                f"{where} has format version {data.get('format_version')!r}; this detector reads {FORMAT_VERSION}: {_FIX}"
            )
        try:
            return cls(
                version=str(data["version"]),
                classes=tuple(data["classes"]),
                with_classifier=_pair_model(data["with_classifier"]),
                source_only=_pair_model(data["source_only"]),
                verdict=VerdictRules(**data.get("verdict", {})),
                fitted_on=dict(data.get("fitted_on", {})),
                spun_min_support=data.get("spun_min_support", 0.3),
            )
        except (KeyError, TypeError) as error:
            raise ModelFormatError(f"{where} lacks or mistypes a field ({error}): {_FIX}") from None


def _pair_model(data: dict) -> PairModel:
    def numbers(values: Sequence) -> tuple[float, ...]:
        return tuple(float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values)

    return PairModel(
        features=tuple(data["features"]),
        mean=numbers(data["mean"]),
        scale=numbers(data["scale"]),
        coef=tuple(numbers(row) for row in data["coef"]),
        intercept=numbers(data["intercept"]),
    )
