"""The model folder in Hugging Face form: remote code and the config.json keys that point to it.

A spin classifier folder loads with ``transformers.AutoModel.from_pretrained(folder)`` and
``transformers.pipeline("spin-detection", model=folder)`` when the user trusts its remote code
(``trust_remote_code``); this package itself never does. The code transformers runs is the files of this package listed in
`REMOTE_CODE_FILES`, copied into the folder byte for byte by `write_hf_form`, the one writer, used
by `detector.classifier.SpinScorer.save` (training) and `detector.seal.seal_model_folder`. They
import only torch, numpy, transformers and each other, because users load the folder without the
``detector`` package. This module itself needs the standard library only.

Example:
    >>> write_hf_form("models/spin-classifier")          # doctest: +SKIP
    ['configuration_spin_detector.py', 'modeling_spin_detector.py', 'pipeline_spin_detector.py', 'spin_words.py']
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

__all__ = ["HF_CONFIG", "MODEL_TYPE", "PIPELINE_TASK", "REMOTE_CODE_FILES", "write_hf_form"]

MODEL_TYPE = "spin-detector"
PIPELINE_TASK = "spin-detection"
REMOTE_CODE_FILES = (
    "configuration_spin_detector.py",
    "modeling_spin_detector.py",
    "pipeline_spin_detector.py",
    "spin_words.py",
)
HF_CONFIG = {  # added to config.json beside the keys detector.classifier reads
    "model_type": MODEL_TYPE,
    "architectures": ["SpinDetectorModel"],
    "dtype": "float32",  # the fp16 weights are scored in fp32, as SpinScorer does
    "auto_map": {
        "AutoConfig": "configuration_spin_detector.SpinDetectorConfig",
        "AutoModel": "modeling_spin_detector.SpinDetectorModel",
    },
    "custom_pipelines": {
        PIPELINE_TASK: {"impl": "pipeline_spin_detector.SpinDetectionPipeline", "pt": ["AutoModel"], "tf": [], "type": "text"}
    },
}
_CONFIG_FILE = "config.json"


def write_hf_form(folder: str | os.PathLike) -> list[str]:
    """Copy the remote code into ``folder`` and add `HF_CONFIG` to its config.json; returns the files copied.

    Every other key of config.json stays as it was, so `detector.classifier.SpinScorer.load` reads
    the folder as before; the weights are not touched.
    """
    folder = Path(folder)
    source = Path(__file__).resolve().parent
    for name in REMOTE_CODE_FILES:
        shutil.copyfile(source / name, folder / name)
    path = folder / _CONFIG_FILE
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(json.loads(json.dumps(HF_CONFIG)))
    path.write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
    return list(REMOTE_CODE_FILES)
