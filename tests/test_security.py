"""Security and crash safety (issue 6): escaped HTML, no pickle, ids that cannot escape, atomic index saves.

What `tests/test_index.py` and `tests/test_classifier.py` already cover (corrupt, truncated, foreign
and outdated folders) is not repeated; these tests add hostile files that would run code if a
loader unpickled them, markup fed through `to_html()`, and crashes in the middle of a save.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from detector.api import Detector
from detector.index import _manifest_checksum
from detector.errors import IndexFormatError, ModelFormatError
from detector.report import render_html

PACKAGE = Path(__file__).resolve().parent.parent / "detector"
WIRE = (
    "Russia won China's backing in its standoff with the West over Ukraine on Friday. "
    "Beijing agreed with Moscow that the NATO alliance should not admit new members. "
    "The demand came after a meeting between Vladimir Putin and Xi Jinping in Beijing."
)
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="x'
HOSTILE_WIRE = (
    f"Russia won China's backing {SCRIPT} in its standoff with the West over Ukraine on Friday. "
    f"Beijing agreed with Moscow{ATTRIBUTE} that the NATO alliance should not admit new members. "
    f"The demand came after a meeting <img src=x onerror=alert(2)> between Vladimir Putin and Xi Jinping in Beijing."
)
HOSTILE_SUSPECT = HOSTILE_WIRE.replace("admit new members", "confess new participants")
HOSTILE_ID = '"><script>alert(3)</script><a href="javascript:alert(4)">'
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "section", "p", "span", "ul", "li",
    "table", "thead", "tbody", "tr", "th", "td", "mark", "code",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"lang", "charset", "class"}


class Payload:
    """Unpickling this writes a marker file: proof that a loader ran code from a file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.fixture(scope="module")
def det(tiny_parts):
    return Detector(**tiny_parts)


@pytest.fixture(scope="module")
def hostile_index(tiny_parts):
    from detector.index import SourceIndex

    return SourceIndex.build([{"id": HOSTILE_ID, "text": HOSTILE_WIRE}], encoder=tiny_parts["encoder"])


# --- HTML report ------------------------------------------------------------------------------------


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def parsed(page: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(page)
    collector.close()
    return collector


def test_markup_in_article_source_and_ids_never_becomes_html(det, hostile_index):
    report = det.analyze(HOSTILE_SUSPECT, index=hostile_index)
    report.article_id = '<iframe src="x"></iframe>' + ATTRIBUTE
    assert report.source_id == HOSTILE_ID and any(s.source_sentence and SCRIPT in s.source_sentence for s in report.sentences)
    assert any(s.substitutions for s in report.sentences)  # the highlighting path runs too
    page = render_html([report, report])
    result = parsed(page)
    assert {tag for tag, _ in result.tags} <= ALLOWED_TAGS
    for tag, attrs in result.tags:
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES, (tag, name)
            assert value is None or not re.search(r"javascript:|[<>\"]", value), (tag, value)
    text = "".join(result.text)
    assert SCRIPT in text and ATTRIBUTE in text and HOSTILE_ID in text  # shown as text, escaped


def test_markdown_report_keeps_markup_inside_table_cells(det, hostile_index):
    report = det.analyze(HOSTILE_SUSPECT, index=hostile_index)
    rows = [line for line in report.to_markdown().splitlines() if line.startswith("| ") and "confess" in line]
    assert rows and all(line.count(" | ") == 5 for line in rows)


# --- safe loading -----------------------------------------------------------------------------------


def test_the_package_never_unpickles():
    risky = re.compile(r"import pickle|pickle\.loads?\(|torch\.load\(|allow_pickle\s*=\s*True|joblib|trust_remote_code\s*=\s*True|dill")
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if risky.search(line)
    ]
    assert offenders == []


def plant_pickled_weights(folder: Path, marker: Path) -> None:
    (folder / "model.safetensors").unlink(missing_ok=True)
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Payload(marker)))


def test_encoder_folder_with_pickled_weights_is_refused_without_running_them(tiny_bert_dir, tmp_path):
    import shutil

    from detector.encoder import SentenceEncoder

    folder = tmp_path / "encoder"
    shutil.copytree(tiny_bert_dir, folder)
    marker = tmp_path / "pwned"
    plant_pickled_weights(folder, marker)
    with pytest.raises(ModelFormatError, match="safetensors only"):
        SentenceEncoder.load(folder)
    assert not marker.exists()


def test_classifier_base_with_pickled_weights_is_refused_without_running_them(tiny_bert_dir, tmp_path):
    import shutil

    from detector.classifier import SpinClassifier

    folder = tmp_path / "base"
    shutil.copytree(tiny_bert_dir, folder)
    marker = tmp_path / "pwned"
    plant_pickled_weights(folder, marker)
    with pytest.raises(OSError, match="safetensors"):
        SpinClassifier.from_base(folder)
    assert not marker.exists()


def test_model_folder_with_pickled_weights_is_refused_without_running_them(tiny_parts, tmp_path):
    from detector.classifier import SpinScorer

    folder = tmp_path / "model"
    tiny_parts["scorer"].save(folder)
    marker = tmp_path / "pwned"
    plant_pickled_weights(folder, marker)
    with pytest.raises(ModelFormatError, match="no model.safetensors"):
        SpinScorer.load(folder)
    assert not marker.exists()


