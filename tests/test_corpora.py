"""Readers of the shared corpora, on the real files (small samples), and the split rules."""

from itertools import islice

import pytest

from detector.errors import InputError
from training import corpora


def test_bbc_articles_have_title_and_paragraphs(shared_dir):
    first = next(corpora.read_bbc(shared_dir))
    assert first.id == "bbc:business/001"
    assert first.title == "Ad sales boost Time Warner profit"
    assert first.text.startswith("Quarterly profits at US media giant TimeWarner")
    assert "\n\n" in first.text and not first.held_out


def test_reuters_body_is_unescaped_without_trailer(shared_dir):
    articles = list(islice(corpora.read_reuters(shared_dir, held_out=False), 50))
    assert articles[0].id == "reuters:reut2-000:1"
    assert articles[0].title == "BAHIA COCOA REVIEW"
    assert articles[0].text.startswith("Showers continued throughout the week")
    for article in articles:
        assert "&lt;" not in article.text and "&amp;" not in article.text and "\x03" not in article.text
        assert not article.text.rstrip().lower().endswith("reuter")
    assert any("<" in a.text for a in articles), "entities such as &lt; should be unescaped"


def test_reuters_held_out_files_only_when_asked(shared_dir):
    held_out = next(corpora.read_reuters(shared_dir, held_out=True))
    assert held_out.held_out and held_out.id.startswith("reuters:reut2-016:")


def test_mrpc_sts_twitter_parasci_pairs(shared_dir):
    mrpc = next(corpora.read_mrpc(shared_dir, "train"))
    assert mrpc.is_paraphrase and mrpc.text_a.startswith("Amrozi accused his brother")
    sts = list(islice(corpora.read_sts(shared_dir, "train"), 200))
    assert all(pair.is_paraphrase == (pair.score >= 4) for pair in sts)
    assert all(pair.id.startswith("sts:2012") for pair in sts)
    assert next(corpora.read_sts(shared_dir, "test")).id.startswith("sts:2015")
    tweet = next(corpora.read_twitter_url(shared_dir, "train"))
    assert tweet.domain == "social" and tweet.text_a[0].isupper()
    test_tweet = next(corpora.read_twitter_url(shared_dir, "test"))
    assert test_tweet.is_paraphrase and test_tweet.score == pytest.approx(4 / 6)
    parasci = next(corpora.read_parasci(shared_dir, "train"))
    assert parasci.domain == "science" and " ," not in parasci.text_a and parasci.text_a.endswith(".")


def test_unknown_split_is_named(shared_dir):
    with pytest.raises(InputError, match="unknown split 'dev'"):
        next(corpora.read_mrpc(shared_dir, "dev"))


def test_tortured_phrases_clean_and_halves_split_by_expected(shared_dir):
    phrases = corpora.read_tortured_phrases(shared_dir)
    assert len(phrases) > 3900
    assert all("(" not in p.expected and "[" not in p.expected for p in phrases)
    train, test = corpora.split_tortured_phrases(phrases, seed=0)
    assert 0.4 < len(test) / len(phrases) < 0.6
    assert not {p.expected.lower() for p in train} & {p.expected.lower() for p in test}
    assert corpora.split_tortured_phrases(phrases, seed=0) == (train, test)


def test_detokenize():
    assert corpora.detokenize("the tool , which ( cmu ) uses 5 % of it 's data .") == "The tool, which (cmu) uses 5% of it's data."


def test_assign_split_is_stable_and_checks_fractions():
    assert corpora.assign_split("bbc:tech/001", seed=0) == corpora.assign_split("bbc:tech/001", seed=0)
    shares = [corpora.assign_split(f"a{i}", seed=1) for i in range(2000)]
    assert 0.75 < shares.count("train") / 2000 < 0.85
    with pytest.raises(InputError, match="must be one per split"):
        corpora.assign_split("x", seed=0, fractions=(0.5, 0.5))


def test_missing_shared_folder_is_named(tmp_path):
    with pytest.raises(InputError, match="has no data/ subfolder"):
        corpora.resolve_shared_dir(tmp_path)
