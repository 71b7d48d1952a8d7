"""The index on disk: loaded when it matches the corpus, updated article by article when it does not,
rebuilt (saying why) when it cannot be used."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from askbalkans import Assistant, Settings
from askbalkans.corpus import load_corpus
from askbalkans.indexer import open_index
from askbalkans.stores import chunk_id
from askbalkans.stores.embedded import CHUNKS, CURRENT, LEXICAL, MANIFEST, PASSAGE_VECTORS, EmbeddedStore


class CountingEmbedder:
    """The real embedder, counting the texts it embeds."""

    def __init__(self, embedder):
        self._embedder = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.max_tokens = embedder.max_tokens
        self.count_tokens = embedder.count_tokens
        self.embedded = 0

    def encode(self, texts, show_progress_bar=False):
        self.embedded += len(texts)
        return self._embedder.encode(texts)


@pytest.fixture
def settings(corpus_copy, tmp_path) -> Settings:
    return Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index")


@pytest.fixture
def small_settings(tmp_path) -> Settings:
    """Two short articles: for what does not depend on the seeds, at a fraction of their indexing time."""
    corpus = tmp_path / "small"
    corpus.mkdir()
    (corpus / "kfor.txt").write_text("KFOR in 2025\n\nAbout 4,600 troops serve in KFOR. Italy sends the most.\n")
    (corpus / "envoy.txt").write_text("A new envoy\n\nPeter Sorensen visited Pristina. He also visited Belgrade.\n")
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")


@pytest.fixture(autouse=True)
def _tagger(tagger):
    global TAGGER
    TAGGER = tagger


def reopen(settings: Settings, embedder, rebuild=False):
    store = EmbeddedStore(settings.index_dir)
    return open_index(load_corpus(settings.corpus_dir), store, settings, embedder, TAGGER, rebuild=rebuild)


def generation(settings: Settings):
    return settings.index_dir / (settings.index_dir / CURRENT).read_text()


def test_index_is_built_once_then_loaded(settings, embedder):
    first = reopen(settings, embedder)
    assert first.report.rebuilt_because.startswith("no index")
    assert {MANIFEST, PASSAGE_VECTORS, CHUNKS, LEXICAL} <= {p.name for p in generation(settings).iterdir()}
    manifest = json.loads((generation(settings) / MANIFEST).read_text())
    assert manifest["spec"]["settings"]["model"] == settings.model and manifest["spec"]["dimension"] == 384
    assert {a["doc_id"] for a in manifest["articles"]} == {p.stem for p in settings.corpus_dir.glob("*.txt")}
    second = reopen(settings, embedder)
    assert not second.report.updated and second.report.summary().startswith("loaded the index of 5 articles")
    assert second.index.passage_count == first.index.passage_count


def test_only_added_and_changed_articles_are_embedded_and_removed_ones_are_gone(settings, embedder):
    counting = CountingEmbedder(embedder)
    reopen(settings, counting)
    everything = counting.embedded
    counting.embedded = 0

    article = settings.corpus_dir / "004_e76711d46be13724.txt"
    article.write_text(article.read_text("utf-8") + "\nThe envoy's next visit is planned for Skopje.\n", "utf-8")
    (settings.corpus_dir / "extra.md").write_text("# Extra\n\nA new bridge opened in Mitrovica in 2031.\n", "utf-8")
    (settings.corpus_dir / "000_c156d69eb00ff29e.txt").unlink()
    updated = reopen(settings, counting)
    report = updated.report
    assert (report.added, report.changed, report.removed) == (
        ("extra",),
        ("004_e76711d46be13724",),
        ("000_c156d69eb00ff29e",),
    )
    assert "added 1 (extra), changed 1 (004_e76711d46be13724), removed 1 (000_c156d69eb00ff29e)" in report.summary()
    embedded = [updated.index.articles[doc_id] for doc_id in ("extra", "004_e76711d46be13724")]
    assert counting.embedded == sum(record.sentences + record.passages for record in embedded) < everything / 2
    assert "000_c156d69eb00ff29e" not in updated.index.articles
    # No id of the removed article remains in any part of the index.
    found, _ = updated.index.passage_vectors.search(embedder.encode(["The Balkans Group's office"])[0], 100)
    assert len(found) == updated.index.passage_count
    assert all(updated.index.chunks.passages([i])[0].doc_id != "000_c156d69eb00ff29e" for i in found)
    assert len(list(settings.index_dir.glob("gen-*"))) == 1  # the previous generation is removed


def test_a_changed_setting_rebuilds_the_index(small_settings, embedder):
    reopen(small_settings, embedder)
    opened = reopen(replace(small_settings, passage_tokens=80), embedder)
    assert "passage_tokens changed (160 -> 80)" in opened.report.rebuilt_because


def test_a_rebuild_can_be_requested(small_settings, embedder):
    reopen(small_settings, embedder)
    assert reopen(small_settings, embedder, rebuild=True).report.rebuilt_because == "a rebuild was requested"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda folder: (folder / PASSAGE_VECTORS).write_bytes(b"not a faiss index"), "passages.faiss is corrupt"),
        (lambda folder: (folder / CHUNKS).unlink(), "chunks.npz is missing"),
        (lambda folder: (folder / MANIFEST).write_text("{ truncated"), "manifest is corrupt"),
        (lambda folder: (folder / LEXICAL).write_bytes(b"\0"), "lexical.npz is corrupt"),
        (lambda folder: (folder.parent / CURRENT).write_text("gen-999999"), "index manifest is missing"),
    ],
)
def test_a_corrupt_or_incomplete_index_is_rebuilt(small_settings, embedder, damage, reason):
    reopen(small_settings, embedder)
    damage(generation(small_settings))
    opened = reopen(small_settings, embedder)
    assert reason in opened.report.rebuilt_because
    assert opened.index.passage_count == 2
    assert not reopen(small_settings, embedder).report.updated


def test_a_crash_while_writing_leaves_the_previous_index_in_use(settings, embedder, monkeypatch):
    reopen(settings, embedder)
    before = generation(settings)
    article = settings.corpus_dir / "003_911e190891696f57.txt"
    article.write_text(article.read_text("utf-8") + "\nRutte will return in 2031.\n", "utf-8")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr("askbalkans.stores.embedded.os.replace", crash)
    with pytest.raises(KeyboardInterrupt):
        reopen(settings, embedder)  # the new generation is written, CURRENT still names the old one
    monkeypatch.undo()
    assert generation(settings) == before
    opened = reopen(settings, embedder)
    assert opened.report.changed == ("003_911e190891696f57",)
    sentences = opened.index.chunks.sentences(
        chunk_id(opened.index.articles["003_911e190891696f57"].slot, n) for n in range(100)
    )
    assert any("2031" in s.text for s in sentences.values())
    assert [p.name for p in settings.index_dir.iterdir() if p.name.startswith("gen-")] == [generation(settings).name]


def test_an_added_article_is_answered_after_the_update(corpus_copy, tmp_path, embedder):
    index_dir = tmp_path / "index"
    Assistant(corpus_dir=corpus_copy, index_dir=index_dir, embedder=embedder)
    (corpus_copy / "bridge.md").write_text(
        "# Ibar bridge\n\nThe Ibar bridge in Mitrovica reopened to cars on 3 March 2031, officials said.\n", "utf-8"
    )
    assistant = Assistant(corpus_dir=corpus_copy, index_dir=index_dir, embedder=embedder)
    assert assistant.report.added == ("bridge",)
    answer = assistant.ask("When did the Ibar bridge reopen to cars?")
    assert "3 March 2031" in answer.text
    assert answer.citations[0].doc_id == "bridge"
