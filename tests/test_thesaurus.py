"""Thesaurus readers on real extracts, the merged Thesaurus and its cache, and the shipped SynonymTable."""

import json
import time

import pytest

from detector.errors import InputError
from detector.thesaurus import DATA_DIR, SynonymTable
from training.build_synonym_table import restrict_edges, seed_coverage, thesaurus_edges
from training.thesauri import (
    Thesaurus,
    load_thesaurus,
    read_mythes,
    read_ppdb,
    read_wordnet,
    read_wordnet_exceptions,
)

MYTHES_EXTRACT = """UTF-8
role|4
(noun)|function|office|part|duty (generic term)
(noun)|character|theatrical role|part|persona|portrayal (generic term)|characterization (generic term)
(noun)|function|purpose|use|utility (generic term)|usefulness (generic term)
(noun)|activity (generic term)
security|2
(noun)|safety (generic term)|insecurity (antonym)
(noun)|security department|department (generic term)|section (generic term)
"""
WORDNET_VERB = (
    "  1 This software and database is being provided to you, the LICENSEE, by Princeton University\n"
    "00817329 32 v 02 admit 0 acknowledge 0 013 @ 00822385 v 0000 + 01272609 a 0201 | declare to be true\n"
    "02236642 40 v 04 accept 3 admit 0 take 7 take_on 0 003 @ 02236142 v 0000 ~ 00888675 v 0000 | admit into a group\n"
)
WORDNET_NOUN = (
    "08199025 14 n 05 military 0 armed_forces 0 armed_services 0 military_machine 0 war_machine 0 000 | the military forces\n"
    "08839092 15 n 02 Russia 0 Russian_Federation 0 000 | a country\n"
)
WORDNET_ADJ = "02402440 00 s 02 big(a) 0 heavy(a) 2 001 & 02402269 a 0000 | prodigious\n"
PPDB_EXTRACT = "connection\trelationship\nacknowledged\tconceded\n102,70\t102.70\nbroken line\n"


@pytest.fixture()
def wordnet_dir(tmp_path):
    for name, text in {
        "data.verb": WORDNET_VERB,
        "data.noun": WORDNET_NOUN,
        "data.adj": WORDNET_ADJ,
        "data.adv": "",
    }.items():
        (tmp_path / name).write_text(text)
    for name, text in {"verb.exc": "swore swear\n", "noun.exc": "geese goose\n", "adj.exc": "", "adv.exc": ""}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_read_mythes_keeps_senses_and_relations_drops_antonyms(tmp_path):
    path = tmp_path / "th.dat"
    path.write_text(MYTHES_EXTRACT)
    entries = list(read_mythes(path))
    assert ("role", "function", "noun", "synonym") in entries
    assert ("role", "duty", "noun", "broader") in entries
    assert ("security", "safety", "noun", "broader") in entries
    assert not any("insecurity" in synonym for _, synonym, _, _ in entries)
    assert len(entries) == 20


def test_read_wordnet_synsets_and_exceptions(wordnet_dir):
    synsets = list(read_wordnet(wordnet_dir))
    assert (["admit", "acknowledge"], "verb") in synsets
    assert (["accept", "admit", "take", "take on"], "verb") in synsets
    assert (["military", "armed forces", "armed services", "military machine", "war machine"], "noun") in synsets
    assert (["big", "heavy"], "adj") in synsets
    assert read_wordnet_exceptions(wordnet_dir) == {"swore": ("swear",), "geese": ("goose",)}


def test_read_ppdb_pairs(tmp_path):
    path = tmp_path / "ppdb.pairs"
    path.write_text(PPDB_EXTRACT)
    assert list(read_ppdb(path)) == [("connection", "relationship"), ("acknowledged", "conceded"), ("102,70", "102.70")]


def test_thesaurus_is_symmetric_tagged_and_filtered():
    th = Thesaurus()
    th.add("security", "safety", "mythes", "noun", "broader")
    th.add("security", "safety", "ppdb")
    th.add("Russia", "Russian Federation", "wordnet", "noun")
    th.add("102,70", "102.70", "ppdb")
    [safety] = th.synonyms("Security")
    assert safety.text == "safety" and safety.sources == ("mythes", "ppdb") and safety.pos == ("noun",)
    assert set(safety.relations) == {"synonym", "broader"}
    assert th.synonyms("safety")[0].relations == ("synonym", "narrower")
    assert th.synonyms("safety", relations=["broader"]) == []
    assert th.synonyms("security", sources=["wordnet"]) == []
    assert th.synonyms("security", pos="verb") == []
    assert "russia" not in th and "102,70" not in th  # names and numbers never become swaps
    assert len(th) == 2
    with pytest.raises(InputError, match="roget"):
        th.synonyms("security", sources=["roget"])


def test_save_and_load_round_trip(tmp_path):
    th = Thesaurus()
    th.add("admit", "confess", "mythes", "verb")
    th.add("armed forces", "military", "wordnet", "noun")
    th.irregular = {"swore": ("swear",)}
    th.save(tmp_path / "th.npz")
    loaded = Thesaurus.load(tmp_path / "th.npz")
    assert sorted(loaded.pairs()) == sorted(th.pairs())
    assert loaded.irregular == th.irregular and loaded.loaded_sources == th.loaded_sources
    loaded.add("admit", "concede", "ppdb")
    assert {s.text for s in loaded.synonyms("admit")} == {"confess", "concede"}


