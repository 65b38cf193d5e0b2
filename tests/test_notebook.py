"""The evaluation notebook runs top to bottom on a small sample (CI executes it on every run)."""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "evaluation.ipynb"
SAMPLE = "3"  # suspects per verdict: the whole notebook in well under three minutes on two cores


def test_committed_notebook_matches_its_generator():
    nbformat = pytest.importorskip("nbformat")
    sys.path.insert(0, str(NOTEBOOK.parent))
    try:
        from make_notebook import build
    finally:
        sys.path.remove(str(NOTEBOOK.parent))
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert [c.source for c in committed.cells] == [c.source for c in build().cells], "run python notebooks/make_notebook.py"


def test_notebook_executes_on_a_small_sample(shared_dir, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    # the kernel is this interpreter's (jupyter_client runs the "python3" spec with sys.executable);
    # its environment carries the sample size and the shared data folder
    monkeypatch.setenv("SPIN_EVAL_SAMPLE", SAMPLE)
    monkeypatch.setenv("SPIN_DETECTOR_SHARED", str(shared_dir))
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}})
    client.execute()  # raises CellExecutionError, naming the cell, when any cell fails
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4  # confusion, spin scores, curves, score by rate
