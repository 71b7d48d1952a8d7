"""The embedded store: FAISS, numpy and BM25 files in one folder, nothing to install or start.

Every update writes a complete new generation, `gen-<n>/`, and then points `CURRENT` at it with one
atomic rename; a crash at any moment leaves `CURRENT` naming a complete generation (or nothing, before the
first one). A generation's files are never changed once written, only removed. Readers read `CURRENT`,
check every file of that generation against the SHA-256s its manifest records, and then map the files
into memory: two builds can never mix, and a generation removed while mapped stays readable to its
readers (the system keeps a removed file's pages while they are mapped). An update carries the unchanged
articles' rows over from the previous generation as arrays (their vectors, texts and postings), so it
embeds only what changed. Generations other than the current one (a previous one, leftovers of a crash)
are removed by the next update.

Everything is kept as columns: one `.npy` file per array (ids, spans, one UTF-8 blob of all sentence
texts, float16 sentence vectors, postings), the articles' records and the vocabulary as JSON lists. Opening
maps the arrays instead of copying them and builds nothing per sentence or passage, so start-up grows with
the checksums only (done in blocks, in parallel). Above `hnsw_above` passages, passage vectors are searched
with an HNSW graph instead of exhaustively; an update that only adds articles adds them to the graph.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

import faiss
import numpy as np

from askbalkans.bm25 import Postings
from askbalkans.chunker import Passage, Sentence
from askbalkans.stores import (
    SLOT_BITS,
    ArticleEntry,
    ArticleRecord,
    Ids,
    Index,
    StaleIndex,
    acronym_words,
    chunk_id,
    describe_mismatch,
)
from askbalkans.tagging import Span
from askbalkans.text import AcronymCounts, Acronyms, lexical_terms

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
ARTICLES = "articles.json"
ACRONYM_COUNTS = "acronym_counts.json"
VOCABULARY = "vocabulary.json"
PASSAGE_VECTORS = "passages.faiss"
SENTENCE_VECTORS = "sentence_vectors.npy"
_POSTINGS_ARRAYS = ("starts", "rows", "frequencies", "lengths")
_GENERATION_PREFIX = "gen-"
_READ_ATTEMPTS = 3
# Files are checksummed in blocks, so that one large file is checked by several threads at once.
CHECKSUM_BLOCK = 64 << 20
SPAN_TYPES = ("number", "money", "percent", "date", "person", "place", "name")
# Searched exhaustively up to this many passages (exact, and fast enough); above, with HNSW.
HNSW_ABOVE = 200_000
# Graph parameters measured on sentence-embedding vectors (eval/README.md, "Scale"): at a million passages,
# recall@10 against exact search is 0.931 at efSearch 512, 0.946 at 1024 and 0.960 at 2048 (7.7 ms a
# question, within the latency budget).
HNSW_NEIGHBOURS = 32
HNSW_BUILD_DEPTH = 160  # efConstruction
HNSW_SEARCH_DEPTH = 2048  # efSearch


class _GenerationGone(Exception):
    """The generation being read was replaced (and removed) by an update meanwhile."""


# --- reading: the interfaces over one generation's arrays --------------------------------------------


class FaissDenseIndex:
    """Passage vectors in a FAISS inner-product index with our ids (IndexIDMap2, so vectors come back)."""

    def __init__(self, index: faiss.Index):
        self._index = index
        # One question's search is quickest on one thread (2 ms against 4 ms with two, at 12k passages):
        # spreading it costs more than it saves. Builds raise the count again (EmbeddedStore.update).
        faiss.omp_set_num_threads(1)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self._index.ntotal)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self._index.search(query[None, :], k)
        found = ids[0] >= 0
        return ids[0][found], scores[0][found]

    def vectors(self, ids: Ids) -> np.ndarray:
        return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def similarities(self, query: np.ndarray, ids: Ids) -> np.ndarray:
        return self.vectors(ids) @ query


class ArrayDenseIndex:
    """Vectors in a numpy array (float16), rows sorted by id; search is exhaustive."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray):
        self._ids = ids
        self._vectors = vectors

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        similarities = self._vectors @ query.astype(self._vectors.dtype)
        best = np.argsort(-similarities, kind="stable")[:k]
        return self._ids[best], similarities[best].astype(np.float32)

    def vectors(self, ids: Ids) -> np.ndarray:
        return self._vectors[np.searchsorted(self._ids, np.asarray(ids, dtype=np.int64))].astype(np.float32)

    def similarities(self, query: np.ndarray, ids: Ids) -> np.ndarray:
        return self.vectors(ids) @ query


