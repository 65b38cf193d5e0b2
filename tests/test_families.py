"""Substitution families (training.families) and the leave-one-family-out evaluation set (training.build_family_eval)."""

import json
from collections import defaultdict
from dataclasses import asdict

import pytest

from detector.errors import InputError
from detector.text import words
from training.build_dataset import news_split
from training.build_eval_articles import held_out_news, paraphrases_by_corpus
from training.build_family_eval import (
    KINDS,
    EvalMaterial,
    PairMaterial,
    build_family_eval,
    load_pair_material,
    swap_share,
)
from training.corpora import read_mrpc, read_parasci, read_sts, read_tortured_phrases, split_tortured_phrases
from training.families import (
    FAMILIES,
    classifier_for,
    embedding_neighbours,
    family_spinner,
    family_thesaurus,
    held_out_sources,
)
from training.spinner import STOP_WORDS, Spinner, SpunSentence
from training.thesauri import FAMILY_SOURCES, Thesaurus

TRUTH = {"spun_light": {"spun"}, "spun_heavy": {"spun"}, "copy": {"copy"}, "rewrite": {"paraphrased"},
         "human_paraphrase": {"paraphrased"}, "absent_same_topic": {"original"}, "related": {"related"},
         "partial_reuse": {"copy", "spun"}, "stitched": {"copy", "spun"}}
NEWS_SWAPS = {  # a few swaps per word family, enough for every held-out news article
    "mythes": [("said", "stated"), ("company", "firm"), ("year", "twelvemonth"), ("market", "marketplace")],
    "wordnet": [("said", "declared"), ("pct", "percent"), ("share", "portion"), ("price", "cost")],
    "ppdb": [("said", "indicated"), ("company", "enterprise"), ("bank", "depository"), ("year", "annum")],
    "embedding": [("said", "told"), ("pct", "percentage"), ("market", "trading"), ("government", "administration")],
}
TORTURED_SWAPS = [("dataset", "informational index"), ("machine translation", "contraption translation"),
                  ("neural network", "mind local area"), ("clustering", "bunching"), ("kernel", "bit")]


def test_family_roles_and_bad_names():
    assert held_out_sources("wordnet") == ("mythes", "ppdb")
    assert held_out_sources("embedding") == held_out_sources("tortured") == ("mythes", "wordnet", "ppdb")
    assert [classifier_for(f) for f in FAMILIES] == ["loto/mythes", "loto/wordnet", "loto/ppdb", "shipped", "shipped"]
    with pytest.raises(InputError, match="'roget'.*mythes, wordnet, ppdb, embedding, tortured"):
        classifier_for("roget")


def test_thesaurus_holds_the_family_sources_in_its_bits(tmp_path):
    th = Thesaurus()
    th.add("car", "automobile", "embedding")
    th.add("dataset", "informational index", "pps", "noun", "broader")
    th.add("car", "automobile", "mythes", "noun")
    th.save(tmp_path / "th.npz")
    loaded = Thesaurus.load(tmp_path / "th.npz")
    [car] = loaded.synonyms("car")
    assert car.sources == ("mythes", "embedding") and car.pos == ("noun",) and car.relations == ("synonym",)
    assert [s.relations for s in loaded.synonyms("informational index", sources="pps")] == [("narrower",)]
    assert loaded.synonyms("dataset", pos="noun")[0].sources == ("pps",)
    assert Spinner(loaded, sources=("embedding",)).sources == ("embedding",)
    with pytest.raises(InputError, match="sources="):
        Spinner(loaded, sources=("roget",))
    assert FAMILY_SOURCES[-2:] == ("embedding", "pps")


def test_embedding_neighbours_are_context_free_and_never_the_word():
    found = embedding_neighbours(queries=["car", "doctor", "said", "running", "xyzzy"])
    assert set(found) == {"car", "doctor", "said", "running"}
    assert {"vehicle", "automobile"} <= set(found["car"]) and "physician" in found["doctor"] and "told" in found["said"]
    for word, others in found.items():
        assert len(others) == 5 and word not in others
        assert not {"run", "runs", "ran"} & set(others) and not set(others) & STOP_WORDS


