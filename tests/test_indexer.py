"""Index persistence: loaded when it matches, rebuilt (saying why) when it does not."""

from __future__ import annotations

import json
from dataclasses import replace

import bm25s
import pytest

from askbalkans import Assistant, Settings
from askbalkans.corpus import load_corpus
from askbalkans.indexer import MANIFEST, PASSAGE_VECTORS, SENTENCE_VECTORS, STORE, open_index


@pytest.fixture
def settings(corpus_copy, tmp_path) -> Settings:
    return Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index")


def reopen(settings: Settings, embedder):
    return open_index(load_corpus(settings.corpus_dir), settings, embedder, show_progress=False)


def test_index_is_built_once_then_loaded(settings, embedder):
    first = reopen(settings, embedder)
    assert first.rebuilt and "no index" in first.reason
    files = {p.name for p in settings.index_dir.iterdir()}
    assert {MANIFEST, PASSAGE_VECTORS, SENTENCE_VECTORS, STORE, "bm25"} <= files
    assert not [name for name in files if ".tmp-" in name or ".old-" in name]
    manifest = json.loads((settings.index_dir / MANIFEST).read_text())
    assert manifest["settings"]["model"] == settings.model and manifest["dimension"] == 384
    assert set(manifest["articles"]) == {p.stem for p in settings.corpus_dir.glob("*.txt")}
    second = reopen(settings, embedder)
    assert not second.rebuilt
    assert len(second.index.passages) == len(first.index.passages)
    assert second.index.passage_vectors.ntotal == len(first.index.passages)


def test_added_changed_and_removed_articles_rebuild_the_index(settings, embedder):
    reopen(settings, embedder)
    article = settings.corpus_dir / "004_e76711d46be13724.txt"
    article.write_text(article.read_text("utf-8") + "\nThe envoy's next visit is planned for Skopje.\n", "utf-8")
    changed = reopen(settings, embedder)
    assert changed.rebuilt and "changed: 004_e76711d46be13724" in changed.reason

    (settings.corpus_dir / "extra.md").write_text("# Extra\n\nA new bridge opened in Mitrovica in 2031.\n", "utf-8")
    added = reopen(settings, embedder)
    assert added.rebuilt and "added: extra" in added.reason

    (settings.corpus_dir / "000_c156d69eb00ff29e.txt").unlink()
    removed = reopen(settings, embedder)
    assert removed.rebuilt and "removed: 000_c156d69eb00ff29e" in removed.reason
    assert "000_c156d69eb00ff29e" not in removed.index.titles


def test_a_changed_setting_rebuilds_the_index(settings, embedder):
    reopen(settings, embedder)
    smaller = replace(settings, passage_tokens=80)
    opened = open_index(load_corpus(smaller.corpus_dir), smaller, embedder, show_progress=False)
    assert opened.rebuilt and "passage_tokens changed (160 -> 80)" in opened.reason


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda folder: (folder / PASSAGE_VECTORS).write_bytes(b"not a faiss index"), "passages.faiss is corrupt"),
        (lambda folder: (folder / STORE).unlink(), "store.json is missing"),
        (lambda folder: (folder / MANIFEST).write_text("{ truncated"), "manifest is corrupt"),
        (lambda folder: next((folder / "bm25").iterdir()).write_bytes(b"\0"), "is corrupt"),
    ],
)
def test_a_corrupt_or_incomplete_index_is_rebuilt(settings, embedder, damage, reason):
    reopen(settings, embedder)
    damage(settings.index_dir)
    opened = reopen(settings, embedder)
    assert opened.rebuilt and reason in opened.reason
    assert not reopen(settings, embedder).rebuilt


def test_a_crash_while_saving_never_leaves_an_index_that_is_used(settings, embedder, monkeypatch):
    reopen(settings, embedder)
    article = settings.corpus_dir / "003_911e190891696f57.txt"
    article.write_text(article.read_text("utf-8") + "\nRutte will return in 2031.\n", "utf-8")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(bm25s.BM25, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        reopen(settings, embedder)  # new vectors are in place, the BM25 index and manifest are old
    monkeypatch.undo()
    opened = reopen(settings, embedder)
    assert opened.rebuilt
    assert any("2031" in s.text for s in opened.index.sentences)


def test_an_added_article_is_answered_after_the_rebuild(corpus_copy, tmp_path):
    (corpus_copy / "bridge.md").write_text(
        "# Ibar bridge\n\nThe Ibar bridge in Mitrovica reopened to cars on 3 March 2031, officials said.\n", "utf-8"
    )
    assistant = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index", show_progress=False)
    answer = assistant.ask("When did the Ibar bridge reopen to cars?")
    assert "3 March 2031" in answer.text
    assert answer.citations[0].doc_id == "bridge"
