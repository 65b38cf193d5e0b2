"""SourceIndex: retrieval of shuffled and spun copies, add, save/load round trips and bad folders."""

import json
import random

import numpy as np
import pytest

from detector.documents import Document
from detector.encoder import SentenceEncoder
from detector.errors import IndexFormatError, InputError
from detector.fingerprint import load_common_words
from detector.index import IndexSettings, SourceIndex, _settings_from
from detector.text import split_sentences


@pytest.fixture(scope="module")
def encoder(tiny_bert_dir):
    return SentenceEncoder.load(tiny_bert_dir)


@pytest.fixture(scope="module")
def seed_index(encoder, seed_texts):
    return SourceIndex.build([{"id": key, "text": text} for key, text in seed_texts.items()], encoder=encoder)


def query(encoder, text):
    sentences = [seg.text for seg in split_sentences(text) if not seg.is_boilerplate]
    return sentences, encoder.encode(sentences)


def test_shuffled_copy_retrieves_its_source_first(encoder, seed_index, seed_texts):
    sentences = [seg.text for seg in split_sentences(seed_texts["003"]) if not seg.is_boilerplate]
    random.Random(0).shuffle(sentences)
    results = seed_index.search(sentences, encoder.encode(sentences), k=3)
    assert results[0][0] == "003" and 0.9 < results[0][1] <= 1.0
    assert len(results) == 3 and results[0][1] >= results[1][1] >= results[2][1]


def test_spun_copy_retrieves_the_wire_text(encoder, seed_texts):
    index = SourceIndex.build([Document(k, t) for k, t in seed_texts.items() if k != "000"], encoder=encoder)
    results = index.search(*query(encoder, seed_texts["000"]), k=4)
    assert results[0][0] in {"003", "004"} and {r[0] for r in results[:2]} == {"003", "004"}


def test_heavy_spinning_is_carried_by_the_immutables(encoder, seed_index, seed_texts):
    """Every common word swapped for another common word; names, numbers and rare words kept."""
    words = sorted(word for word in load_common_words() if len(word) >= 4)
    shuffled = random.Random(0).sample(words, len(words))
    swap = dict(zip(words, shuffled))
    spun = [
        " ".join(swap.get(word, word) for word in seg.text.split())
        for seg in split_sentences(seed_texts["003"])
        if not seg.is_boilerplate
    ]
    results = seed_index.search(spun, encoder.encode(spun), k=3, exclude_ids=["004", "000"])
    assert results[0][0] == "003" and results[0][1] > results[1][1] + 0.2


def test_exclude_ids_leaves_the_suspect_out(encoder, seed_index, seed_texts):
    results = seed_index.search(*query(encoder, seed_texts["000"]), k=5, exclude_ids=["000"])
    assert "000" not in dict(results) and results[0][0] in {"003", "004"}


def test_save_load_round_trip_gives_identical_results(encoder, seed_index, seed_texts, tmp_path):
    seed_index.save(tmp_path / "idx")
    loaded = SourceIndex.load(tmp_path / "idx", encoder=encoder)
    for key in ("000", "002"):
        sentences, embeddings = query(encoder, seed_texts[key])
        assert loaded.search(sentences, embeddings) == seed_index.search(sentences, embeddings)
    original, reloaded = seed_index.source("004"), loaded.source("004")
    assert reloaded.document == original.document and reloaded.segments == original.segments
    np.testing.assert_array_equal(reloaded.embeddings, original.embeddings)
    assert reloaded.embeddings.dtype == np.float32 and len(reloaded.embeddings) == len(reloaded.segments)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["encoder"]["dim"] == encoder.dim
    assert manifest["counts"]["documents"] == 5 and not list(tmp_path.glob(".idx.*"))


def test_add_after_load_and_duplicates(encoder, seed_texts, tmp_path):
    index = SourceIndex.build([("003", seed_texts["003"])], encoder=encoder)
    index.save(tmp_path / "idx")
    index = SourceIndex.load(tmp_path / "idx", encoder=encoder)
    index.add([{"id": "004", "text": seed_texts["004"]}], progress=True)
    assert len(index) == 2 and "004" in index
    with pytest.raises(InputError, match="duplicate document id '004'"):
        index.add([("new", "Fresh text."), ("004", "Again.")])
    assert len(index) == 2 and "new" not in index
    with pytest.raises(InputError, match="not one str"):
        index.add("a text, not documents")
    index.save(tmp_path / "idx")
    assert SourceIndex.load(tmp_path / "idx").ids == ["003", "004"]


