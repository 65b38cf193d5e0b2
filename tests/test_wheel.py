"""Issue 36: the package works when installed like a library, outside the checkout.

Builds the wheel offline from a copy of the sources, installs it into a fresh virtual environment in
a temporary folder, and runs ``spin-detect score`` there. The dependencies (torch, transformers, ...)
come from this test's own environment through a ``.pth`` line, whose editable install of the
checkout is not read (a site directory added by a ``.pth`` line has its own ``.pth`` files skipped),
so ``detector`` is imported from the wheel. Without a model folder the command must stop with the
one-line error that says how to get one; with ``$SPIN_DETECTOR_MODEL`` it must score.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = REPO / "models" / "spin-classifier"
SENTENCES = "The armed forces alliance should not confess new participants.\n"
SETUPTOOLS_NEEDED = 77  # pyproject.toml's build-system: the SPDX license string needs it

pytestmark = pytest.mark.wheel


def _run(command: list, cwd: Path, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built offline from a copy of pyproject.toml, README.md and detector/ (no models/, no build/)."""
    try:
        have = version("setuptools")
    except PackageNotFoundError:
        have = "none"
    if have == "none" or int(have.split(".")[0]) < SETUPTOOLS_NEEDED:
        pytest.skip(f"building offline needs setuptools>={SETUPTOOLS_NEEDED} in this environment (found {have})")
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "detector", source / "detector", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", out, source], cwd=source)
    assert built.returncode == 0, built.stderr
    return next(out.glob("spin_detector-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment outside the checkout with the wheel installed; returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    created = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv.parent)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=venv.parent).stdout.strip()
    Path(purelib, "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    install = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel], cwd=venv.parent)
    assert install.returncode == 0, install.stderr
    return venv / "bin"


def _environment(**extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "SPIN_DETECTOR_MODEL")}
    return env | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"} | extra


def test_the_wheel_holds_the_package_and_its_data_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert all(name.startswith(("detector/", "spin_detector-")) for name in names), sorted(names)[:20]
    assert "detector/data/synonyms.json" in names and "detector/cli/score.py" in names


def test_the_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    found = _run([installed / "python", "-c", "import detector; print(detector.__file__)"], cwd=tmp_path, env=_environment())
    assert found.returncode == 0, found.stderr
    assert not Path(found.stdout.strip()).resolve().is_relative_to(REPO), found.stdout


def test_score_without_a_model_stops_with_one_line_that_says_how_to_get_one(installed, tmp_path):
    result = _run([installed / "spin-detect", "score"], cwd=tmp_path, env=_environment(), input=SENTENCES)
    assert result.returncode == 1 and result.stdout == "", result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: no spin-detector model found"), result.stderr
    assert "--model FOLDER" in lines[0] and "$SPIN_DETECTOR_MODEL=FOLDER" in lines[0] and "docs/INSTALL.md" in lines[0]


@pytest.mark.shipped
def test_score_with_the_model_named_in_the_environment_scores(installed, tmp_path):
    if not (SHIPPED_MODEL / "config.json").is_file():
        pytest.skip(f"no trained classifier in {SHIPPED_MODEL}")
    result = _run([installed / "spin-detect", "score", "--format", "jsonl"], cwd=tmp_path,
                  env=_environment(SPIN_DETECTOR_MODEL=str(SHIPPED_MODEL)), input=SENTENCES)
    assert result.returncode == 0, result.stderr
    assert '"spun_probability"' in result.stdout and SENTENCES.strip() in result.stdout