class PostingsLexicalIndex:
    """BM25 (see `bm25`) over passages; row r of the postings is the passage `ids[r]`."""

    def __init__(self, postings: Postings, ids: np.ndarray):
        self._postings = postings
        self._ids = ids

    def search(self, terms: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        rows, scores = self._postings.top(terms, k)
        return self._ids[rows], scores

    def scores(self, terms: Sequence[str], ids: Ids) -> np.ndarray:
        return self._postings.scores_of(terms, np.searchsorted(self._ids, np.asarray(ids, dtype=np.int64)))

    def document_frequencies(self, terms: Sequence[str]) -> np.ndarray:
        return self._postings.document_frequencies(terms)


@dataclass
class Columns:
    """A generation's sentences and passages as arrays, rows sorted by id."""

    sentence_ids: np.ndarray  # int64
    starts: np.ndarray  # int64: character span in the article
    ends: np.ndarray
    leans: np.ndarray  # bool
    text_offsets: np.ndarray  # int64 (sentences + 1): sentence i is text[text_offsets[i]:text_offsets[i + 1]]
    text: np.ndarray  # uint8: every sentence's UTF-8, one after the other
    span_offsets: np.ndarray  # int64 (sentences + 1): sentence i's typed spans are span_*[offsets[i]:offsets[i + 1]]
    span_types: np.ndarray  # uint8, index into SPAN_TYPES
    span_starts: np.ndarray  # int64: offsets in the sentence's text
    span_ends: np.ndarray
    passage_ids: np.ndarray  # int64
    first_sentences: np.ndarray  # int64: the article's sentences[first:end]
    end_sentences: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return asdict(self)


class ArticleTable(Mapping[str, ArticleRecord]):
    """The articles' records as columns, in slot order; a record is made when one is asked for (a million
    articles' records, made at start, would take seconds)."""

    def __init__(self, columns: Mapping[str, list]):
        self._columns = {name: list(columns[name]) for name in _RECORD_FIELDS}
        self._row = {doc_id: row for row, doc_id in enumerate(self._columns["doc_id"])}
        self._slots = np.asarray(self._columns["slot"], dtype=np.int64)

    @classmethod
    def of(cls, records: Iterable[ArticleRecord]) -> ArticleTable:
        ordered = sorted(records, key=lambda record: record.slot)
        return cls({name: [getattr(r, name) for r in ordered] for name in _RECORD_FIELDS})

    def __getitem__(self, doc_id: str) -> ArticleRecord:
        row = self._row[doc_id]
        return ArticleRecord(**{name: column[row] for name, column in self._columns.items()})

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns["doc_id"])

    def __len__(self) -> int:
        return len(self._row)

    @property
    def slots(self) -> np.ndarray:
        return self._slots

    def doc_id_at(self, slot: int) -> str:
        return self._columns["doc_id"][int(np.searchsorted(self._slots, slot))]

    def columns(self) -> dict[str, list]:
        return self._columns

    def select(self, keep: np.ndarray) -> ArticleTable:
        """The records the boolean mask `keep` marks."""
        rows = np.flatnonzero(keep).tolist()
        return ArticleTable({name: [column[r] for r in rows] for name, column in self._columns.items()})

    def replace(self, records: Iterable[ArticleRecord]) -> ArticleTable:
        """These records, with those of the same doc_ids as `records` replaced by them."""
        columns = {name: list(column) for name, column in self._columns.items()}
        for record in records:
            row = self._row[record.doc_id]
            for name, column in columns.items():
                column[row] = getattr(record, name)
        return ArticleTable(columns)

    def extend(self, records: Sequence[ArticleRecord]) -> ArticleTable:
        """These records and `records`, whose slots come after all of these."""
        return ArticleTable(
            {name: column + [getattr(r, name) for r in records] for name, column in self._columns.items()}
        )


