"""The layout of training/ (issue 36): one concern a module, calibration and the card below train and evaluate
(the cycle test itself is tests/test_import_cycles.py)."""

from pathlib import Path

import pytest
from test_import_cycles import import_graph

TRAINING = Path(__file__).resolve().parents[1] / "training"


@pytest.mark.parametrize("module", ["calibrate", "model_card", "record", "summary", "data", "validation", "config"])
def test_calibration_the_card_and_the_data_import_neither_a_training_run_nor_the_evaluation(module):
    imported = set(import_graph("training")[f"training.{module}"])
    assert not imported & {"training.train", "training.evaluate", "training.loop", "training.average"}


def test_train_stays_a_short_driver_and_the_pruning_code_is_gone():
    assert len((TRAINING / "train.py").read_text(encoding="utf-8").splitlines()) < 400
    for path in TRAINING.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "keep_feed_forward" not in text and "intermediate_size" not in text and "keep_layers" not in text, path.name
