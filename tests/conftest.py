"""Shared fixtures: the real bundled model, loaded once per test session, and assistants over the real
seeds or small synthetic corpora that share it."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from askbalkans import Assistant, Settings
from askbalkans.config import DEFAULT_MODEL, PROJECT_ROOT
from askbalkans.corpus import Corpus, make_article
from askbalkans.embedding import SentenceTransformerEmbedder, load_embedder

SEEDS = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return load_embedder(DEFAULT_MODEL)  # the one the command line and the page load too


@pytest.fixture(scope="session")
def tagger():
    from askbalkans.tagging import load_tagger

    return load_tagger()


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


@pytest.fixture
def small_settings(tmp_path) -> Settings:
    """Two short articles: for what does not depend on the seeds, at a fraction of their indexing time."""
    corpus = tmp_path / "small"
    corpus.mkdir()
    (corpus / "kfor.txt").write_text("KFOR in 2025\n\nAbout 4,600 troops serve in KFOR. Italy sends the most.\n")
    (corpus / "envoy.txt").write_text("A new envoy\n\nPeter Sorensen visited Pristina. He also visited Belgrade.\n")
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")


@contextmanager
def served_page(factory: Callable[[], Assistant], settings: Settings | None = None) -> Iterator[str]:
    """The chat page, served on a free loopback port as `askbalkans serve` serves it (the same app, the
    same middleware, `settings`' serving limits), over the assistant `factory` makes; yields its URL."""
    import uvicorn

    from askbalkans.server import AssistantLoader, create_app, free_port

    port = free_port()
    app = create_app(AssistantLoader(factory), "127.0.0.1", port, settings=settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def documents(tmp_path_factory) -> dict[str, Path]:
    """A news page, a two-column PDF, a scanned PDF and a Word document (tests/documents.py), by name."""
    from documents import make_documents

    return make_documents(tmp_path_factory.mktemp("documents"))


@pytest.fixture(scope="session")
def mixed_corpus(tmp_path_factory, documents) -> Path:
    """The seeds, with the news page, the PDFs and the Word document beside them."""
    folder = tmp_path_factory.mktemp("mixed") / "corpus"
    shutil.copytree(SEEDS, folder)
    for path in documents.values():
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def mixed_assistant(tmp_path_factory, mixed_corpus, embedder) -> Assistant:
    return Assistant(corpus_dir=mixed_corpus, index_dir=tmp_path_factory.mktemp("mixed-index"), embedder=embedder)


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory) -> Iterator[str]:
    """A Milvus server for the tests: `ASKBALKANS_MILVUS_URI` when set (a real Milvus >= 2.5), else
    Milvus Lite's server started here as a real process on a free loopback port, and stopped (its whole
    process group) at the end of the session."""
    import os

    from askbalkans.stores.milvus_lite import MilvusLiteServer

    if os.environ.get("ASKBALKANS_MILVUS_URI"):
        yield os.environ["ASKBALKANS_MILVUS_URI"]
        return
    with MilvusLiteServer(tmp_path_factory.mktemp("milvus")) as uri:
        yield uri
