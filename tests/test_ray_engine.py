"""The Ray Data engine (issue 4): on a local Ray with 2 CPUs, its output equals the local engine's.

Skipped when Ray is not installed (it is the optional extra ``spin-detector[ray]``).
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import pytest

from detector.batch import read_batch_errors, read_batch_output, run_batch
from detector.errors import InputError

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs whose workers can import this repository and the test helpers."""
    path = os.pathsep.join([str(TESTS), str(TESTS.parent), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path, "HF_HUB_OFFLINE": "1"}})
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def sample(tmp_path) -> Path:
    from test_batch import article, write_jsonl

    records = [{"id": f"a{n}", "text": article(n)} for n in range(30)]
    records += [{"id": "a3", "text": article(4)}, {"id": "blank", "text": ""}, {"id": "boom", "text": "BOOM."}]
    return write_jsonl(tmp_path / "sample.jsonl", records)


def by_id(rows) -> dict:
    rows = list(rows)
    assert len(rows) == len({row["id"] for row in rows})
    return {row["id"]: row for row in rows}


def error_keys(path) -> set:
    return {(e["record"], e["stage"], e["occurrence"]) for e in read_batch_errors(path)}


def test_ray_output_equals_the_local_engine_output(tmp_path, local_ray):
    from test_batch import FakeDetector, make_fake_detector

    path = sample(tmp_path)
    local = run_batch(path, tmp_path / "local.parquet", detector=FakeDetector(), batch_size=4, progress=False)
    remote = run_batch(path, tmp_path / "ray.parquet", detector=partial(make_fake_detector, 0.0), batch_size=4,
                       engine="ray", actors=2, progress=False)
    assert remote.engine == "ray" and remote.workers == 2
    assert by_id(read_batch_output(tmp_path / "ray.parquet")) == by_id(read_batch_output(tmp_path / "local.parquet"))
    assert error_keys(tmp_path / "ray.parquet") == error_keys(tmp_path / "local.parquet")
    assert len(error_keys(tmp_path / "local.parquet")) == 3
    counts = ("articles", "errors", "duplicates", "verdicts")
    assert [getattr(remote, name) for name in counts] == [getattr(local, name) for name in counts]
    again = run_batch(path, tmp_path / "ray.parquet", detector=partial(make_fake_detector, 0.0), batch_size=4,
                      engine="ray", progress=False)  # the same batch size: another one is refused (issue 39)
    assert again.scored == 0 and again.articles == 30 and again.errors == 3


def test_ray_engine_with_the_real_detector_on_a_tiny_model(tmp_path, local_ray, tiny_bert_dir, seed_texts):
    pytest.importorskip("faiss")
    try:
        from detector.thesaurus import SynonymTable  # noqa: F401  (tiny_detector needs it in every actor)
        from test_batch import tiny_detector

        from detector.encoder import SentenceEncoder
        from detector.index import SourceIndex
    except ImportError as exc:
        pytest.skip(f"a detector module has not landed yet: {exc}")
    index = SourceIndex.build([{"id": "src-003", "text": seed_texts["003"]}], encoder=SentenceEncoder.load(tiny_bert_dir))
    index.save(tmp_path / "index")
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps({"id": k, "text": t}) + "\n" for k, t in seed_texts.items()), encoding="utf-8")
    factory = partial(tiny_detector, str(tiny_bert_dir))
    run_batch(path, tmp_path / "local", index=tmp_path / "index", detector=factory, progress=False)
    run_batch(path, tmp_path / "ray", index=tmp_path / "index", detector=factory, engine="ray", actors=2, batch_size=2,
              progress=False)
    local, remote = by_id(read_batch_output(tmp_path / "local")), by_id(read_batch_output(tmp_path / "ray"))
    assert set(remote) == set(seed_texts)
    assert {k: r["verdict"] for k, r in remote.items()} == {k: r["verdict"] for k, r in local.items()}
    for key, row in remote.items():
        assert row["spin_score"] == pytest.approx(local[key]["spin_score"], abs=1e-4)
        assert row["coverage"] == pytest.approx(local[key]["coverage"], abs=1e-6)


def test_ray_engine_refuses_loaded_objects(tmp_path):
    from test_batch import FakeDetector

    with pytest.raises(InputError, match="loads one detector per actor"):
        run_batch(sample(tmp_path), tmp_path / "out", detector=FakeDetector(), engine="ray", progress=False)


def test_run_batch_ray_is_deprecated_for_run_batch_with_the_ray_engine(tmp_path):
    """Issue 36: the Ray engine no longer repeats the job's signature; the old entry point warns, then runs it."""
    from test_batch import FakeDetector

    from detector.ray_engine import run_batch_ray

    with pytest.warns(DeprecationWarning, match=r'run_batch\(\.\.\., engine="ray"\)'), \
            pytest.raises(InputError, match="loads one detector per actor"):
        run_batch_ray(sample(tmp_path), tmp_path / "out", detector=FakeDetector(), progress=False)
    assert not (tmp_path / "out").exists()