def test_stored_vectors_are_those_of_sentences_held_verbatim(encoder, seed_texts):
    index = SourceIndex.build([("003", seed_texts["003"])], encoder=encoder)
    source = index.source("003")
    held = [source.segments[1].text, source.segments[0].text]
    found, vectors = index.stored_vectors([held[0], held[0].lower(), "Not in the index.", held[1]])
    assert found.tolist() == [0, 3] and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, source.embeddings[[1, 0]])
    assert SourceIndex(encoder).stored_vectors(held)[0].size == 0


def test_stored_vectors_see_sources_added_later(encoder, seed_texts):
    index = SourceIndex.build([("003", seed_texts["003"])], encoder=encoder)
    sentence = split_sentences(seed_texts["004"])[2].text
    assert index.stored_vectors([sentence])[0].size == 0
    index.add([("004", seed_texts["004"])])
    assert index.stored_vectors([sentence])[0].tolist() == [0]


def test_ivf_beyond_threshold_round_trips(encoder, seed_texts, tmp_path):
    settings = IndexSettings(ann_threshold=40)
    index = SourceIndex.build([("003", seed_texts["003"])], encoder=encoder, settings=settings)
    index.add([("004", seed_texts["004"])])
    assert type(index._vectors).__name__ == "IndexIVFScalarQuantizer"
    sentences, embeddings = query(encoder, seed_texts["004"])
    assert index.search(sentences, embeddings, k=1)[0][0] == "004"
    index.save(tmp_path / "idx")
    assert SourceIndex.load(tmp_path / "idx").search(sentences, embeddings) == index.search(sentences, embeddings)


def test_ivf_cells_are_redrawn_when_the_index_has_grown_fourfold(encoder):
    import faiss

    def story(i):
        return (f"story-{i}", " ".join(f"Reporter {i} filed line {j} on the harbour strike number {i * 7 + j}." for j in range(5)))

    index = SourceIndex.build([story(0), story(1)], encoder=encoder, settings=IndexSettings(ann_threshold=8))
    first = faiss.extract_index_ivf(index._vectors).nlist
    index.add([story(i) for i in range(2, 5)])
    assert faiss.extract_index_ivf(index._vectors).nlist == first  # 25 vectors: the cells stay
    index.add([story(i) for i in range(5, 40)])
    assert faiss.extract_index_ivf(index._vectors).nlist >= 2 * first
    assert index._vectors.ntotal == 200
    sentences, embeddings = query(encoder, story(33)[1])
    assert index.search(sentences, embeddings, k=1)[0][0] == "story-33"


def test_an_index_saved_with_hnsw_settings_still_loads(saved):
    manifest = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))
    old = {**manifest["settings"], "hnsw_threshold": 1234, "hnsw_m": 16, "ef_construction": 40, "ef_search": 64}
    del old["ann_threshold"], old["ivf_probe"]
    assert _settings_from(old) == IndexSettings(ann_threshold=1234)


def test_search_edge_cases(encoder, seed_index):
    assert seed_index.search([], np.zeros((0, encoder.dim))) == []
    assert SourceIndex(encoder).search(["x"], encoder.encode(["x"])) == []
    with pytest.raises(InputError, match="do not fit 2 sentences"):
        seed_index.search(["a", "b"], encoder.encode(["a"]))
    with pytest.raises(InputError, match="no source with id 'nope'"):
        seed_index.source("nope")


@pytest.fixture()
def saved(seed_index, tmp_path):
    seed_index.save(tmp_path / "idx")
    return tmp_path / "idx"


def test_corrupt_truncated_missing_and_foreign_folders(saved, tmp_path):
    embeddings = saved / "embeddings.npy"
    data = bytearray(embeddings.read_bytes())
    data[-1] ^= 0xFF
    embeddings.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match="embeddings.npy .* sha256 .*spin-detect index build"):
        SourceIndex.load(saved)
    embeddings.write_bytes(bytes(data[:-10]))
    with pytest.raises(IndexFormatError, match="truncated"):
        SourceIndex.load(saved)
    with pytest.raises(IndexFormatError, match="not a folder"):
        SourceIndex.load(tmp_path / "nowhere")
    (saved / "manifest.json").write_text('{"format_version": 1', encoding="utf-8")
    with pytest.raises(IndexFormatError, match="truncated or corrupt"):
        SourceIndex.load(saved)
    (saved / "manifest.json").write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(IndexFormatError, match="foreign"):
        SourceIndex.load(saved)
    (saved / "manifest.json").unlink()
    with pytest.raises(IndexFormatError, match="no manifest.json"):
        SourceIndex.load(saved)