@pytest.fixture()
def saved_index(tiny_parts, tmp_path):
    from detector.index import SourceIndex

    folder = tmp_path / "idx"
    SourceIndex.build([{"id": "wire", "text": WIRE}], encoder=tiny_parts["encoder"]).save(folder)
    return folder


def replace_file_in_manifest(folder: Path, name: str, data: bytes) -> None:
    """Swap a file of an index folder and update the manifest, as a forger would (checksums pass)."""
    (folder / name).write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest["checksum"] = _manifest_checksum(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_index_with_a_pickled_array_is_refused_without_running_it(saved_index, tmp_path):
    import io

    from detector.index import SourceIndex

    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    np.save(buffer, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    replace_file_in_manifest(saved_index, "signatures.npy", buffer.getvalue())
    with pytest.raises(IndexFormatError, match="cannot be read .*spin-detect index build"):
        SourceIndex.load(saved_index)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["vectors.faiss", "documents.parquet", "embeddings.npy"])
def test_index_with_a_forged_file_gives_a_clear_error(saved_index, name):
    from detector.index import SourceIndex

    replace_file_in_manifest(saved_index, name, b"\x00garbage, checksummed to look valid\x00" * 4)
    with pytest.raises(IndexFormatError, match="cannot be read .*spin-detect index build"):
        SourceIndex.load(saved_index)


# --- ids never become paths -------------------------------------------------------------------------


def test_hostile_ids_cannot_escape_the_batch_output_folder(det, tmp_path):
    from detector.batch import read_batch_output, run_batch

    ids = ["../../escape", "/etc/passwd", "a/../../b", "..", "C:\\evil", "nul", "x\x00y", "😀/../z"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": f"{WIRE} ({n})"}) + "\n" for n, i in enumerate(ids)), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    run_batch(source, out, detector=det, workers=1, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "work"]
    assert [p.name for p in work.iterdir()] == ["out"]
    assert all(re.fullmatch(r"[._]?[A-Za-z0-9_.-]+", p.name) for p in out.rglob("*"))
    assert sorted(row["id"] for row in read_batch_output(out)) == sorted(ids)


# --- crash safety -----------------------------------------------------------------------------------


def index_state(folder: Path) -> tuple:
    from detector.index import SourceIndex

    index = SourceIndex.load(folder)
    return tuple(index.ids), tuple(seg.text for seg in index.source(index.ids[0]).segments)


def test_a_crash_while_writing_leaves_the_old_index_usable(tiny_parts, saved_index, monkeypatch):
    import detector.index as index_module
    from detector.index import SourceIndex

    before = index_state(saved_index)
    bigger = SourceIndex.load(saved_index, encoder=tiny_parts["encoder"])
    bigger.add([{"id": "other", "text": "The Bank of England raised interest rates on Thursday."}])
    calls = {"n": 0}
    real_save = np.save

    def crash_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(index_module.np, "save", crash_on_third)
    with pytest.raises(OSError, match="simulated"):
        bigger.save(saved_index)
    monkeypatch.undo()
    assert index_state(saved_index) == before
    assert sorted(p.name for p in saved_index.parent.iterdir()) == ["idx"]  # no half-written folder left behind
    bigger.save(saved_index)
    assert index_state(saved_index)[0] == ("wire", "other")


def test_a_crash_while_swapping_folders_leaves_the_old_index_usable(tiny_parts, saved_index, monkeypatch):
    import detector.index as index_module
    from detector.index import SourceIndex

    before = index_state(saved_index)
    bigger = SourceIndex.load(saved_index, encoder=tiny_parts["encoder"])
    bigger.add([{"id": "other", "text": "The Bank of England raised interest rates on Thursday."}])
    calls = {"n": 0}
    real_rename = index_module.os.rename

    def crash_on_second(source, target):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("power cut (simulated)")
        return real_rename(source, target)

    monkeypatch.setattr(index_module.os, "rename", crash_on_second)
    with pytest.raises(OSError, match="simulated"):
        bigger.save(saved_index)
    monkeypatch.undo()
    assert index_state(saved_index) == before
    assert sorted(p.name for p in saved_index.parent.iterdir()) == ["idx"]


def test_a_kill_between_the_two_renames_is_recovered_on_load(saved_index):
    """kill -9 after the old index was retired and before the new one moved in left no index at its path."""
    before = index_state(saved_index)
    saved_index.rename(saved_index.parent / f".{saved_index.name}.old-deadbeef")
    assert index_state(saved_index) == before
    assert sorted(p.name for p in saved_index.parent.iterdir()) == ["idx"]


def test_index_vectors_that_are_not_finite_are_refused(saved_index):
    """Issue 39: no path from disk to a report may produce NaN."""
    import io

    from detector.index import SourceIndex

    embeddings = np.load(saved_index / "embeddings.npy")
    embeddings[0, 0] = np.nan
    buffer = io.BytesIO()
    np.save(buffer, embeddings)
    replace_file_in_manifest(saved_index, "embeddings.npy", buffer.getvalue())
    with pytest.raises(IndexFormatError, match="not finite numbers"):
        SourceIndex.load(saved_index)