_RECORD_FIELDS = tuple(field.name for field in fields(ArticleRecord))


class ColumnChunkStore:
    """Sentences and passages built from the columns on demand (nothing per sentence is kept as objects)."""

    def __init__(self, columns: Columns, articles: ArticleTable):
        self._c = columns
        self._doc_id_at = articles.doc_id_at

    def _rows(self, wanted: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The row of each id of `wanted` in `ids`, -1 where there is none."""
        rows = np.searchsorted(ids, wanted)
        found = (rows < len(ids)) & (ids[np.minimum(rows, len(ids) - 1)] == wanted) if len(ids) else rows < 0
        return np.where(found, rows, -1)

    def _sentence(self, row: int) -> Sentence:
        c = self._c
        sentence_id = int(c.sentence_ids[row])
        text = c.text[c.text_offsets[row] : c.text_offsets[row + 1]].tobytes().decode("utf-8")
        first, last = c.span_offsets[row], c.span_offsets[row + 1]
        spans = tuple(
            Span(SPAN_TYPES[kind], int(start), int(end))
            for kind, start, end in zip(
                c.span_types[first:last], c.span_starts[first:last], c.span_ends[first:last], strict=True
            )
        )
        return Sentence(
            self._doc_id_at(sentence_id >> SLOT_BITS),
            sentence_id & ((1 << SLOT_BITS) - 1),
            int(c.starts[row]),
            int(c.ends[row]),
            text,
            bool(c.leans[row]),
            spans,
        )

    def sentences(self, ids: Iterable[int]) -> dict[int, Sentence]:
        wanted = np.fromiter((int(i) for i in ids), dtype=np.int64)
        rows = self._rows(wanted, self._c.sentence_ids)
        return {int(i): self._sentence(int(r)) for i, r in zip(wanted, rows, strict=True) if r >= 0}

    def passages(self, ids: Ids) -> list[Passage]:
        c = self._c
        wanted = np.asarray(ids, dtype=np.int64)
        rows = self._rows(wanted, c.passage_ids)
        firsts, ends = c.first_sentences[rows], c.end_sentences[rows]
        # An article's sentences are consecutive rows: a passage's are the rows from its first sentence's.
        first_rows = self._rows((wanted >> SLOT_BITS << SLOT_BITS) + firsts, c.sentence_ids)
        passages = []
        for passage_id, first, end, first_row in zip(wanted, firsts, ends, first_rows, strict=True):
            offsets = c.text_offsets[first_row : first_row + (end - first) + 1]
            text = " ".join(
                c.text[a:b].tobytes().decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:], strict=True)
            )
            passages.append(
                Passage(
                    self._doc_id_at(int(passage_id) >> SLOT_BITS),
                    int(passage_id) & ((1 << SLOT_BITS) - 1),
                    int(first),
                    int(end),
                    text,
                )
            )
        return passages


# --- the store -----------------------------------------------------------------------------------


@dataclass
class _Generation:
    """What a generation holds: its arrays mapped from the files (or, being written, in memory)."""

    articles: ArticleTable
    acronyms: dict[str, list[str]]
    acronym_counts: AcronymCounts
    columns: Columns
    dense: faiss.Index
    sentence_vectors: np.ndarray  # float16, rows as columns.sentence_ids
    postings: Postings  # rows as columns.passage_ids


class EmbeddedStore:
    def __init__(self, folder: Path, hnsw_above: int = HNSW_ABOVE):
        self.folder = Path(folder)
        self.hnsw_above = hnsw_above
        self.description = f"{self.folder} (embedded)"

    # --- reading ------------------------------------------------------------------------------------

    def _load(self, spec: Mapping[str, Any]) -> _Generation:
        """The current generation, checked and mapped. A generation that an update removes while it is being
        read is read again from the new `CURRENT`."""
        for _ in range(_READ_ATTEMPTS - 1):
            with contextlib.suppress(_GenerationGone):
                return self._load_current(spec)
        try:
            return self._load_current(spec)
        except _GenerationGone as gone:
            raise StaleIndex(str(gone)) from None

    def _load_current(self, spec: Mapping[str, Any]) -> _Generation:
        pointer = self.folder / CURRENT
        if not pointer.is_file():
            raise StaleIndex(f"no index in {self.folder} yet")
        name = pointer.read_text("utf-8").strip()
        generation = self.folder / name
        try:
            try:
                manifest = json.loads((generation / MANIFEST).read_bytes())
                recorded = {file: list(blocks) for file, blocks in manifest["files"].items()}
            except FileNotFoundError as error:
                raise StaleIndex(f"the index manifest is missing ({error.filename})") from error
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise StaleIndex(f"the manifest is corrupt ({error})") from error
            mismatch = describe_mismatch(manifest.get("spec", {}), spec)
            if mismatch:
                raise StaleIndex(mismatch)
            found = _checksums(generation, recorded)
            for file, blocks in recorded.items():
                if found[file] is None:
                    raise StaleIndex(f"index file {file} is missing")
                if found[file] != blocks:
                    raise StaleIndex(f"index file {file} is corrupt (checksum mismatch)")
            try:
                return _generation_from(manifest, generation)
            except FileNotFoundError:
                raise StaleIndex("an index file is missing") from None
            except Exception as error:  # anything unreadable in files that passed their checksums
                raise StaleIndex(f"the index files cannot be read ({error})") from error
        except StaleIndex:
            if self._replaced(name):
                raise _GenerationGone(f"generation {name} was replaced while being read") from None
            raise

    def _replaced(self, generation: str) -> bool:
        """Whether `CURRENT` now names another generation than `generation`."""
        try:
            return (self.folder / CURRENT).read_text("utf-8").strip() != generation
        except FileNotFoundError:
            return False

    def open(self, spec: Mapping[str, Any]) -> Index:
        generation = self._load(spec)
        columns = generation.columns
        return Index(
            articles=generation.articles,
            chunks=ColumnChunkStore(columns, generation.articles),
            passage_vectors=FaissDenseIndex(generation.dense),
            sentence_vectors=ArrayDenseIndex(columns.sentence_ids, generation.sentence_vectors),
            lexical=PostingsLexicalIndex(generation.postings, columns.passage_ids),
            acronyms=generation.acronyms,
            acronym_counts=generation.acronym_counts,
            passage_count=len(columns.passage_ids),
            sentence_count=len(columns.sentence_ids),
        )

    # --- writing ------------------------------------------------------------------------------------

    def update(
        self,
        spec: Mapping[str, Any],
        remove: Iterable[str],
        add: Iterable[ArticleEntry],
        acronyms: AcronymCounts,
        refresh: Iterable[ArticleRecord] = (),
        from_scratch: bool = False,
    ) -> None:
        entries, removed, table = list(add), set(remove), acronyms.acronyms()
        try:
            previous = None if from_scratch else self._load(spec)
        except StaleIndex:
            previous = None
        dimension = int(spec["dimension"])
        new = _columns_of(entries)
        records = [e.record for e in entries]
        new_vectors = _stack([e.passage_vectors for e in entries], dimension)
        if previous is None:
            articles = ArticleTable.of(records)
            columns, sentence_vectors = new, _stack([e.sentence_vectors for e in entries], dimension)
            postings = Postings.build(_passage_terms(entries, table))
            dense = self._dense_index(dimension, new.passage_ids, new_vectors)
        else:
            kept = np.array([doc_id not in removed for doc_id in previous.articles], dtype=bool)
            articles = previous.articles.select(kept).replace(refresh).extend(records)
            kept_slots = previous.articles.slots[kept]
            keep_sentences = np.isin(previous.columns.sentence_ids >> SLOT_BITS, kept_slots)
            keep_passages = np.isin(previous.columns.passage_ids >> SLOT_BITS, kept_slots)
            columns = _concat(_select(previous.columns, keep_sentences, keep_passages), new)
            sentence_vectors = np.vstack(
                [previous.sentence_vectors[keep_sentences]] + [e.sentence_vectors.astype(np.float16) for e in entries]
            )
            if keep_passages.all() and len(columns.passage_ids) > self.hnsw_above and _is_graph(previous.dense):
                # The mapped graph is read-only (and faiss.clone_index keeps it mapped): a copy grows.
                dense = faiss.deserialize_index(faiss.serialize_index(previous.dense))
                _add(dense, new.passage_ids, new_vectors)
            else:
                old_ids = previous.columns.passage_ids[keep_passages]
                old_vectors = previous.dense.reconstruct_batch(old_ids) if len(old_ids) else new_vectors[:0]
                dense = self._dense_index(
                    dimension, np.concatenate([old_ids, new.passage_ids]), np.vstack([old_vectors, new_vectors])
                )
            postings = previous.postings.select(keep_passages).extend(_passage_terms(entries, table))
            if previous.acronyms != table:
                postings = _relexed(postings, columns, articles, previous.acronyms, table)
        generation = _Generation(
            articles, table, acronyms, columns, dense, np.ascontiguousarray(sentence_vectors, np.float16), postings
        )
        self._write_generation(spec, generation)

    def _dense_index(self, dimension: int, ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
        """A new passage index of `vectors`: exact up to `hnsw_above` passages, a graph above."""
        if len(ids) <= self.hnsw_above:
            dense = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        else:
            graph = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = HNSW_BUILD_DEPTH
            graph.hnsw.efSearch = HNSW_SEARCH_DEPTH
            dense = faiss.IndexIDMap2(graph)
        _add(dense, ids, vectors)
        return dense

    def _write_generation(self, spec: Mapping[str, Any], generation: _Generation) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        folder = self._new_generation()
        postings = generation.postings
        writers: dict[str, Callable[[BinaryIO], object]] = {
            ARTICLES: _json_writer(generation.articles.columns()),
            ACRONYM_COUNTS: _json_writer(generation.acronym_counts.to_json()),
            VOCABULARY: _json_writer(list(postings.vocabulary)),
            PASSAGE_VECTORS: _index_writer(generation.dense),
            SENTENCE_VECTORS: _array_writer(generation.sentence_vectors),
            **{f"{name}.npy": _array_writer(array) for name, array in generation.columns.arrays().items()},
            **{f"postings_{name}.npy": _array_writer(getattr(postings, name)) for name in _POSTINGS_ARRAYS},
        }
        for name, write in writers.items():
            _write_synced(folder / name, write)
        checksums = _checksums(folder, writers)
        manifest = {"spec": dict(spec), "acronyms": generation.acronyms, "files": checksums}
        _write_synced(folder / MANIFEST, _json_writer(manifest))
        _fsync_folder(folder)
        pointer = self.folder / f"{CURRENT}.tmp-{os.getpid()}"
        _write_synced(pointer, lambda handle: handle.write(folder.name.encode()))
        os.replace(pointer, self.folder / CURRENT)
        _fsync_folder(self.folder)
        self._remove_other_generations(folder.name)

    def _new_generation(self) -> Path:
        numbers = [int(p.name[len(_GENERATION_PREFIX) :]) for p in self._generations()]
        generation = self.folder / f"{_GENERATION_PREFIX}{max(numbers, default=0) + 1:06d}"
        generation.mkdir()
        return generation

    def _generations(self) -> list[Path]:
        return [
            p
            for p in self.folder.glob(f"{_GENERATION_PREFIX}*")
            if p.is_dir() and p.name[len(_GENERATION_PREFIX) :].isdigit()
        ]

    def _remove_other_generations(self, keep: str) -> None:
        """Previous generations and leftovers of crashed updates (a reader that mapped one keeps reading it:
        the system frees a removed file's pages only when its mappings are closed)."""
        for path in self._generations():
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
        for leftover in self.folder.glob(f"{CURRENT}.tmp-*"):
            leftover.unlink(missing_ok=True)


# --- columns -------------------------------------------------------------------------------------


def _columns_of(entries: list[ArticleEntry]) -> Columns:
    """The columns of new articles (their slots are above every kept one, so their ids sort last)."""
    sentences = [(e.record.slot, s) for e in entries for s in e.chunks.sentences]
    passages = [(e.record.slot, p) for e in entries for p in e.chunks.passages]
    texts = [s.text.encode("utf-8") for _, s in sentences]
    spans = [span for _, s in sentences for span in s.spans]
    return Columns(
        sentence_ids=np.array([chunk_id(slot, s.number) for slot, s in sentences], dtype=np.int64),
        starts=np.array([s.start for _, s in sentences], dtype=np.int64),
        ends=np.array([s.end for _, s in sentences], dtype=np.int64),
        leans=np.array([s.leans_on_previous for _, s in sentences], dtype=bool),
        text_offsets=np.concatenate([[0], np.cumsum([len(t) for t in texts], dtype=np.int64)]).astype(np.int64),
        text=np.frombuffer(b"".join(texts), dtype=np.uint8).copy(),
        span_offsets=np.concatenate([[0], np.cumsum([len(s.spans) for _, s in sentences])]).astype(np.int64),
        span_types=np.array([SPAN_TYPES.index(span.type) for span in spans], dtype=np.uint8),
        span_starts=np.array([span.start for span in spans], dtype=np.int64),
        span_ends=np.array([span.end for span in spans], dtype=np.int64),
        passage_ids=np.array([chunk_id(slot, p.number) for slot, p in passages], dtype=np.int64),
        first_sentences=np.array([p.first_sentence for _, p in passages], dtype=np.int64),
        end_sentences=np.array([p.end_sentence for _, p in passages], dtype=np.int64),
    )


def _gather(data: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranges data[offsets[r]:offsets[r + 1]] of `rows`, one after the other, and their new offsets."""
    starts, lengths = offsets[rows], offsets[rows + 1] - offsets[rows]
    new_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    index = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1], dtype=np.int64)
    return data[index], new_offsets


def _select(c: Columns, sentences: np.ndarray, passages: np.ndarray) -> Columns:
    """The rows of `c` that the masks keep."""
    rows = np.flatnonzero(sentences)
    text, text_offsets = _gather(c.text, c.text_offsets, rows)
    span_rows, span_offsets = _gather(np.arange(len(c.span_types)), c.span_offsets, rows)
    return Columns(
        c.sentence_ids[rows], c.starts[rows], c.ends[rows], c.leans[rows], text_offsets, text, span_offsets,
        c.span_types[span_rows], c.span_starts[span_rows], c.span_ends[span_rows],
        c.passage_ids[passages], c.first_sentences[passages], c.end_sentences[passages],
    )  # fmt: skip


def _concat(first: Columns, second: Columns) -> Columns:
    def joined(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])

    def offsets(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b[1:] + a[-1]])

    return Columns(
        joined(first.sentence_ids, second.sentence_ids), joined(first.starts, second.starts),
        joined(first.ends, second.ends), joined(first.leans, second.leans),
        offsets(first.text_offsets, second.text_offsets), joined(first.text, second.text),
        offsets(first.span_offsets, second.span_offsets), joined(first.span_types, second.span_types),
        joined(first.span_starts, second.span_starts), joined(first.span_ends, second.span_ends),
        joined(first.passage_ids, second.passage_ids), joined(first.first_sentences, second.first_sentences),
        joined(first.end_sentences, second.end_sentences),
    )  # fmt: skip


def _passage_terms(entries: list[ArticleEntry], acronyms: Mapping[str, list[str]]) -> list[list[str]]:
    table = Acronyms(acronyms)
    return [lexical_terms(e.record.title, p.text, table) for e in entries for p in e.chunks.passages]


def _relexed(
    postings: Postings,
    columns: Columns,
    articles: ArticleTable,
    old: Mapping[str, list[str]],
    new: Mapping[str, list[str]],
) -> Postings:
    """`postings` with the terms of the passages that the change of acronyms concerns computed again."""
    rows = postings.rows_with(acronym_words(old, new))
    table = Acronyms(new)
    passages = ColumnChunkStore(columns, articles).passages(columns.passage_ids[rows])
    return postings.replace(
        rows, [lexical_terms(articles[passage.doc_id].title, passage.text, table) for passage in passages]
    )


def _stack(arrays: list[np.ndarray], dimension: int) -> np.ndarray:
    return np.vstack(arrays) if arrays else np.zeros((0, dimension), dtype=np.float32)


def _add(dense: faiss.Index, ids: np.ndarray, vectors: np.ndarray) -> None:
    if not len(ids):
        return
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building a graph is worth the threads
    try:
        dense.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
    finally:
        faiss.omp_set_num_threads(1)


def _is_graph(dense: faiss.Index) -> bool:
    return hasattr(faiss.downcast_index(getattr(dense, "index")), "hnsw")  # noqa: B009 (faiss is untyped)


def _array_writer(array: np.ndarray) -> Callable[[BinaryIO], object]:
    return lambda handle: np.save(handle, array, allow_pickle=False)


def _index_writer(index: faiss.Index) -> Callable[[BinaryIO], object]:
    writer: Any = getattr(faiss, "PyCallbackIOWriter")  # noqa: B009 (missing from faiss's type stubs)
    return lambda handle: faiss.write_index(index, writer(handle.write))


def _json_writer(value: Any) -> Callable[[BinaryIO], object]:
    return lambda handle: handle.write(json.dumps(value, ensure_ascii=False).encode())


def _generation_from(manifest: dict[str, Any], folder: Path) -> _Generation:
    """The generation in `folder`, its arrays and passage vectors mapped (read-only), not copied."""
    articles = ArticleTable(json.loads((folder / ARTICLES).read_bytes()))

    def array(name: str) -> np.ndarray:
        # As a plain array over the mapping: indexing a np.memmap costs microseconds more per call.
        return np.asarray(np.load(folder / name, mmap_mode="r", allow_pickle=False))

    columns = Columns(**{field.name: array(f"{field.name}.npy") for field in fields(Columns)})
    vocabulary = json.loads((folder / VOCABULARY).read_bytes())
    postings = Postings(
        {term: column for column, term in enumerate(vocabulary)},
        **{name: array(f"postings_{name}.npy") for name in _POSTINGS_ARRAYS},
    )
    dense = faiss.read_index(str(folder / PASSAGE_VECTORS), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    vectors = array(SENTENCE_VECTORS)
    if (
        dense.ntotal != len(columns.passage_ids)
        or len(vectors) != len(columns.sentence_ids)
        or postings.documents != len(columns.passage_ids)
        or len(postings.starts) != len(vocabulary) + 1
        or int(sum(articles.columns()["sentences"])) != len(columns.sentence_ids)
    ):
        raise ValueError("the vectors, postings and chunks do not match")
    if _is_graph(dense):  # efSearch is not kept by serialisation
        graph: Any = faiss.downcast_index(getattr(dense, "index"))  # noqa: B009 (faiss is untyped)
        graph.hnsw.efSearch = HNSW_SEARCH_DEPTH
    counts = AcronymCounts.from_json(json.loads((folder / ACRONYM_COUNTS).read_bytes()))
    return _Generation(articles, manifest["acronyms"], counts, columns, dense, vectors, postings)


def _checksums(folder: Path, files: Iterable[str]) -> dict[str, list[str] | None]:
    """SHA-256 of each CHECKSUM_BLOCK bytes of each file (a last, short or empty, block included), or None
    for a file that is missing; blocks are hashed on all cores at once, a large file's too."""
    sizes: dict[str, int | None] = {}
    for name in files:
        try:
            sizes[name] = (folder / name).stat().st_size
        except FileNotFoundError:
            sizes[name] = None
    blocks = [
        (name, offset)
        for name, size in sizes.items()
        if size is not None
        for offset in range(0, size + 1, CHECKSUM_BLOCK)
    ]

    def digest(block: tuple[str, int]) -> str | None:
        name, offset = block
        if not sizes[name]:
            return hashlib.sha256(b"").hexdigest()  # an empty file cannot be mapped
        try:
            # Hashed in place: reading into new buffers halves the speed.
            with (
                open(folder / name, "rb") as handle,
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
                memoryview(mapped) as view,
            ):
                return hashlib.sha256(view[offset : offset + CHECKSUM_BLOCK]).hexdigest()
        except FileNotFoundError:
            return None

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        digests = list(pool.map(digest, blocks))
    by_file: dict[str, list[str | None]] = {name: [] for name in sizes}
    for (name, _), checksum in zip(blocks, digests, strict=True):
        by_file[name].append(checksum)
    return {
        name: None if sizes[name] is None or None in found else [c for c in found if c is not None]
        for name, found in by_file.items()
    }


def _write_synced(path: Path, write: Callable[[BinaryIO], object]) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