def test_other_format_version_and_missing_file(saved):
    manifest = json.loads((saved / "manifest.json").read_text())
    (saved / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="format version 99 .*reads formats 1, 2"):
        SourceIndex.load(saved)
    (saved / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (saved / "vectors.faiss").unlink()
    with pytest.raises(IndexFormatError, match="lacks vectors.faiss"):
        SourceIndex.load(saved)


def test_save_refuses_foreign_folder_and_keeps_old_index(seed_index, saved, tmp_path):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError, match="refusing to save"):
        seed_index.save(other)
    seed_index.save(saved)
    assert len(SourceIndex.load(saved)) == 5 and sorted(p.name for p in tmp_path.iterdir()) == ["idx", "mine"]


class OtherEncoder:
    """A stand-in encoder of another dimension."""

    name, dim = "other", 8

    def encode(self, sentences, batch_size=64):
        vectors = np.ones((len(sentences), self.dim), dtype=np.float32)
        return vectors / np.sqrt(self.dim)


def test_encoder_mismatch_is_an_error(saved):
    with pytest.raises(InputError, match="built with encoder 'tiny-bert.*dimension 32.*spin-detect index build"):
        SourceIndex.load(saved, encoder=OtherEncoder())


@pytest.mark.shipped
def test_bundled_minilm_finds_the_wire_text_for_the_spun_seed(seed_texts):
    encoder = SentenceEncoder.load()
    index = SourceIndex.build([Document(k, t) for k, t in seed_texts.items() if k != "000"], encoder=encoder)
    results = index.search(*query(encoder, seed_texts["000"]), k=4)
    assert results[0][0] in {"003", "004"} and results[0][1] > 0.5 > results[2][1]


@pytest.mark.shipped
def test_an_int8_copy_of_the_building_encoder_is_no_other_encoder(tmp_path, recwarn):
    """The batch job's int8 encoder warned that the fp32-built index "embeds differently"."""
    SourceIndex.build([("004", "NATO should not admit new members, Russia said.")], encoder=SentenceEncoder.load()).save(tmp_path / "idx")
    SourceIndex.load(tmp_path / "idx", encoder=SentenceEncoder.load().quantize())
    assert not [w for w in recwarn if "embeds differently" in str(w.message)]


def test_names_are_counted_per_source_and_survive_a_save(encoder, tmp_path):
    """Issue 35: the same-story check reads name frequencies and the sources sharing rare names."""
    docs = [
        {"id": "a", "text": "Finance Minister Kwame Odhiambo met Texaco in Nairobi."},
        {"id": "b", "text": "A spokesman for Texaco said Odhiambo had agreed the Nairobi deal."},
        {"id": "c", "text": "Shares of Texaco rose on higher profits."},
    ]
    index = SourceIndex.build(docs, encoder=encoder)
    assert index.name_frequency("texaco") == 3 and index.name_frequency("odhiambo") == 2 and index.name_frequency("x") == 0
    assert index.sources_naming(["odhiambo", "nairobi", "texaco"], min_shared=2) == [("a", 3), ("b", 3)]
    assert index.sources_naming(["odhiambo", "nairobi"], min_shared=2, exclude_ids=["a"]) == [("b", 2)]
    index.save(tmp_path / "idx")
    loaded = SourceIndex.load(tmp_path / "idx", encoder=encoder)
    assert loaded.name_frequency("texaco") == 3
    loaded.add([{"id": "d", "text": "Then Odhiambo spoke."}])
    assert loaded.name_frequency("odhiambo") == 3


