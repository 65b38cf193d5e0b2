"""The documents' result tables are generated from benchmarks/results/*.json (issue 36): one source per figure."""

import importlib.util
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tables():
    spec = importlib.util.spec_from_file_location("benchmark_tables", REPO / "benchmarks" / "tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def docs_copy(tables, tmp_path) -> Path:
    """A copy of the documents that carry tables, laid out as in the repository."""
    for document in tables.DOCUMENTS:
        (tmp_path / document).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / document, tmp_path / document)
    return tmp_path


def test_readme_and_benchmark_tables_match_their_json(tables):
    assert tables.stale_tables() == [], "run `python benchmarks/tables.py` to rewrite the tables from the JSON"
    assert tables.main(["--check"]) == 0


def test_every_table_is_placed_and_every_marker_is_known(tables):
    placed = [m["name"] for document in tables.DOCUMENTS for m in tables.BLOCK.finditer((REPO / document).read_text())]
    assert sorted(placed) == sorted(tables.TABLES)
    assert "headline" in [m["name"] for m in tables.BLOCK.finditer((REPO / "README.md").read_text())]


def test_a_figure_edited_by_hand_is_stale_until_rewritten(tables, docs_copy):
    readme = docs_copy / "README.md"
    readme.write_text(readme.read_text().replace("| article macro-F1 |", "| article macro-F1, edited by hand |", 1))
    assert tables.stale_tables(docs_copy) == ["README.md: headline"]
    assert tables.update_tables(docs_copy) == ["README.md: headline"]
    assert tables.stale_tables(docs_copy) == []
    assert readme.read_text() == (REPO / "README.md").read_text()


def test_an_unknown_table_marker_names_the_known_ones(tables):
    with pytest.raises(KeyError, match="unknown table 'nope'.*headline"):
        tables.render_document("<!-- table:nope -->\n<!-- /table -->")


def test_readme_is_for_users(tables):
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert "make seeds" in readme and "make test" in readme
    for document in ("docs/experiments.md", "docs/training.md", "benchmarks/README.md", "docs/BATCH.md",
                     "docs/INTEGRITY.md", "models/spin-classifier/README.md"):
        assert f"]({document}" in readme
