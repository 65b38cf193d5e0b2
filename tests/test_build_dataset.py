"""The dataset build on a small copy of the shared corpora: schema, article splits, word labels."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from detector.text import normalise, tokenize
from training import corpora
from training.build_dataset import (
    BuildConfig,
    PhraseFinder,
    build_dataset,
    draw_rate,
    span_word_labels,
    usable_sentence,
)

SCHEMA = {
    "text": pa.string(),
    "label": pa.int8(),
    "word_labels": pa.list_(pa.int8()),
    "kind": pa.string(),
    "domain": pa.string(),
    "rate": pa.float32(),
    "thesaurus": pa.string(),
    "article_id": pa.string(),
}


def _head(source: Path, target: Path, lines: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(encoding="utf-8", errors="replace") as handle:
        target.write_text("".join(line for _, line in zip(range(lines), handle)), encoding="utf-8")


def _reuters_head(source: Path, target: Path, documents: int) -> None:
    text = source.read_text(encoding="latin-1")
    end = 0
    for _ in range(documents):
        end = text.index("</REUTERS>", end) + len("</REUTERS>")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text[:end] + "\n", encoding="latin-1")


@pytest.fixture(scope="module")
def tiny_shared(shared_dir, tmp_path_factory) -> Path:
    """A few files of every corpus in the real formats, and the real thesauri (symlinked)."""
    root = tmp_path_factory.mktemp("shared")
    data, real = root / "data", shared_dir / "data"
    data.mkdir()
    (data / "thesaurus").symlink_to(real / "thesaurus")
    for topic in ("business", "politics", "sport", "tech", "entertainment"):
        for number in range(1, 13):
            _head(real / f"news/bbc/{topic}/{number:03d}.txt", data / f"news/bbc/{topic}/{number:03d}.txt", 1000)
    _reuters_head(real / "news/reuters21578/reut2-000.sgm", data / "news/reuters21578/reut2-000.sgm", 60)
    _reuters_head(real / "news/reuters21578/reut2-016.sgm", data / "news/reuters21578/reut2-016.sgm", 40)
    for name in ("msr_paraphrase_train.txt", "msr_paraphrase_test.txt"):
        _head(real / "paraphrase/mrpc" / name, data / "paraphrase/mrpc" / name, 80)
    _head(real / "paraphrase/sts/2012/MSRpar.train.tsv", data / "paraphrase/sts/2012/MSRpar.train.tsv", 80)
    _head(real / "paraphrase/sts/2016/headlines.test.tsv", data / "paraphrase/sts/2016/headlines.test.tsv", 400)
    for name in ("a.toks", "b.toks", "sim.txt"):
        _head(real / "paraphrase/twitter-url/train" / name, data / "paraphrase/twitter-url/train" / name, 150)
    _head(real / "paraphrase/twitter-url/Twitter_URL_Corpus_testNew.larger.txt", data / "paraphrase/twitter-url/Twitter_URL_Corpus_testNew.larger.txt", 100)
    for subset, parts in (("ACL", ("train", "val", "test")), ("arXiv", ("val", "test"))):
        for part in parts:
            for suffix in ("src", "tgt"):
                path = f"paraphrase/parasci/ParaSCI-{subset}/{part}/{part}.{suffix}"
                _head(real / path, data / path, 150)
    _head(real / "tortured/pps-train.csv", data / "tortured/pps-train.csv", 400)
    return root


@pytest.fixture(scope="module")
def built(tiny_shared, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dataset")
    config = BuildConfig(out=str(out), size=300, seed=0, eval_size=20, num_proc=1, shared=str(tiny_shared))
    return out, build_dataset(config)


def _read(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_splits_have_the_contract_schema(built):
    out, _ = built
    for split in corpora.SPLITS:
        schema = pq.read_schema(out / f"{split}.parquet")
        assert {name: schema.field(name).type for name in schema.names} == SCHEMA
        assert pq.ParquetFile(out / f"{split}.parquet").metadata.row_group(0).column(0).compression == "ZSTD"


def test_no_article_in_two_splits(built):
    out, _ = built
    owners: dict[str, str] = {}
    for split in corpora.SPLITS:
        for row in _read(out / f"{split}.parquet"):
            assert owners.setdefault(row["article_id"], split) == split, row["article_id"]
    held_out = [article_id for article_id in owners if article_id.startswith("reuters:reut2-016")]
    assert held_out and all(owners[article_id] == "test" for article_id in held_out)


def test_word_labels_follow_tokenize(built):
    out, _ = built
    rows = _read(out / "train.parquet")
    assert {row["kind"] for row in rows} >= {"clean", "spun", "paraphrase", "tortured"}
    for row in rows:
        words = [t for t in tokenize(row["text"]) if t.is_word]
        assert len(row["word_labels"]) == len(words), row
        assert row["label"] == int(row["kind"] in ("spun", "tortured"))
        assert any(row["word_labels"]) == bool(row["label"]), row
        if row["kind"] == "spun":
            assert 0.05 <= row["rate"] <= 0.6 and row["thesaurus"] == "mythes+wordnet+ppdb"


def test_tortured_test_half_only_in_test(built, tiny_shared):
    out, _ = built
    _, test_half = corpora.split_tortured_phrases(corpora.read_tortured_phrases(tiny_shared), seed=0)
    held_out = {phrase.tortured.lower() for phrase in test_half}
    seen = 0
    for split in ("train", "validation", "calibration"):
        for row in _read(out / f"{split}.parquet"):
            if row["kind"] == "tortured":
                words = [t for t in tokenize(row["text"]) if t.is_word]
                marked = [t for t, label in zip(words, row["word_labels"]) if label]
                assert row["text"][marked[0].start : marked[-1].end].lower() not in held_out, row["text"]
                seen += 1
    assert seen
    pairs = _read(out / "eval" / "tortured_pairs.parquet")
    by_pair: dict[str, list[int]] = {}
    for row in pairs:
        by_pair.setdefault(row["pair_id"], []).append(row["label"])
    assert pairs and all(sorted(labels) == [0, 1] for labels in by_pair.values())


def test_eval_sets_and_card(built):
    out, card = built
    names = {path.stem for path in (out / "eval").glob("*.parquet")}
    assert names == {"news_spun_20_40", "news_spun_05_10", "news_clean", "paraphrase_human", "tortured_pairs",
                     "news_spun_mythes", "news_spun_wordnet", "news_spun_ppdb"}
    spun = [row for row in _read(out / "eval" / "news_spun_20_40.parquet") if row["label"] == 1]
    assert spun and all(0.2 <= row["rate"] <= 0.4 for row in spun)
    ppdb = _read(out / "eval" / "news_spun_ppdb.parquet")
    assert {row["thesaurus"] for row in ppdb if row["label"]} == {"ppdb"}
    assert {row["label"] for row in _read(out / "eval" / "paraphrase_human.parquet")} == {0}
    saved = json.loads((out / "card.json").read_text())
    assert saved["splits"]["train"]["rows"] == pq.read_metadata(out / "train.parquet").num_rows
    assert saved == card


def test_human_negatives_are_held_out_non_paraphrases(built, tiny_shared):
    out, card = built
    rows = _read(out / "human_negatives.parquet")
    assert rows and card["held_out"]["human_negatives"]["rows"] == len(rows)
    assert {row["label"] for row in rows} == {0} and {row["kind"] for row in rows} == {"human"}
    assert {row["source"] for row in rows} == {"mrpc", "sts"}
    texts = [row["text"] for row in rows]
    assert len(texts) == len(set(texts))
    pairs = [pair for split in ("train", "test") for read in (corpora.read_mrpc, corpora.read_sts)
             for pair in read(str(tiny_shared), split)]
    kept_out = {normalise(text) for pair in pairs if pair.is_paraphrase or pair.split == "test" for text in (pair.text_a, pair.text_b)}
    assert not kept_out & set(texts)
    used = {row["text"] for split in ("train", "validation", "calibration", "test") for row in _read(out / f"{split}.parquet")}
    used |= {row["text"] for path in (out / "eval").glob("*.parquet") for row in _read(path)}
    assert not used & set(texts)


def test_build_is_deterministic(built, tiny_shared, tmp_path):
    out, _ = built
    again = BuildConfig(out=str(tmp_path), size=300, seed=0, eval_size=20, num_proc=1, shared=str(tiny_shared))
    build_dataset(again)
    assert pq.read_table(tmp_path / "train.parquet").equals(pq.read_table(out / "train.parquet"))


def test_a_fresh_draw_changes_only_the_training_split(built, tiny_shared, tmp_path):
    out, _ = built
    build_dataset(BuildConfig(out=str(tmp_path), size=300, seed=0, eval_size=20, num_proc=1, shared=str(tiny_shared), draw=1))
    for split in ("validation", "calibration", "test"):
        assert pq.read_table(tmp_path / f"{split}.parquet").equals(pq.read_table(out / f"{split}.parquet")), split
    for path in sorted((out / "eval").glob("*.parquet")):
        assert pq.read_table(tmp_path / "eval" / path.name).equals(pq.read_table(path)), path.name
    fresh = set(pq.read_table(tmp_path / "train.parquet").column("text").to_pylist())
    standard = set(pq.read_table(out / "train.parquet").column("text").to_pylist())
    assert len(fresh & standard) < 0.8 * len(standard)
    train_articles = {r["article_id"] for r in _read(out / "train.parquet")} | {r["article_id"] for r in _read(tmp_path / "train.parquet")}
    held_out = {r["article_id"] for split in ("validation", "calibration", "test") for r in _read(out / f"{split}.parquet")}
    assert not train_articles & held_out


def test_helpers():
    assert usable_sentence("The firm said on Friday that profits rose sharply.")
    assert not usable_sentence("SHARES OF THE FIRM ROSE SHARPLY ON FRIDAY AFTERNOON.")
    assert not usable_sentence("Too short.")
    text = "We apply principal part examination to the data."
    assert span_word_labels(text, 9, 35) == [0, 0, 1, 1, 1, 0, 0, 0]
    finder = PhraseFinder(["neural network", "neural network model"])
    assert finder.find("A Neural Network model.") == [("neural network", 2, 16), ("neural network model", 2, 22)]
    import random

    rates = [draw_rate(random.Random(i), 0.05, 0.6) for i in range(500)]
    assert min(rates) >= 0.05 and max(rates) <= 0.6 and sum(r < 0.325 for r in rates) > 250


def test_a_spin_that_only_shortens_a_phrase_stays_spun(monkeypatch):
    """ "sovereign immunity" -> "immunity" leaves no word labelled: the row must still count as spun,
    not be spun again or dropped as unchanged."""
    from training import build_dataset as module
    from training.spinner import Spinner
    from training.thesauri import Thesaurus

    thesaurus = Thesaurus()
    thesaurus.add("sovereign immunity", "immunity", "wordnet", "noun")
    monkeypatch.setitem(module._SPINNERS, (None, "wordnet"), Spinner(thesaurus, seed=0, fillers=False))
    row = {"text": ["The state claimed sovereign immunity."], "kind": ["spun"], "rate": [1.0], "thesaurus": ["wordnet"],
           "seed": [0], "span_start": [0], "span_end": [0]}
    out = module._materialise_batch(row, None)
    assert out == {"text": ["The state claimed immunity."], "word_labels": [[0, 0, 0, 0]], "edited": [True]}