def test_tortured_family_uses_only_the_test_half(shared_dir):
    train, test = split_tortured_phrases(read_tortured_phrases(shared_dir), seed=0)
    thesaurus = family_thesaurus("tortured", shared_dir)
    test_pairs = {(p.expected.lower(), p.tortured.lower()) for p in test}
    written = {(term, other) for term, other, _ in thesaurus.pairs(relations=("broader",))}
    assert written and written <= test_pairs
    assert not any(p.tortured.lower() in [s.text for s in thesaurus.synonyms(p.expected)] for p in train)
    spun = family_spinner("tortured", shared_dir).spin("We train a neural network on the dataset and report results.", rate=1.0)
    assert all((a.lower(), b.lower()) in test_pairs for a, b in spun.swaps) and spun.swaps


def test_family_spinner_swaps_only_family_entries(shared_dir):
    spinner = family_spinner("tortured", shared_dir)
    assert spinner.fillers is False and spinner.sources == ("pps",)
    sentence = "But if the dataset is large and the results have improved, we also use clustering on an informational index."
    spun = spinner.spin(sentence, rate=1.0)
    assert spun.text.startswith("But if the ") and " and the results have improved, we also use " in spun.text
    assert {a for a, _ in spun.swaps} == {"dataset", "clustering"}  # a tortured phrase is never repaired


def test_swap_share_counts_changed_content_words():
    spun = [SpunSentence("The contraption translation of the informational index.", [], [("machine translation", "contraption translation"), ("dataset", "informational index")], 1.0)]
    assert swap_share(spun, "The machine translation of the dataset.") == round(2 / 3, 4)
    assert swap_share([], "The dataset.") == 0.0


def _spinners() -> dict[str, Spinner]:
    spinners = {}
    for family, swaps in {**NEWS_SWAPS, "tortured": TORTURED_SWAPS}.items():
        thesaurus = Thesaurus()
        relation = "broader" if family == "tortured" else "synonym"
        thesaurus.add_many(((a, b, None, relation) for a, b in swaps), "pps" if family == "tortured" else family)
        spinners[family] = Spinner(thesaurus, seed=0, fillers=False)
    return spinners


@pytest.fixture(scope="module")
def material(shared_dir):
    """Real held-out news and test paraphrases; training sentences and pairs for the relation pairs."""
    news = held_out_news(shared_dir)
    science = list(dict.fromkeys(p.text_a for p in read_parasci(shared_dir, "test")))[:1500]
    evaluation = EvalMaterial(news, paraphrases_by_corpus(shared_dir), science)
    train_science = [(p.id, p.text_a) for p in read_parasci(shared_dir, "train")][:600]
    said = [p.text_a for p in read_mrpc(shared_dir, "train") if " said" in p.text_a]  # every tiny thesaurus knows "said"
    train_news = [(f"train:{n // 6}", s) for n, s in enumerate(said[:300])]
    paraphrases = [*list(read_mrpc(shared_dir, "train"))[:40], *list(read_sts(shared_dir, "train"))[:40]]
    return evaluation, PairMaterial(train_news, train_science, [p for p in paraphrases if p.is_paraphrase])


@pytest.fixture(scope="module")
def built(material):
    return build_family_eval(*material, _spinners(), per_kind=3, pairs_per_family=12, distractors=10, seed=0, log=lambda _: None)


def test_builder_makes_every_kind_with_its_truth_and_sources(built, material):
    sources = {doc.id: doc for doc in built.sources}
    kinds = {s.kind for s in built.suspects}
    assert kinds == set(KINDS)
    for s in built.suspects:
        assert s.truth in TRUTH[s.kind], s.id
        assert all(i in sources for i in s.source_ids), s.id
        assert (s.truth == "spun") == (s.family is not None) == bool(s.swap_share), s.id
        wanted = {"absent_same_topic": (0,), "stitched": (2, 3)}.get(s.kind, (1,))
        assert len(s.source_ids) in wanted and s.split == "test", s.id
    absent = [s for s in built.suspects if s.kind == "absent_same_topic"]
    assert not any(a.text == doc.text for a in absent for doc in built.sources)
    related = [s for s in built.suspects if s.kind == "related"]
    assert not any(r.text == doc.text for r in related for doc in built.sources)


