"""The embedded store: FAISS, numpy and BM25 files in one folder, nothing to install or start.

Every update writes a complete new generation, `gen-<n>/`, and then points `CURRENT` at it with one
atomic rename; a crash at any moment leaves `CURRENT` naming a complete generation (or nothing, before the
first one). Readers read `CURRENT`, then each file of that generation once, checking it against the
SHA-256 its manifest records, and build the index from the bytes they checked: two builds can never mix.
Unchanged articles are copied from the previous generation, so an update embeds only what changed.
Generations other than the current one (a previous one, leftovers of a crash) are removed by the next
update.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from askbalkans.bm25 import Postings
from askbalkans.chunker import Passage, Sentence
from askbalkans.stores import ArticleEntry, ArticleRecord, Ids, Index, StaleIndex, chunk_id, describe_mismatch
from askbalkans.tagging import Span
from askbalkans.text import lexical_terms

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
PASSAGE_VECTORS = "passages.faiss"
SENTENCE_VECTORS = "sentences.npz"
LEXICAL = "lexical.npz"
_GENERATION_PREFIX = "gen-"
_READ_ATTEMPTS = 3


class _GenerationGone(Exception):
    """The generation being read was replaced (and removed) by an update meanwhile."""


class FaissDenseIndex:
    """Passage vectors in a FAISS inner-product index with our ids (IndexIDMap2, so vectors come back)."""

    def __init__(self, index: faiss.Index):
        self._index = index

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
    """Vectors in a numpy array, rows sorted by id; search is exhaustive."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray):
        self._ids = ids
        self._vectors = vectors

    def _rows(self, ids: Ids) -> np.ndarray:
        return np.searchsorted(self._ids, np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        similarities = self._vectors @ query
        best = np.argsort(-similarities, kind="stable")[:k]
        return self._ids[best], similarities[best]

    def vectors(self, ids: Ids) -> np.ndarray:
        return np.asarray(self._vectors[self._rows(ids)], dtype=np.float32)

    def similarities(self, query: np.ndarray, ids: Ids) -> np.ndarray:
        return self.vectors(ids) @ query


class PostingsLexicalIndex:
    """BM25 (see `bm25`) over passages; row r of the postings is the passage `ids[r]`."""

    def __init__(self, postings: Postings, ids: np.ndarray):
        self._postings = postings
        self._ids = ids

    def search(self, terms: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self._postings.scores(terms)
        k = min(k, len(scores))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[scores[top] > 0]
        top = top[np.argsort(-scores[top], kind="stable")]
        return self._ids[top], scores[top]

    def scores(self, terms: Sequence[str], ids: Ids) -> np.ndarray:
        return self._postings.scores(terms)[np.searchsorted(self._ids, np.asarray(ids, dtype=np.int64))]


class MemoryChunkStore:
    """Sentences and passages held in memory, by id."""

    def __init__(self, sentences: dict[int, Sentence], passages: dict[int, Passage]):
        self._sentences = sentences
        self._passages = passages

    def passages(self, ids: Ids) -> list[Passage]:
        return [self._passages[int(i)] for i in ids]

    def sentences(self, ids: Iterable[int]) -> dict[int, Sentence]:
        return {int(i): self._sentences[int(i)] for i in ids if int(i) in self._sentences}


class EmbeddedStore:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.description = f"{self.folder} (embedded)"

    # --- reading ------------------------------------------------------------------------------------

    def _read_generation(self, spec: Mapping[str, Any]) -> tuple[Path, dict[str, Any], dict[str, bytes]]:
        """The current generation's folder, manifest and verified file contents. A generation that an
        update removes while it is being read is read again from the new `CURRENT`."""
        for _ in range(_READ_ATTEMPTS - 1):
            try:
                return self._read_current(spec)
            except _GenerationGone:
                continue
        try:
            return self._read_current(spec)
        except _GenerationGone as gone:
            raise StaleIndex(str(gone)) from None

    def _read_current(self, spec: Mapping[str, Any]) -> tuple[Path, dict[str, Any], dict[str, bytes]]:
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
        return generation, manifest, contents

    def _replaced(self, generation: str) -> bool:
        """Whether `CURRENT` now names another generation than `generation`."""
        try:
            return (self.folder / CURRENT).read_text("utf-8").strip() != generation
        except FileNotFoundError:
            return False

    def open(self, spec: Mapping[str, Any]) -> Index:
        _, manifest, contents = self._read_generation(spec)
        try:
            return _index_from(manifest, contents)
        except Exception as error:  # anything unreadable in files that passed their checksums
            raise StaleIndex(f"the index files cannot be read ({error})") from error

    # --- writing ------------------------------------------------------------------------------------

    def update(
        self,
        spec: Mapping[str, Any],
        remove: Iterable[str],
        add: Iterable[ArticleEntry],
        acronyms: Mapping[str, list[str]],
    ) -> None:
        removed = set(remove)
        try:
            _, manifest, contents = self._read_generation(spec)
            previous = _article_tables(manifest, contents)
        except StaleIndex:
            previous = {}
        tables = {doc_id: table for doc_id, table in previous.items() if doc_id not in removed}
        for entry in add:
            tables[entry.record.doc_id] = _ArticleTable.from_entry(entry)
        self._write_generation(spec, sorted(tables.values(), key=lambda t: t.record.slot), dict(acronyms))

    def _write_generation(self, spec: Mapping[str, Any], tables: list[_ArticleTable], acronyms: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        generation = self._new_generation()
        files = _generation_files(tables, acronyms)
        checksums = {}
        for name, data in files.items():
            _write_synced(generation / name, data)
            checksums[name] = hashlib.sha256(data).hexdigest()
        manifest = {
            "spec": dict(spec),
            "articles": [asdict(t.record) for t in tables],
            "acronyms": acronyms,
            "files": checksums,
        }
        _write_synced(generation / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode())
        _fsync_folder(generation)
        pointer = self.folder / f"{CURRENT}.tmp-{os.getpid()}"
        _write_synced(pointer, generation.name.encode())
        os.replace(pointer, self.folder / CURRENT)
        _fsync_folder(self.folder)
        self._remove_other_generations(generation.name)

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


class _ArticleTable:
    """One stored article: its record, chunks and vectors, as kept in a generation."""

    def __init__(self, record: ArticleRecord, sentences, passages, passage_vectors, sentence_vectors):
        self.record = record
        self.sentences: list[Sentence] = sentences
        self.passages: list[Passage] = passages
        self.passage_vectors: np.ndarray = passage_vectors
        self.sentence_vectors: np.ndarray = sentence_vectors

    @classmethod
    def from_entry(cls, entry: ArticleEntry) -> _ArticleTable:
        return cls(
            entry.record,
            list(entry.chunks.sentences),
            list(entry.chunks.passages),
            entry.passage_vectors,
            entry.sentence_vectors,
        )


def _generation_files(tables: list[_ArticleTable], acronyms: dict) -> dict[str, bytes]:
    """The files of a generation holding `tables`, by name."""
    dimension = next((t.passage_vectors.shape[1] for t in tables), 0)
    passage_ids = np.array([chunk_id(t.record.slot, p.number) for t in tables for p in t.passages], dtype=np.int64)
    sentence_ids = np.array([chunk_id(t.record.slot, s.number) for t in tables for s in t.sentences], dtype=np.int64)
    passage_vectors = _stack([t.passage_vectors for t in tables], dimension)
    sentence_vectors = _stack([t.sentence_vectors for t in tables], dimension)

    dense = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    if len(passage_ids):
        dense.add_with_ids(passage_vectors, passage_ids)
    postings = Postings.build([lexical_terms(t.record.title, p.text, acronyms) for t in tables for p in t.passages])
    chunks = {
        t.record.doc_id: {
            "sentences": [
                [s.start, s.end, s.leans_on_previous, s.text, [[p.type, p.start, p.end] for p in s.spans]]
                for s in t.sentences
            ],
            "passages": [[p.first_sentence, p.end_sentence] for p in t.passages],
        }
        for t in tables
    }
    return {
        CHUNKS: json.dumps(chunks, ensure_ascii=False).encode(),
        PASSAGE_VECTORS: faiss.serialize_index(dense).tobytes(),
        SENTENCE_VECTORS: _npz(ids=sentence_ids, vectors=sentence_vectors),
        LEXICAL: _npz(
            ids=passage_ids,
            vocabulary=np.array(list(postings.vocabulary), dtype=str),
            starts=postings.starts,
            rows=postings.rows,
            frequencies=postings.frequencies,
            lengths=postings.lengths,
        ),
    }


def _stack(arrays: list[np.ndarray], dimension: int) -> np.ndarray:
    return np.ascontiguousarray(np.vstack(arrays) if arrays else np.zeros((0, dimension)), dtype=np.float32)


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def _load_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
        return {name: loaded[name] for name in loaded.files}


def _article_tables(manifest: dict[str, Any], contents: dict[str, bytes]) -> dict[str, _ArticleTable]:
    """The stored articles of a generation, as tables to carry into the next one."""
    index = _index_from(manifest, contents)
    tables = {}
    for doc_id, record in index.articles.items():
        passage_ids = [chunk_id(record.slot, n) for n in range(record.passages)]
        sentence_ids = [chunk_id(record.slot, n) for n in range(record.sentences)]
        sentences = index.chunks.sentences(sentence_ids)
        tables[doc_id] = _ArticleTable(
            record,
            [sentences[i] for i in sentence_ids],
            index.chunks.passages(passage_ids),
            index.passage_vectors.vectors(passage_ids),
            index.sentence_vectors.vectors(sentence_ids),
        )
    return tables


def _index_from(manifest: dict[str, Any], contents: dict[str, bytes]) -> Index:
    articles = {a["doc_id"]: ArticleRecord(**a) for a in manifest["articles"]}
    stored_chunks = json.loads(contents[CHUNKS])
    sentences: dict[int, Sentence] = {}
    passages: dict[int, Passage] = {}
    for doc_id, record in articles.items():
        own = stored_chunks[doc_id]
        texts = []
        for number, (start, end, leaning, text, spans) in enumerate(own["sentences"]):
            typed = tuple(Span(kind, first, last) for kind, first, last in spans)
            sentences[chunk_id(record.slot, number)] = Sentence(doc_id, number, start, end, text, leaning, typed)
            texts.append(text)
        for number, (first, end) in enumerate(own["passages"]):
            passages[chunk_id(record.slot, number)] = Passage(doc_id, number, first, end, " ".join(texts[first:end]))
        if len(own["sentences"]) != record.sentences or len(own["passages"]) != record.passages:
            raise ValueError(f"the chunks of {doc_id} do not match its record")
    dense = faiss.deserialize_index(np.frombuffer(contents[PASSAGE_VECTORS], dtype=np.uint8))
    sentence_arrays = _load_npz(contents[SENTENCE_VECTORS])
    lexical = _load_npz(contents[LEXICAL])
    postings = Postings(
        vocabulary={term: column for column, term in enumerate(lexical["vocabulary"].tolist())},
        starts=lexical["starts"],
        rows=lexical["rows"],
        frequencies=lexical["frequencies"],
        lengths=lexical["lengths"],
    )
    if dense.ntotal != len(passages) or len(sentence_arrays["ids"]) != len(sentences):
        raise ValueError("the vectors do not match the chunks")
    return Index(
        articles=articles,
        chunks=MemoryChunkStore(sentences, passages),
        passage_vectors=FaissDenseIndex(dense),
        sentence_vectors=ArrayDenseIndex(sentence_arrays["ids"], sentence_arrays["vectors"]),
        lexical=PostingsLexicalIndex(postings, lexical["ids"]),
        acronyms=manifest["acronyms"],
        passage_count=len(passages),
        sentence_count=len(sentences),
    )


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
