"""The embedded store: FAISS, numpy and BM25 files in one folder, nothing to install or start.

Every update writes a complete new generation, `gen-<n>/`, and then points `CURRENT` at it with one
atomic rename; a crash at any moment leaves `CURRENT` naming a complete generation (or nothing, before the
first one). Readers read `CURRENT`, then each file of that generation once, checking it against the
SHA-256 its manifest records, and build the index from the bytes they checked: two builds can never mix.
An update carries the unchanged articles' rows over from the previous generation as arrays (their
vectors, texts and postings), so it embeds only what changed. Generations other than the current one (a
previous one, leftovers of a crash) are removed by the next update.

Sentences and passages are kept as columns (ids, spans, one UTF-8 blob of all sentence texts), and
sentence vectors as float16: about 1 kB per sentence in memory, nothing per sentence built at start.
Above `hnsw_above` passages, passage vectors are searched with an HNSW graph instead of exhaustively.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
    chunk_id,
    describe_mismatch,
)
from askbalkans.tagging import Span
from askbalkans.text import Acronyms, lexical_terms

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.npz"
PASSAGE_VECTORS = "passages.faiss"
SENTENCE_VECTORS = "sentences.npz"
LEXICAL = "lexical.npz"
_GENERATION_PREFIX = "gen-"
_READ_ATTEMPTS = 3
SPAN_TYPES = ("number", "money", "percent", "date", "person", "place", "name")
# Searched exhaustively up to this many passages (exact, and fast enough); above, with HNSW.
HNSW_ABOVE = 200_000
HNSW_NEIGHBOURS = 32
# efSearch. Recall@10 against exact search is not yet shown to reach 0.95: 0.29 on the scale benchmark's
# stand-in vectors at 605k passages (eval/README.md, "Scale").
HNSW_SEARCH_DEPTH = 128


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

    @classmethod
    def empty(cls) -> Columns:
        ints = np.zeros(0, dtype=np.int64)
        return cls(
            ints, ints, ints, np.zeros(0, bool), np.zeros(1, np.int64), np.zeros(0, np.uint8), np.zeros(1, np.int64),
            np.zeros(0, np.uint8), ints, ints, ints, ints, ints,
        )  # fmt: skip

    def arrays(self) -> dict[str, np.ndarray]:
        return asdict(self)


class ColumnChunkStore:
    """Sentences and passages built from the columns on demand (nothing per sentence is kept as objects)."""

    def __init__(self, columns: Columns, doc_of_slot: Mapping[int, str]):
        self._c = columns
        self._doc_of_slot = doc_of_slot

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
            self._doc_of_slot[sentence_id >> SLOT_BITS],
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
                    self._doc_of_slot[int(passage_id) >> SLOT_BITS],
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
    """What a generation holds, in memory."""

    articles: dict[str, ArticleRecord]
    acronyms: dict[str, list[str]]
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

    def _read_generation(self, spec: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
        """The current generation's manifest and verified file contents. A generation that an update
        removes while it is being read is read again from the new `CURRENT`."""
        for _ in range(_READ_ATTEMPTS - 1):
            try:
                return self._read_current(spec)
            except _GenerationGone:
                continue
        try:
            return self._read_current(spec)
        except _GenerationGone as gone:
            raise StaleIndex(str(gone)) from None

    def _read_current(self, spec: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
        pointer = self.folder / CURRENT
        if not pointer.is_file():
            raise StaleIndex(f"no index in {self.folder} yet")
        name = pointer.read_text("utf-8").strip()
        generation = self.folder / name
        try:
            manifest = json.loads((generation / MANIFEST).read_bytes())
            recorded = dict(manifest["files"])
        except FileNotFoundError as error:
            if self._replaced(name):
                raise _GenerationGone(f"generation {name} was replaced while being read") from error
            raise StaleIndex(f"the index manifest is missing ({error.filename})") from error
        except (ValueError, KeyError, TypeError) as error:
            raise StaleIndex(f"the manifest is corrupt ({error})") from error
        mismatch = describe_mismatch(manifest.get("spec", {}), spec)
        if mismatch:
            raise StaleIndex(mismatch)
        contents = {}
        for file, checksum in recorded.items():
            try:
                data = (generation / file).read_bytes()
            except FileNotFoundError:
                if self._replaced(name):
                    raise _GenerationGone(f"generation {name} was replaced while being read") from None
                raise StaleIndex(f"index file {file} is missing") from None
            if hashlib.sha256(data).hexdigest() != checksum:
                raise StaleIndex(f"index file {file} is corrupt (checksum mismatch)")
            contents[file] = data
        return manifest, contents

    def _replaced(self, generation: str) -> bool:
        """Whether `CURRENT` now names another generation than `generation`."""
        try:
            return (self.folder / CURRENT).read_text("utf-8").strip() != generation
        except FileNotFoundError:
            return False

    def _load(self, spec: Mapping[str, Any]) -> _Generation:
        manifest, contents = self._read_generation(spec)
        try:
            return _generation_from(manifest, contents)
        except Exception as error:  # anything unreadable in files that passed their checksums
            raise StaleIndex(f"the index files cannot be read ({error})") from error

    def open(self, spec: Mapping[str, Any]) -> Index:
        generation = self._load(spec)
        columns = generation.columns
        doc_of_slot = {record.slot: record.doc_id for record in generation.articles.values()}
        return Index(
            articles=generation.articles,
            chunks=ColumnChunkStore(columns, doc_of_slot),
            passage_vectors=FaissDenseIndex(generation.dense),
            sentence_vectors=ArrayDenseIndex(columns.sentence_ids, generation.sentence_vectors),
            lexical=PostingsLexicalIndex(generation.postings, columns.passage_ids),
            acronyms=generation.acronyms,
            passage_count=len(columns.passage_ids),
            sentence_count=len(columns.sentence_ids),
        )

    # --- writing ------------------------------------------------------------------------------------

    def update(
        self,
        spec: Mapping[str, Any],
        remove: Iterable[str],
        add: Iterable[ArticleEntry],
        acronyms: Mapping[str, list[str]],
        from_scratch: bool = False,
    ) -> None:
        entries, removed = list(add), set(remove)
        try:
            previous = None if from_scratch else self._load(spec)
        except StaleIndex:
            previous = None
        kept_articles = {d: r for d, r in (previous.articles.items() if previous else []) if d not in removed}
        kept_slots = np.array(sorted(r.slot for r in kept_articles.values()), dtype=np.int64)
        dimension = int(spec["dimension"])
        new = _columns_of(entries)
        articles = {**kept_articles, **{e.record.doc_id: e.record for e in entries}}
        titles = {r.slot: r.title for r in articles.values()}
        if previous is None:
            columns, sentence_vectors = new, _stack([e.sentence_vectors for e in entries], dimension)
            passage_vectors = _stack([e.passage_vectors for e in entries], dimension)
            postings = Postings.build(_passage_terms(entries, acronyms))
        else:
            keep_sentences = np.isin(previous.columns.sentence_ids >> SLOT_BITS, kept_slots)
            keep_passages = np.isin(previous.columns.passage_ids >> SLOT_BITS, kept_slots)
            columns = _concat(_select(previous.columns, keep_sentences, keep_passages), new)
            sentence_vectors = np.vstack(
                [previous.sentence_vectors[keep_sentences]] + [e.sentence_vectors.astype(np.float16) for e in entries]
            )
            old_ids = previous.columns.passage_ids[keep_passages]
            kept_vectors = previous.dense.reconstruct_batch(old_ids) if len(old_ids) else np.zeros((0, dimension))
            passage_vectors = np.vstack([kept_vectors] + [e.passage_vectors for e in entries]).astype(np.float32)
            if previous.acronyms == dict(acronyms):
                postings = previous.postings.select(keep_passages).extend(_passage_terms(entries, acronyms))
            else:  # new acronyms change what every passage matches
                table = Acronyms(acronyms)
                chunks = ColumnChunkStore(columns, {r.slot: r.doc_id for r in articles.values()})
                texts = [p.text for p in chunks.passages(columns.passage_ids)]
                slots = columns.passage_ids >> SLOT_BITS
                postings = Postings.build(
                    [lexical_terms(titles[int(s)], t, table) for s, t in zip(slots, texts, strict=True)]
                )
        dense = self._dense_index(dimension, len(columns.passage_ids))
        if len(columns.passage_ids):
            faiss.omp_set_num_threads(os.cpu_count() or 1)  # building an HNSW graph is worth the threads
            try:
                dense.add_with_ids(np.ascontiguousarray(passage_vectors, dtype=np.float32), columns.passage_ids)
            finally:
                faiss.omp_set_num_threads(1)
        generation = _Generation(
            dict(sorted(articles.items(), key=lambda item: item[1].slot)),
            dict(acronyms),
            columns,
            dense,
            np.ascontiguousarray(sentence_vectors, dtype=np.float16),
            postings,
        )
        self._write_generation(spec, generation)

    def _dense_index(self, dimension: int, count: int) -> faiss.Index:
        if count <= self.hnsw_above:
            return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        graph = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efSearch = HNSW_SEARCH_DEPTH
        return faiss.IndexIDMap2(graph)

    def _write_generation(self, spec: Mapping[str, Any], generation: _Generation) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        folder = self._new_generation()
        postings = generation.postings
        files = {
            CHUNKS: _npz(generation.columns.arrays()),
            PASSAGE_VECTORS: faiss.serialize_index(generation.dense).tobytes(),
            SENTENCE_VECTORS: _npz({"vectors": generation.sentence_vectors}),
            LEXICAL: _npz(
                {
                    "vocabulary": np.array(list(postings.vocabulary), dtype=str),
                    "starts": postings.starts,
                    "rows": postings.rows,
                    "frequencies": postings.frequencies,
                    "lengths": postings.lengths,
                }
            ),
        }
        checksums = {}
        for name, data in files.items():
            _write_synced(folder / name, data)
            checksums[name] = hashlib.sha256(data).hexdigest()
        manifest = {
            "spec": dict(spec),
            "articles": [asdict(record) for record in generation.articles.values()],
            "acronyms": generation.acronyms,
            "files": checksums,
        }
        _write_synced(folder / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode())
        _fsync_folder(folder)
        pointer = self.folder / f"{CURRENT}.tmp-{os.getpid()}"
        _write_synced(pointer, folder.name.encode())
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
        """Previous generations and leftovers of crashed updates (a reader still holding one has read it
        whole already)."""
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


def _stack(arrays: list[np.ndarray], dimension: int) -> np.ndarray:
    return np.vstack(arrays) if arrays else np.zeros((0, dimension), dtype=np.float32)


def _npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def _load_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
        return {name: loaded[name] for name in loaded.files}


def _generation_from(manifest: dict[str, Any], contents: dict[str, bytes]) -> _Generation:
    articles = {a["doc_id"]: ArticleRecord(**a) for a in manifest["articles"]}
    columns = Columns(**_load_npz(contents[CHUNKS]))
    lexical = _load_npz(contents[LEXICAL])
    postings = Postings(
        vocabulary={term: column for column, term in enumerate(lexical["vocabulary"].tolist())},
        starts=lexical["starts"],
        rows=lexical["rows"],
        frequencies=lexical["frequencies"],
        lengths=lexical["lengths"],
    )
    dense = faiss.deserialize_index(np.frombuffer(contents[PASSAGE_VECTORS], dtype=np.uint8))
    vectors = _load_npz(contents[SENTENCE_VECTORS])["vectors"]
    if (
        dense.ntotal != len(columns.passage_ids)
        or len(vectors) != len(columns.sentence_ids)
        or postings.documents != len(columns.passage_ids)
        or sum(r.sentences for r in articles.values()) != len(columns.sentence_ids)
    ):
        raise ValueError("the vectors, postings and chunks do not match")
    graph: Any = faiss.downcast_index(getattr(dense, "index"))  # noqa: B009 (faiss is untyped)
    if hasattr(graph, "hnsw"):
        graph.hnsw.efSearch = HNSW_SEARCH_DEPTH  # not kept by serialisation
    return _Generation(articles, manifest["acronyms"], columns, dense, vectors, postings)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
