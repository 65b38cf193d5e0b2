"""training/recipe.sh, the script that rebuilds the shipped model, run with a stand-in Python that logs
each command and writes the files the next step looks for; the training and evaluation commands are then
checked against their parsers."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "training" / "recipe.sh"
SETTINGS = ("epochs", "batch_size", "lr", "head_lr", "seed", "word_weight", "freeze_embeddings", "max_length", "max_train",
            "warmup", "weight_decay", "dropout", "clip", "balance", "select", "calibration", "max_fpr")
STUB = f"""#!{sys.executable} -S
import json, sys
from pathlib import Path

args = sys.argv[1:]
with open("calls.jsonl", "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[0] == "-":  # the concatenation of several draws, a script on stdin
    sys.stdin.read()
    Path(args[1], "train.parquet").touch()
    sys.exit(0)
module, rest = args[1], args[2:]
out = Path(rest[rest.index("--out") + 1]) if "--out" in rest else None
if module == "training.train":
    out.mkdir(parents=True, exist_ok=True)
    (out / "training.json").write_text("{{}}")
elif module == "training.build_dataset":
    out.mkdir(parents=True, exist_ok=True)
    for name in ("card.json", "train.parquet", "validation.parquet", "calibration.parquet", "human_negatives.parquet"):
        (out / name).touch()
elif module == "training.build_family_eval":
    out.mkdir(parents=True, exist_ok=True)
    (out / "pairs.jsonl").touch()
elif module in ("training.average", "training.loto"):
    out.mkdir(parents=True, exist_ok=True)
    (out / ("training.json" if module == "training.average" else "loto.json")).touch()
"""


@pytest.fixture()
def calls(tmp_path):
    """Run the recipe in an empty folder with the stand-in Python; returns each call's arguments."""
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    env = {**os.environ, "PY": str(stub)}
    subprocess.run(["bash", str(RECIPE)], cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_the_recipe_trains_the_shipped_lineage_in_order_and_every_command_parses(calls):
    from training.evaluate import parse_args as evaluation
    from training.train import parse_args as training

    runs = [training(args[2:]) for args in calls if args[:2] == ["-m", "training.train"]]
    assert [evaluation(args[2:]).card for args in calls if args[:2] == ["-m", "training.evaluate"]] == [True]
    trained = [run.out for run in runs]
    assert [run.init for run in runs[1:]] == trained[:15] + ["build/models/avg-1516c"] + trained[16:18]  # each continues the last
    assert len(trained) == 19 and trained[0] == "build/models/epoch-1" and trained[-1] == "build/models/gpu2-c"
    builds = [args for args in calls if args[:2] == ["-m", "training.build_dataset"]]
    assert len(builds) == 1 + 10 + 4 + 3 + 4 and all("--num-proc" in args for args in builds)
    modules = [args[1] for args in calls if args[0] == "-m"]
    assert modules[-5:] == ["training.calibrate", "training.build_family_eval", "training.fit_decisions", "training.loto",
                            "training.evaluate"]


def test_the_recipe_has_the_settings_of_every_run_in_the_shipped_models_lineage(calls):
    """Paths differ (the GPU runs read a copied folder), the settings that shape the weights may not."""
    from training.train import parse_args

    record = json.loads((ROOT / "models" / "spin-classifier" / "training.json").read_text(encoding="utf-8"))
    commands, earlier = [record["args"]["command"]], record["init_record"]
    while earlier:
        commands.insert(0, earlier["command"])
        earlier = earlier["init_record"]
    shipped = [parse_args(shlex.split(command.split(";")[0])[3:]) for command in commands]
    recipe = [parse_args(args[2:]) for args in calls if args[:2] == ["-m", "training.train"]]
    assert [[getattr(run, name) for name in SETTINGS] for run in recipe] == [[getattr(run, name) for name in SETTINGS] for run in shipped]


def test_a_rerun_keeps_what_is_done(calls, tmp_path):
    stub = tmp_path / "python"
    (tmp_path / "calls.jsonl").unlink()
    subprocess.run(["bash", str(RECIPE)], cwd=tmp_path, env={**os.environ, "PY": str(stub)}, check=True, capture_output=True)
    again = [json.loads(line)[1] for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert again == ["training.calibrate", "training.fit_decisions", "training.evaluate"]  # the last folder's steps run again