def test_families_spin_the_same_sources_and_light_is_lighter(built):
    spun = [s for s in built.suspects if s.kind.startswith("spun_")]
    assert {s.family for s in spun} == set(FAMILIES)
    sources = defaultdict(list)
    for s in spun:
        sources[s.family, s.kind].append(s.source_ids[0])
    for kind in ("spun_light", "spun_heavy"):
        assert sources["mythes", kind] == sources["wordnet", kind] == sources["ppdb", kind] == sources["embedding", kind]
    assert not set(sources["mythes", "spun_light"]) & set(sources["mythes", "spun_heavy"])
    assert all(i.startswith("science-article:") for s in spun if s.family == "tortured" for i in s.source_ids)
    tortured_rates = {kind: [s.rate for s in spun if s.family == "tortured" and s.kind == kind] for kind in ("spun_light", "spun_heavy")}
    assert max(tortured_rates["spun_light"]) <= 0.4 < min(tortured_rates["spun_heavy"])  # a quarter to a third of the sentences
    assert all(0 < s.swap_share <= 0.2 for s in spun if s.kind == "spun_light")  # the tiny thesauri cannot reach the heavy band


def test_relation_pairs_cover_every_family_and_relation(built):
    counts = {}
    for pair in built.pairs:
        counts[pair.relation, pair.family] = counts.get((pair.relation, pair.family), 0) + 1
        if pair.relation == "spun":
            assert pair.suspect != pair.source
    assert all(counts["spun", family] == 12 for family in FAMILIES)
    assert counts["copy", None] == counts["unrelated", None] == 12 and counts["paraphrase", None] > 0
    assert {p.variant for p in built.pairs if p.relation == "unrelated"} == {"random", "hard_tfidf"}
    assert {p.rate for p in built.pairs if p.family == "tortured"} == {1.0}


def test_build_is_reproducible_and_saves(built, material, tmp_path):
    again = build_family_eval(*material, _spinners(), per_kind=3, pairs_per_family=12, distractors=10, seed=0, log=lambda _: None)
    assert [asdict(s) for s in again.suspects] == [asdict(s) for s in built.suspects]
    assert again.pairs == built.pairs and [d.id for d in again.sources] == [d.id for d in built.sources]
    folder = built.save(tmp_path)
    card = json.loads((folder / "card.json").read_text())
    assert card["suspects"]["spun_light"] == {family: 3 for family in FAMILIES}
    assert set(card["mean_swap_share"]) == set(FAMILIES)
    rows = [json.loads(line) for line in (folder / "suspects.jsonl").read_text().splitlines()]
    assert set(rows[0]) == {"id", "text", "kind", "family", "truth", "source_ids", "variant", "rate", "swap_share", "split"}


def test_too_many_suspects_are_refused(material):
    with pytest.raises(InputError, match="per_kind=5000"):
        build_family_eval(*material, _spinners(), per_kind=5000, pairs_per_family=2, log=lambda _: None)


def test_pair_material_comes_from_training_splits_only(shared_dir):
    pair_material = load_pair_material(shared_dir, sentences=50)
    ids = {article_id for article_id, _ in pair_material.news}
    assert len(pair_material.news) >= 50 and all(not i.startswith(("reuters:reut2-016", "reuters:reut2-017", "reuters:reut2-018")) for i in ids)
    from training.corpora import read_news

    splits = {a.id: news_split(a, 0) for a in read_news(shared_dir, held_out=False) if a.id in ids}
    assert set(splits.values()) == {"train"}
    assert all(p.split != "test" for p in pair_material.paraphrases)
    assert all(len(words(s)) > 0 for _, s in pair_material.science[:10])