def test_an_index_saved_before_names_were_counted_reads_them_from_its_text(encoder, tmp_path):
    index = SourceIndex.build([{"id": "a", "text": "Minister Odhiambo met Texaco."}, {"id": "b", "text": "Shares of Texaco grew."}], encoder=encoder)
    index.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    del manifest["files"]["names.parquet"], manifest["checksum"]
    (tmp_path / "idx" / "names.parquet").unlink()
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}), encoding="utf-8")
    with pytest.warns(UserWarning, match="format 1, whose manifest carries no checksum"):
        loaded = SourceIndex.load(tmp_path / "idx", encoder=encoder)
    assert loaded.name_frequency("texaco") == 2
    loaded.add([{"id": "c", "text": "Then Texaco fell."}])
    assert loaded.name_frequency("texaco") == 3 and len(loaded._source_names()) == 3  # the new source counted once


def test_the_index_counts_the_sources_writing_a_word_lower_case_issue_35(encoder, tmp_path):
    """`detector.story.common_word_test` tells "Cocoa" in a title from a name by these counts."""
    docs = [{"id": "a", "text": "Shares of Cocoa Merchants rose. The cocoa crop is late."},
            {"id": "b", "text": "Traders said cocoa and coffee fell. Mr Odhiambo agreed."}]
    index = SourceIndex.build(docs, encoder=encoder)
    assert index.lowercase_frequency("cocoa") == 2 and index.name_frequency("cocoa") == 1
    assert index.lowercase_frequency("odhiambo") == 0 and index.lowercase_frequency("merchants") == 0
    index.save(tmp_path / "idx")
    loaded = SourceIndex.load(tmp_path / "idx", encoder=encoder)
    assert loaded.lowercase_frequency("cocoa") == 2
    loaded.add([{"id": "c", "text": "Then the cocoa board met."}])
    assert loaded.lowercase_frequency("cocoa") == 3
    loaded.remove(["a", "c"])
    assert loaded.lowercase_frequency("cocoa") == 1 and loaded.lowercase_frequency("crop") == 0


def test_remove_reads_only_the_dropped_sources_text(encoder, monkeypatch):
    """Issue 38 leftover: every DELETE read the names and lower-case words of all kept sources again
    (2 s on 1,846 sources); now only the dropped sources' text is read, and the counts stay right."""
    import detector.index as index_module

    people = ["Odhiambo", "Kariuki", "Wanjiru", "Otieno", "Njoroge", "Chebet"]
    docs = [{"id": str(i), "text": f"Mr {person} said the cocoa crop of Texaco is late."} for i, person in enumerate(people)]
    index = SourceIndex.build(docs, encoder=encoder)
    read = []
    for name in ("source_names", "source_lowercase_words"):
        original = getattr(index_module, name)
        monkeypatch.setattr(index_module, name, lambda sentences, _f=original: read.append(1) or _f(sentences))
    index.remove(["0", "1"])
    assert len(read) == 2  # the two dropped sources' lower-case words; names are kept per source
    assert index.lowercase_frequency("cocoa") == 4 and index.name_frequency("texaco") == 4
    assert index.name_frequency("odhiambo") == 0 and index.name_frequency("chebet") == 1


def test_an_index_saved_before_lower_case_words_were_counted_reads_them_from_its_text_issue_35(encoder, tmp_path):
    from detector.index import _manifest_checksum

    index = SourceIndex.build([{"id": "a", "text": "The cocoa crop is late."}], encoder=encoder)
    index.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    del manifest["files"]["lowercase.parquet"]
    (tmp_path / "idx" / "lowercase.parquet").unlink()
    manifest["checksum"] = _manifest_checksum({key: value for key, value in manifest.items() if key != "checksum"})
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    loaded = SourceIndex.load(tmp_path / "idx", encoder=encoder)
    loaded.add([{"id": "b", "text": "Then the cocoa board met."}])
    assert loaded.lowercase_frequency("cocoa") == 2  # the new source counted once


