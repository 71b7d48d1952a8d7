"""The index on disk: loaded when it matches the corpus, updated article by article when it does not,
rebuilt (saying why) when it cannot be used."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import faiss
import pytest

from askbalkans import Assistant, Settings
from askbalkans import corpus as corpus_module
from askbalkans.corpus import file_signature, list_corpus, load_corpus
from askbalkans.indexer import FORMAT_VERSION, open_index
from askbalkans.stores import chunk_id
from askbalkans.stores.embedded import (
    ARTICLES,
    CURRENT,
    LOST,
    MANIFEST,
    PASSAGE_VECTORS,
    SENTENCE_VECTORS,
    EmbeddedStore,
    _checksums,
    sealed,
)


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


@pytest.fixture(autouse=True)
def _tagger(tagger):
    global TAGGER
    TAGGER = tagger


def reopen(settings: Settings, embedder, rebuild=False, hnsw_above=None):
    store = EmbeddedStore(settings.index_dir, **({} if hnsw_above is None else {"hnsw_above": hnsw_above}))
    return open_index(load_corpus(settings.corpus_dir), store, settings, embedder, TAGGER, rebuild=rebuild)


def generation(settings: Settings):
    return settings.index_dir / (settings.index_dir / CURRENT).read_text()


def segments(settings: Settings) -> list:
    """The segment folders of the current generation, oldest first."""
    names = json.loads((generation(settings) / MANIFEST).read_text())["segments"]
    return [settings.index_dir / name for name in names]


def test_index_is_built_once_then_loaded(settings, embedder):
    first = reopen(settings, embedder)
    assert first.report.rebuilt_because.startswith("no index")
    [segment] = segments(settings)
    assert {MANIFEST, PASSAGE_VECTORS, ARTICLES, SENTENCE_VECTORS} <= {p.name for p in segment.iterdir()}
    manifest = json.loads((generation(settings) / MANIFEST).read_text())
    assert manifest["spec"]["settings"]["model"] == settings.model and manifest["spec"]["dimension"] == 384
    articles = json.loads((segment / ARTICLES).read_text())
    assert set(articles["doc_id"]) == {p.stem for p in settings.corpus_dir.glob("*.txt")}
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


def test_an_update_writes_only_the_changed_articles_and_the_index_scores_as_a_rebuild(settings, embedder, tmp_path):
    def reopen_with(merge_ratio: float):
        store = EmbeddedStore(settings.index_dir, merge_ratio=merge_ratio)
        return open_index(load_corpus(settings.corpus_dir), store, settings, embedder, TAGGER)

    def assert_as_rebuilt(index):
        store = EmbeddedStore(tmp_path / f"rebuilt-{len(list(tmp_path.iterdir()))}")
        rebuilt = open_index(load_corpus(settings.corpus_dir), store, settings, embedder, TAGGER).index
        assert (index.passage_count, index.sentence_count) == (rebuilt.passage_count, rebuilt.sentence_count)
        for terms in (["kfor", "troop"], ["sorensen", "visit", "belgrad"], ["bridg", "mitrovica"]):
            assert lexical_scores(index, terms) == pytest.approx(lexical_scores(rebuilt, terms))
            assert (
                index.lexical.document_frequencies(terms).tolist()
                == rebuilt.lexical.document_frequencies(terms).tolist()
            )
        query = embedder.encode(["Which bridge opened in Mitrovica?"])[0]
        assert nearest_passages(index, query) == nearest_passages(rebuilt, query)

    reopen_with(merge_ratio=0.5)  # segments are merged only when the newer one is twice the older
    [base] = segments(settings)
    written = {p.name: p.stat().st_mtime_ns for p in base.iterdir()}
    (settings.corpus_dir / "extra.md").write_text("# Extra\n\nA new bridge opened in Mitrovica in 2031.\n", "utf-8")
    article = settings.corpus_dir / "004_e76711d46be13724.txt"
    article.write_text(article.read_text("utf-8") + "\nThe envoy's next visit is planned for Skopje.\n", "utf-8")
    updated = reopen_with(merge_ratio=0.5).index
    assert segments(settings)[0] == base and {p.name: p.stat().st_mtime_ns for p in base.iterdir()} == written
    newest = json.loads((segments(settings)[-1] / ARTICLES).read_text())["doc_id"]
    assert sorted(newest) == ["004_e76711d46be13724", "extra"]  # only what changed is written
    assert_as_rebuilt(updated)
    (settings.corpus_dir / "000_c156d69eb00ff29e.txt").unlink()
    removed = reopen_with(merge_ratio=0.5).index
    assert "000_c156d69eb00ff29e" not in removed.articles and len(segments(settings)) == 2  # its rows are skipped
    assert_as_rebuilt(removed)
    # By default a small newest segment is merged into the one before it; a segment more than half dead is
    # written again without its dead rows.
    (settings.corpus_dir / "001_f3301d7d56d1fe05.txt").unlink()
    merged = reopen_with(merge_ratio=4).index
    assert len(segments(settings)) == 1 and not base.exists()
    assert json.loads((generation(settings) / MANIFEST).read_text())["dead"] == []
    assert_as_rebuilt(merged)


def test_above_the_threshold_passages_are_searched_by_a_graph_that_grows_with_added_articles(
    settings, embedder, monkeypatch
):
    exact = reopen(settings, embedder).index
    graph = reopen(settings, embedder, rebuild=True, hnsw_above=10).index
    [graph_part] = graph.passage_vectors._parts
    assert "HNSW" in type(faiss.downcast_index(graph_part._index.index)).__name__
    query = embedder.encode(["How many troops serve in KFOR?"])[0]
    assert graph.passage_vectors.search(query, 5)[0].tolist() == exact.passage_vectors.search(query, 5)[0].tolist()

    (settings.corpus_dir / "bridge.md").write_text("# Ibar bridge\n\nThe Ibar bridge reopened in 2031.\n", "utf-8")
    built = EmbeddedStore._dense_index
    with monkeypatch.context() as patched:  # a merge that only adds articles grows the graph it has
        patched.setattr(
            EmbeddedStore,
            "_dense_index",
            lambda self, ids, vectors: (
                pytest.fail("the graph was built again") if len(ids) > 10 else built(self, ids, vectors)
            ),
        )
        grown = reopen(settings, embedder, hnsw_above=10)
    assert grown.report.added == ("bridge",)
    bridge = chunk_id(grown.index.articles["bridge"].slot, 0)
    found, _ = grown.index.passage_vectors.search(embedder.encode(["When did the Ibar bridge reopen?"])[0], 1)
    assert found.tolist() == [bridge]
    assert grown.index.passage_count == graph.passage_count + 1
    # A removed article's passages are left out of searches.
    (settings.corpus_dir / "bridge.md").unlink()
    shrunk = reopen(settings, embedder, hnsw_above=10).index
    assert bridge not in shrunk.passage_vectors.search(query, shrunk.passage_count)[0].tolist()


def acronyms_follow_the_articles(store_of, settings, embedder, tagger):
    """An acronym that an added article defines joins the older passages that use it to its expansion, and
    removing that article takes it back, without reading the other articles again."""

    def opened():
        return open_index(load_corpus(settings.corpus_dir), store_of(), settings, embedder, tagger).index

    def matching(index, terms):
        return {passage.doc_id for passage in index.chunks.passages(index.lexical.search(terms, 100)[0])}

    (settings.corpus_dir / "patrols.txt").write_text("Patrols\n\nThe Kosovo Force patrols the north.\n")
    before = opened()
    assert "kfor" not in before.acronyms and matching(before, ["forc"]) == {"patrols"}
    assert matching(before, ["kfor"]) == {"kfor"}
    (settings.corpus_dir / "force.txt").write_text("The Kosovo Force\n\nThe Kosovo Force (KFOR) is led by NATO.\n")
    added = opened()
    assert added.acronyms["kfor"] == ["kosovo", "forc"]
    assert matching(added, ["forc"]) == {"kfor", "force", "patrols"}  # the older "kfor" says only "KFOR"
    assert matching(added, ["kfor"]) == {"kfor", "force", "patrols"}  # "patrols" spells it out
    (settings.corpus_dir / "force.txt").unlink()
    removed = opened()
    assert "kfor" not in removed.acronyms and matching(removed, ["forc"]) == {"patrols"}
    assert matching(removed, ["kfor"]) == {"kfor"}
    assert removed.acronym_counts == before.acronym_counts
    return added


def test_acronyms_follow_the_articles_and_match_as_after_a_rebuild(small_settings, embedder, tmp_path):
    acronyms_follow_the_articles(lambda: EmbeddedStore(small_settings.index_dir), small_settings, embedder, TAGGER)
    (small_settings.corpus_dir / "force.txt").write_text("The Kosovo Force (KFOR) is led by NATO.\n")
    updated = reopen(small_settings, embedder).index
    rebuilt = reopen(replace(small_settings, index_dir=tmp_path / "rebuilt"), embedder).index
    assert updated.acronym_counts == rebuilt.acronym_counts
    for terms in (["kfor"], ["kosovo", "forc"], ["troop", "nato"]):
        assert lexical_scores(updated, terms) == pytest.approx(lexical_scores(rebuilt, terms))


def nearest_passages(index, query, k=8) -> list[tuple[str, int]]:
    return [(p.doc_id, p.number) for p in index.chunks.passages(index.passage_vectors.search(query, k)[0])]


def lexical_scores(index, terms) -> dict[tuple[str, int], float]:
    """The BM25 score of each passage, by article and number."""
    ids = {
        (doc_id, number): chunk_id(record.slot, number)
        for doc_id, record in index.articles.items()
        for number in range(record.passages)
    }
    return dict(zip(ids, index.lexical.scores(terms, list(ids.values())).tolist(), strict=True))


def test_files_are_read_only_when_their_signature_differs_from_the_index(small_settings, embedder, monkeypatch):
    read = []
    read_article = corpus_module._read_article
    monkeypatch.setattr(
        corpus_module, "_read_article", lambda path, *args: read.append(path.name) or read_article(path, *args)
    )

    def reopen_listed(**settings):
        read.clear()
        corpus = list_corpus(small_settings.corpus_dir, **settings)
        return open_index(corpus, EmbeddedStore(small_settings.index_dir), small_settings, embedder, TAGGER), corpus

    assert reopen_listed()[0].report.rebuilt_because and sorted(read) == ["envoy.txt", "kfor.txt"]
    assert not reopen_listed()[0].report.updated and read == []  # the index holds both as they are
    kfor = small_settings.corpus_dir / "kfor.txt"
    written = {p: p.stat().st_mtime_ns for p in segments(small_settings)}
    os.utime(kfor, ns=(kfor.stat().st_mtime_ns + 10**9,) * 2)  # written again, the same text
    opened, _ = reopen_listed()
    assert not opened.report.updated and read == ["kfor.txt"]
    assert opened.index.articles["kfor"].signature == file_signature(kfor)  # recorded: not read again
    assert {p: p.stat().st_mtime_ns for p in segments(small_settings)} == written  # only the generation is new
    assert not reopen_listed()[0].report.updated and read == []
    kfor.write_text(kfor.read_text() + "Germany sends 400 more. " * 50 + "\n")
    assert reopen_listed()[0].report.changed == ("kfor",) and read == ["kfor.txt"]
    opened, corpus = reopen_listed(max_bytes=1_000)  # a lower limit applies to indexed files too
    assert opened.report.removed == ("kfor",) and read == [] and "larger than the limit" in corpus.skipped[0].reason


def test_threads_searching_at_once_skip_removed_rows_as_one_thread_does(settings, embedder):
    reopen(settings, embedder, hnsw_above=10)
    (settings.corpus_dir / "000_c156d69eb00ff29e.txt").unlink()
    index = reopen(settings, embedder, hnsw_above=10).index  # the removed article's rows are dead, not gone
    assert json.loads((generation(settings) / MANIFEST).read_text())["dead"]
    queries = embedder.encode(["How many troops serve in KFOR?", "Who is the EU envoy?", "Balkans Group office"])
    expected = [index.passage_vectors.search(query, 10)[0].tolist() for query in queries]

    pairs = list(zip(queries, expected, strict=True))

    def searches(_) -> bool:
        return all(index.passage_vectors.search(q, 10)[0].tolist() == e for _ in range(200) for q, e in pairs)

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(searches, range(4)))
    found = {p.doc_id for ids in expected for p in index.chunks.passages(ids)}
    assert "000_c156d69eb00ff29e" not in found


def test_an_update_made_from_an_index_another_process_changed_meanwhile_starts_again(small_settings, embedder, caplog):
    reopen(small_settings, embedder)
    (small_settings.corpus_dir / "bridge.md").write_text("# Ibar bridge\n\nThe Ibar bridge reopened in 2031.\n")

    class InterruptedEmbedder(CountingEmbedder):
        def encode(self, texts, show_progress_bar=False):
            if not self.embedded:  # another process brings the index up to date while this one embeds
                reopen(small_settings, embedder)
            return super().encode(texts, show_progress_bar)

    opened = reopen(small_settings, InterruptedEmbedder(embedder))
    assert "another update changed the index meanwhile" in caplog.text
    assert not opened.report.updated and sorted(opened.index.articles) == ["bridge", "envoy", "kfor"]
    assert opened.index.passage_count == 3


def test_a_snapshot_stays_readable_after_an_update_removes_its_files(small_settings, embedder):
    snapshot = reopen(small_settings, embedder).index
    [segment] = segments(small_settings)
    (small_settings.corpus_dir / "kfor.txt").unlink()
    (small_settings.corpus_dir / "bridge.md").write_text("# Ibar bridge\n\nThe Ibar bridge reopened in 2031.\n")
    assert reopen(small_settings, embedder).report.removed == ("kfor",)
    assert not segment.exists() and not any(p.name == "gen-000001" for p in small_settings.index_dir.iterdir())
    query = embedder.encode(["How many troops serve in KFOR?"])[0]
    found, _ = snapshot.passage_vectors.search(query, 1)
    passage = snapshot.chunks.passages(found)[0]
    assert passage.doc_id == "kfor" and "4,600 troops" in passage.text
    sentences = snapshot.chunks.sentences(snapshot.sentence_ids(int(found[0]), passage))
    assert snapshot.sentence_vectors.vectors(list(sentences)).shape == (len(sentences), 384)


def test_a_changed_setting_rebuilds_the_index(small_settings, embedder):
    reopen(small_settings, embedder)
    opened = reopen(replace(small_settings, passage_tokens=80), embedder)
    assert "passage_tokens changed (160 -> 80)" in opened.report.rebuilt_because


def test_an_index_of_an_older_format_is_rebuilt_saying_so(small_settings, embedder):
    reopen(small_settings, embedder)
    manifest_path = generation(small_settings) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    del manifest["sha256"]
    manifest["spec"]["format_version"] -= 1
    manifest_path.write_text(json.dumps(sealed(manifest)))
    expected = f"the index format changed ({FORMAT_VERSION - 1} -> {FORMAT_VERSION})"
    assert reopen(small_settings, embedder).report.rebuilt_because == expected


def test_a_rebuild_can_be_requested(small_settings, embedder):
    reopen(small_settings, embedder)
    assert reopen(small_settings, embedder, rebuild=True).report.rebuilt_because == "a rebuild was requested"


def _flip_last_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda folder: (folder / PASSAGE_VECTORS).write_bytes(b"not a faiss index"), "passages.faiss is corrupt"),
        (lambda folder: (folder / "text.npy").unlink(), "text.npy is missing"),
        (lambda folder: (folder / MANIFEST).write_text("{ truncated"), "seg-000001/manifest.json is corrupt (not JSON"),
        (lambda folder: _flip_last_byte(folder / ARTICLES), "articles.json is corrupt (checksum mismatch)"),
        (lambda folder: (folder / "postings_rows.npy").write_bytes(b"\0"), "postings_rows.npy is corrupt"),
        (lambda folder: _flip_last_byte(folder / SENTENCE_VECTORS), "sentence_vectors.npy is corrupt"),
        (lambda folder: (folder.parent / CURRENT).write_text("gen-999999"), "names gen-999999, which is missing"),
        (lambda folder: (folder.parent / CURRENT).write_text(folder.name), "names no generation: 'seg-000001'"),
    ],
)
def test_a_corrupt_or_incomplete_index_is_rebuilt(small_settings, embedder, damage, reason):
    reopen(small_settings, embedder)
    damage(segments(small_settings)[-1])
    opened = reopen(small_settings, embedder)
    assert reason in opened.report.rebuilt_because
    assert opened.index.passage_count == 2
    assert not reopen(small_settings, embedder).report.updated


def test_a_pointer_of_binary_bytes_is_named_and_the_index_rebuilt(small_settings, embedder):
    reopen(small_settings, embedder)
    (small_settings.index_dir / CURRENT).write_bytes(b"\xff\xfe\x00\x93junk")
    opened = reopen(small_settings, embedder)
    assert (
        opened.report.rebuilt_because
        == f"{small_settings.index_dir / CURRENT} is corrupt (it holds binary bytes, not the name of a generation)"
    )
    assert opened.index.passage_count == 2 and not reopen(small_settings, embedder).report.updated


def test_a_pointer_that_is_a_directory_is_moved_away_and_the_index_rebuilt(small_settings, embedder, caplog):
    reopen(small_settings, embedder)
    pointer = small_settings.index_dir / CURRENT
    pointer.unlink()
    pointer.mkdir()
    (pointer / "notes.txt").write_text("not the store's")
    opened = reopen(small_settings, embedder)
    assert opened.report.rebuilt_because == f"{pointer} is a directory, not the file the index wrote"
    [moved] = (small_settings.index_dir / LOST).glob(f"*/{CURRENT}")
    assert (moved / "notes.txt").read_text() == "not the store's"  # nothing the store did not write is lost
    assert f"moved it to {moved}" in caplog.text
    assert pointer.is_file() and not reopen(small_settings, embedder).report.updated


def test_a_lock_that_is_a_directory_is_moved_away_and_updates_go_on(small_settings, embedder, caplog):
    reopen(small_settings, embedder)
    lock = small_settings.index_dir / "LOCK"
    lock.unlink()
    lock.mkdir()
    assert not reopen(small_settings, embedder).report.updated  # the index itself is intact: kept
    [moved] = (small_settings.index_dir / LOST).glob("*/LOCK")
    assert f"{lock} is a directory, not the file the index wrote: moved it to {moved}" in caplog.text
    (small_settings.corpus_dir / "bridge.md").write_text("# Ibar bridge\n\nThe Ibar bridge reopened in 2031.\n")
    assert reopen(small_settings, embedder).report.added == ("bridge",)
    assert lock.is_file()


def test_a_manifest_edited_into_other_valid_json_is_found_corrupt(small_settings, embedder):
    """A manifest says which rows are dead and what the acronyms are: a change that keeps it valid JSON would
    give a silently wrong index, so each manifest carries the SHA-256 of its content."""
    reopen(small_settings, embedder)
    path = generation(small_settings) / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["acronyms"]["kfor"] = ["kosovo", "forc", "extra"]
    path.write_text(json.dumps(manifest))
    assert reopen(small_settings, embedder).report.rebuilt_because == f"{path} is corrupt (checksum mismatch)"


def test_an_index_written_before_manifests_carried_checksums_is_rebuilt_saying_so(small_settings, embedder):
    reopen(small_settings, embedder)
    for folder in [generation(small_settings), *segments(small_settings)]:  # as the previous version wrote them
        manifest = json.loads((folder / MANIFEST).read_text())
        del manifest["sha256"]
        (folder / MANIFEST).write_text(json.dumps(manifest))
    opened = reopen(small_settings, embedder)
    assert opened.report.rebuilt_because.endswith(
        "manifest.json carries no checksum (an index written by an older version)"
    )
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


def test_files_are_checksummed_in_blocks_whatever_their_size(tmp_path, monkeypatch):
    monkeypatch.setattr("askbalkans.stores.embedded.CHECKSUM_BLOCK", 4)
    files = {"short": b"0123456789", "whole": b"01234567", "empty": b""}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    assert _checksums(tmp_path, [*files, "missing"]) == {
        "short": [sha(b"0123"), sha(b"4567"), sha(b"89")],
        "whole": [sha(b"0123"), sha(b"4567"), sha(b"")],
        "empty": [sha(b"")],
        "missing": None,
    }
