"""Leave-one-thesaurus-out models: for each thesaurus, train on spins drawn from the other two only.

Each model's training set is built with the same seed as the main dataset, so articles fall into
the same splits and the main dataset's eval sets (``<main>/eval/news_spun_<thesaurus>.parquet``)
stay unseen. ``training.evaluate --loto-models <out>`` then scores each model on the set spun with
the thesaurus it never saw, next to the two it saw. The figure says whether the classifier learnt
spinning or a word list: real spinners use their own dictionaries.

Command line::

    python -m training.loto --out build/models/loto --size 12000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from training import build_dataset, train
from training.thesauri import SOURCES

__all__ = ["main", "train_loto_models"]


def train_loto_models(out: Path, data: Path, size: int, seed: int, train_args: list[str]) -> dict:
    """Build the three two-thesaurus datasets and train one model on each; returns wall times."""
    times = {}
    for held_out in SOURCES:
        started = time.time()
        seen = [name for name in SOURCES if name != held_out]
        dataset = data / held_out
        if not (dataset / "card.json").is_file():
            build_dataset.main(
                ["--out", str(dataset), "--sources", ",".join(seen), "--size", str(size), "--eval-size", "50", "--seed", str(seed)]
            )
        record = train.main(
            ["--data", str(dataset), "--out", str(out / held_out), "--checkpoint-dir", str(data / f"checkpoint-{held_out}"), *train_args]
        )
        times[held_out] = {"seen": seen, "wall_seconds": round(time.time() - started, 1), "finished": record.get("finished")}
    (out / "loto.json").write_text(json.dumps(times, indent=2) + "\n", encoding="utf-8")
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.loto", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="build/models/loto", help="one model folder per held-out thesaurus goes here")
    parser.add_argument("--data", default="build/dataset-loto", help="where the two-thesaurus datasets are built")
    parser.add_argument("--size", type=int, default=12_000, help="training sentences per model")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed: keep the main dataset's, so splits match")
    args, train_args = parser.parse_known_args(argv)
    return train_loto_models(Path(args.out), Path(args.data), args.size, args.seed, train_args)


if __name__ == "__main__":
    from training.loto import main as run  # dataset workers pickle functions by module, not as __main__

    print(json.dumps(run(), indent=2))
