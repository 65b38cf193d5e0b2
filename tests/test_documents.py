"""Readers of source collections: every format, the bad records, and the error messages."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from detector.documents import Document, as_document, read_documents
from detector.errors import InputError


def collect(path, **kwargs):
    problems = []
    docs = list(read_documents(path, errors=lambda where, reason: problems.append((where, reason)), **kwargs))
    return docs, problems


def test_txt_file_folder_and_glob(tmp_path):
    (tmp_path / "b.txt").write_text("Second article.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("First article.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    assert [d.id for d in read_documents(tmp_path)] == ["a", "b"]
    assert [d.text for d in read_documents(tmp_path / "a.txt")] == ["First article."]
    assert [d.id for d in read_documents(str(tmp_path / "*.txt"))] == ["a", "b"]


def test_json_lines_with_custom_fields_and_meta(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [{"doc": 7, "body": "Text seven.", "url": "http://x"}, {"doc": "b", "body": "Text b."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    docs = list(read_documents(path, id_field="doc", text_field="body"))
    assert docs[0] == Document(id="7", text="Text seven.", meta={"url": "http://x"})
    assert [d.id for d in docs] == ["7", "b"]


def test_parquet_streams_in_batches(tmp_path):
    path = tmp_path / "docs.parquet"
    n = 2500
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(n)], "text": [f"Text {i}." for i in range(n)], "src": ["s"] * n}), path)
    docs = list(read_documents(path))
    assert len(docs) == n and docs[-1].id == f"d{n - 1}" and docs[0].meta == {"src": "s"}


def test_parquet_missing_column_names_the_columns(tmp_path):
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), path)
    with pytest.raises(InputError, match=r"no column \['text'\].*\['id', 'body'\]"):
        list(read_documents(path))


def test_unknown_format_and_missing_path(tmp_path):
    (tmp_path / "docs.csv").write_text("id,text\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown document format '.csv'.*\.parquet"):
        list(read_documents(tmp_path / "docs.csv"))
    with pytest.raises(InputError, match="no such file or folder.*valid inputs"):
        list(read_documents(tmp_path / "missing.jsonl"))
    with pytest.raises(InputError, match="no file matches"):
        list(read_documents(str(tmp_path / "*.jsonl")))


def test_undecodable_txt_raises_or_is_reported(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 au lait")
    (tmp_path / "good.txt").write_text("Fine.", encoding="utf-8")
    with pytest.raises(InputError, match="undecodable bytes at offset 3"):
        list(read_documents(tmp_path))
    docs, problems = collect(tmp_path)
    assert [d.id for d in docs] == ["good"]
    assert problems[0][0] == "bad" and "UTF-8" in problems[0][1]


def test_bad_json_lines_are_reported_and_skipped(tmp_path):
    path = tmp_path / "docs.jsonl"
    lines = [
        b'{"id": "ok", "text": "Good text."}',
        b'{"id": "empty", "text": "   "}',
        b'{"id": "notext"}',
        b'{"text": "no id"}',
        b"{not json",
        b'{"id": "bytes", "text": "caf\xe9"}',
        b'{"id": "long", "text": "' + b"x" * 50 + b'"}',
        b"[1, 2]",
    ]
    path.write_bytes(b"\n".join(lines))
    docs, problems = collect(path, max_chars=40)
    assert [d.id for d in docs] == ["ok"]
    reasons = " | ".join(f"{where}: {reason}" for where, reason in problems)
    for expected in ("empty: empty text", "notext: missing text field", "missing or empty id", "not valid JSON",
                     "undecodable", "long: text of 50 characters exceeds max_chars=40", "not an object"):
        assert expected in reasons
    with pytest.raises(InputError, match="empty: empty text"):
        list(read_documents(path))


def test_as_document_accepts_three_shapes():
    assert as_document(Document("a", "x")).id == "a"
    assert as_document({"id": 3, "text": "x", "meta": {"k": 1}}) == Document("3", "x", {"k": 1})
    assert as_document(("b", "y")) == Document("b", "y")
    with pytest.raises(InputError, match=r"lacks \['text'\]"):
        as_document({"id": "a"})
    with pytest.raises(InputError, match="give a Document"):
        as_document("just text")
    with pytest.raises(InputError, match="not usable"):
        as_document(("", "text"))
