"""Shared fixtures: the real bundled model, loaded once per test session, and assistants over the real
seeds or small synthetic corpora that share it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from askbalkans import Assistant
from askbalkans.config import DEFAULT_MODEL, PROJECT_ROOT
from askbalkans.corpus import Corpus, make_article
from askbalkans.embedding import SentenceTransformerEmbedder, load_embedder

SEEDS = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return load_embedder(DEFAULT_MODEL)  # the one the command line and the page load too


@pytest.fixture(scope="session")
def seeds_assistant(tmp_path_factory, embedder) -> Assistant:
    """An assistant over seeds/, with its index built in a temporary folder."""
    return Assistant(corpus_dir=SEEDS, index_dir=tmp_path_factory.mktemp("index"), embedder=embedder)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of seeds/."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def assistant_over(tmp_path, embedder) -> Callable[..., Assistant]:
    """An assistant over articles given as {doc_id: text}, indexed in a temporary folder."""

    def make(articles: dict[str, str], **options) -> Assistant:
        corpus = Corpus(tuple(make_article(doc_id, text) for doc_id, text in articles.items()))
        return Assistant(
            corpus=corpus, index_dir=tmp_path / f"index-{len(list(tmp_path.iterdir()))}", embedder=embedder, **options
        )

    return make