def test_a_format_1_index_with_hnsw_vectors_loads_with_a_warning_and_finds_the_same_sources(encoder, seed_index, tmp_path):
    """Issue 36: format 1 stored its vectors as HNSW (before the IVF switch); format 2 still reads such a folder."""
    import faiss

    from detector.checksum import file_sha256

    folder = tmp_path / "idx"
    seed_index.save(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    vectors = np.asarray(np.load(folder / "embeddings.npy")[np.load(folder / "vector_rows.npy")], dtype=np.float32)
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(vectors)
    faiss.write_index(hnsw, str(folder / "vectors.faiss"))
    (folder / "names.parquet").unlink()
    settings = {**manifest["settings"], "hnsw_threshold": 1, "hnsw_m": 16, "ef_construction": 40, "ef_search": 64}
    del settings["ann_threshold"], settings["ivf_probe"], manifest["checksum"], manifest["files"]["names.parquet"]
    files = {**manifest["files"], "vectors.faiss": {"bytes": (folder / "vectors.faiss").stat().st_size, "sha256": file_sha256(folder / "vectors.faiss")}}
    old = {**manifest, "format_version": 1, "settings": settings, "vector_index": "IndexHNSWFlat", "files": files}
    (folder / "manifest.json").write_text(json.dumps(old), encoding="utf-8")
    with pytest.warns(UserWarning, match="format 1, whose manifest carries no checksum"):
        loaded = SourceIndex.load(folder, encoder=encoder)
    assert isinstance(loaded._vectors, faiss.IndexHNSW) and loaded.settings.ann_threshold == 1
    sentences, embeddings = query(encoder, seed_index.source("003").document.text)
    assert loaded.search(sentences, embeddings, k=2)[0][0] == seed_index.search(sentences, embeddings, k=2)[0][0] == "003"


def test_edited_manifest_settings_and_a_missing_file_list_are_refused(saved):
    """Issue 39: the manifest had no checksum of its own, and without `files` nothing was checked."""
    manifest = json.loads((saved / "manifest.json").read_text())
    (saved / "manifest.json").write_text(json.dumps({**manifest, "settings": {**manifest["settings"], "dense_weight": 0.9}}), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="fails its checksum: its settings, counts or file list were edited"):
        SourceIndex.load(saved)
    del manifest["files"]
    (saved / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="lists no files"):
        SourceIndex.load(saved)


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"neighbours": 0}, "neighbours=0 must be a whole number >= 1"), ({"dense_weight": 1.5}, r"dense_weight=1.5 must be a number in \[0, 1\]"),
     ({"batch_size": True}, "batch_size=True"), ({"dense_floor": 1.0}, "floor must be under 1")],
)
def test_index_settings_out_of_range_are_refused(settings, message):
    """Issue 39: neighbours=0 raised an AssertionError deep in FAISS."""
    with pytest.raises(InputError, match=message):
        IndexSettings(**settings)


def test_stale_staging_folders_are_removed_and_live_ones_kept(seed_index, saved):
    import os

    dead, live = saved.parent / f".{saved.name}.tmp-1a2b3c4d", saved.parent / f".{saved.name}.tmp-{os.getppid()}-00000000"
    dead.mkdir(), live.mkdir()
    seed_index.save(saved)
    assert not dead.exists() and live.exists()


def test_build_refuses_none_with_one_line(encoder):
    """Issue 39: SourceIndex.build(None) raised a TypeError."""
    with pytest.raises(InputError, match="must be an iterable, not NoneType"):
        SourceIndex.build(None, encoder=encoder)


def test_remove_drops_sources_all_or_nothing_and_survives_a_save(encoder, seed_texts, tmp_path):
    """Issue 38: DELETE /v1/sources/{id} removes a source without encoding the others again."""
    index = SourceIndex.build([{"id": key, "text": text} for key, text in seed_texts.items()], encoder=encoder)
    index.save(tmp_path / "idx")
    index = SourceIndex.load(tmp_path / "idx", encoder=encoder)
    kept = index.source("004")
    with pytest.raises(InputError, match="no source with id 'nope'.*nothing removed"):
        index.remove(["003", "nope"])
    with pytest.raises(InputError, match="wrap one id as"):
        index.remove("003")
    assert len(index) == 5
    index.remove(["003", "000"])
    assert index.ids == ["001", "002", "004"] and "003" not in index
    np.testing.assert_array_equal(index.source("004").embeddings, kept.embeddings)
    sentences, embeddings = query(encoder, seed_texts["003"])
    assert "003" not in dict(index.search(sentences, embeddings, k=5))
    index.save(tmp_path / "idx")
    reloaded = SourceIndex.load(tmp_path / "idx", encoder=encoder)
    assert reloaded.ids == index.ids and reloaded.search(sentences, embeddings) == index.search(sentences, embeddings)
    reloaded.remove(reloaded.ids)
    assert len(reloaded) == 0 and reloaded.search(sentences, embeddings) == []