def test_load_thesaurus_subset_and_cache(shared_dir, tmp_path):
    started = time.perf_counter()
    wordnet = load_thesaurus(shared_dir, sources=("wordnet",), cache_dir=tmp_path)
    parse_seconds = time.perf_counter() - started
    assert wordnet.loaded_sources == ("wordnet",)
    assert {"confess", "acknowledge"} & {s.text for s in wordnet.synonyms("admit")}
    assert "armed forces" in {s.text for s in wordnet.synonyms("military")}
    assert wordnet.irregular["swore"] == ("swear",)
    started = time.perf_counter()
    cached = load_thesaurus(shared_dir, sources=("wordnet",), cache_dir=tmp_path)
    assert time.perf_counter() - started < max(1.0, parse_seconds)
    assert len(cached) == len(wordnet)


@pytest.mark.slow
def test_full_thesaurus_has_the_seed_swaps(shared_dir):
    th = load_thesaurus(shared_dir)
    for a, b in [("admit", "confess"), ("member", "participant"), ("military", "armed forces"), ("security", "safety")]:
        assert b in {s.text for s in th.synonyms(a)}


# --- the shipped SynonymTable ---------------------------------------------------------------------

BRIEF_PAIRS = [
    ("admit", "confess"),
    ("members", "participants"),
    ("relationship", "connection"),
    ("military", "armed forces"),
    ("role", "function"),
    ("security", "safety"),
    ("relationship", "relation"),
    ("backing", "moving"),
]


@pytest.fixture(scope="module")
def shipped_table():
    return SynonymTable.load()


def test_shipped_table_loads_fast_and_is_compact(shipped_table):
    started = time.perf_counter()
    SynonymTable.load()
    assert time.perf_counter() - started < 2.0
    assert sum(path.stat().st_size for path in DATA_DIR.glob("synonyms.*")) < 15 * 2**20
    manifest = json.loads((DATA_DIR / "synonyms.json").read_text())
    assert manifest["sources"] == ["mythes", "wordnet", "ppdb"] and set(manifest["licences"]) == set(
        manifest["sources"]
    )
    assert len(shipped_table) == manifest["counts"]["terms"] > 50_000


@pytest.mark.parametrize(("a", "b"), BRIEF_PAIRS)
def test_shipped_table_knows_the_seed_swaps(shipped_table, a, b):
    assert shipped_table.are_neighbours(a, b) and shipped_table.are_neighbours(b, a)
    assert shipped_table.sources(a, b)


def test_shipped_table_inflections_phrases_and_misses(shipped_table):
    assert shipped_table.are_neighbours("Admitted", "confessed")
    assert shipped_table.are_neighbours("vowed", "sworn")
    assert shipped_table.are_neighbours("armed forces", "militaries")
    assert not shipped_table.are_neighbours("admit", "banana")
    assert not shipped_table.are_neighbours("Putin", "Xi")
    assert "participant" in shipped_table.neighbours("members")
    assert shipped_table.neighbours("qwertyuiop") == frozenset()
    assert shipped_table.sources("relationship", "connection") == ("ppdb",)
    assert shipped_table.sources("security", "safety") == ("mythes", "ppdb")


def test_seed_coverage_of_shipped_table(shipped_table):
    coverage, missing = seed_coverage(shipped_table)
    assert coverage >= 0.65, missing


def test_from_pairs_lemmatises_and_tags_sources(tmp_path):
    table = SynonymTable.from_pairs([("acknowledged", "conceded", "ppdb"), ("military", "armed forces", "wordnet")])
    assert table.are_neighbours("acknowledges", "concede") and table.sources("acknowledge", "conceded") == ("ppdb",)
    assert table.are_neighbours("the armed forces", "military") is False  # phrases are matched whole
    assert table.neighbours("militaries") == frozenset({"armed forces"})
    table.save(tmp_path, {"licences": {}})
    reloaded = SynonymTable.load(tmp_path)
    assert reloaded.terms == table.terms and reloaded.sources("military", "armed forces") == ("wordnet",)


def test_load_errors_say_how_to_rebuild(tmp_path):
    with pytest.raises(InputError, match="build_synonym_table"):
        SynonymTable.load(tmp_path)
    (tmp_path / "synonyms.json").write_text(json.dumps({"format": "spin-detector-synonyms", "format_version": 99}))
    with pytest.raises(InputError, match="version 99"):
        SynonymTable.load(tmp_path)


def test_table_edges_are_lemmatised_and_restricted_to_the_vocabulary():
    th = Thesaurus()
    th.add("acknowledged", "conceded", "ppdb")
    th.add("military", "armed forces", "wordnet", "noun")
    th.add("anaclisis", "relationship", "mythes", "noun", "narrower")
    th.add("anaclisis", "attachment", "mythes", "noun")
    edges = thesaurus_edges(th, ("mythes", "wordnet", "ppdb"))
    assert edges[("acknowledge", "concede")] == 0b100
    assert edges[("armed forces", "military")] == 0b010
    kept = restrict_edges(edges, {"relationship", "armed", "forces"})
    assert set(kept) == {("anaclisis", "relationship"), ("armed forces", "military")}
