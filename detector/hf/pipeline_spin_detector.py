"""The ``spin-detection`` pipeline: each sentence's calibrated spun probability and its swapped words.

Registered in a model folder's config.json (``custom_pipelines``), so that
``pipeline("spin-detection", model=folder)`` with remote code trusted scores sentences as
`detector.api.Detector.score_sentences` does: the same word split, the same subwords, the folder's
calibration.json and thresholds. Imports torch, numpy and transformers only.
"""

import json

import torch
from transformers import Pipeline
from transformers.utils import cached_file

from .modeling_spin_detector import apply_calibration
from .spin_words import split_words

__all__ = ["CALIBRATION_FILE", "SpinDetectionPipeline"]

CALIBRATION_FILE = "calibration.json"


class SpinDetectionPipeline(Pipeline):
    """Per sentence: ``probability`` (calibrated), ``spun`` (at the folder's threshold), ``words``
    (each word's substitution probability, with its offsets) and ``swapped`` (the words at or over
    the word threshold)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with open(cached_file(self.model.name_or_path, CALIBRATION_FILE), encoding="utf-8") as handle:
            self.calibration = json.load(handle)

    def _sanitize_parameters(self, **kwargs):
        return {}, {}, {}

    def preprocess(self, sentence: str) -> dict:
        tokens = split_words(sentence)
        encoded = self.tokenizer(
            [text for text, _, _, _ in tokens], is_split_into_words=True, truncation=True,
            max_length=self.model.config.max_length, return_tensors="pt",
        )
        word_numbers, count = [], 0
        for _, _, _, is_word in tokens:
            word_numbers.append(count if is_word else -1)
            count += is_word
        index, previous = [], None
        for token in encoded.word_ids(0):
            index.append(word_numbers[token] if token is not None and token != previous else -1)
            previous = token
        return {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
            "word_index": torch.tensor([index]),
            "sentence": sentence,
            "words": [(text, start, end) for text, start, end, is_word in tokens if is_word],
        }

    def _forward(self, inputs: dict) -> dict:
        output = self.model(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], word_index=inputs["word_index"]
        )
        return {"output": output, "word_index": inputs["word_index"], "sentence": inputs["sentence"], "words": inputs["words"]}

    def postprocess(self, outputs: dict) -> dict:
        output, index = outputs["output"], outputs["word_index"][0]
        raw = torch.sigmoid(output.sentence_logits.float())[0].item()
        word_probability = torch.sigmoid(output.word_logits.float())[0]
        scores = [0.0] * len(outputs["words"])  # words cut off by max_length keep 0
        for position in (index >= 0).nonzero().flatten().tolist():
            scores[int(index[position])] = float(word_probability[position])
        probability = float(apply_calibration(self.calibration, raw))
        word_threshold = self.calibration.get("word_threshold", 0.5)
        words = [
            {"word": text, "start": start, "end": end, "probability": score}
            for (text, start, end), score in zip(outputs["words"], scores)
        ]
        return {
            "sentence": outputs["sentence"],
            "probability": probability,
            "spun": probability >= self.calibration.get("threshold", 0.5),
            "words": words,
            "swapped": [word["word"] for word in words if word["probability"] >= word_threshold],
        }
