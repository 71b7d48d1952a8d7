"""The embedded store: FAISS, numpy and BM25 files in one folder, nothing to install or start.

The index is a list of segments, each written once and never changed: `seg-<n>/` holds the articles of one
update (or of a merge of segments) as columns, their vectors (a FAISS index over the passages), their BM25
postings, and a manifest of its files' SHA-256s. A generation, `gen-<n>/`, names the segments in use, the
slots of the articles removed or replaced since their segment was written (their rows are skipped: see
`segments`), the newer signatures of files written again with the same text, and the corpus's acronyms;
`CURRENT` names the generation in use.

An update writes a segment of only the added and changed articles (with those whose lexical terms a
change of acronyms concerns, moved with their vectors, not embedded again), then a generation, then points
`CURRENT` at it with one atomic rename: a crash at any moment leaves `CURRENT` naming a complete
generation. The newest segment is merged into the one before it while it holds more than 1/MERGE_RATIO of
that one's live passages, so an index of n passages has about log4(n) segments and a passage is written
again a few times in its life; a segment more than half dead is compacted. One process writes at a time
(a lock file); an update made from an index that another process changed meanwhile is refused.

Readers read `CURRENT`, check every file of its segments against the manifests (once per store object:
segment names are never reused and their files never change), then map them into memory instead of
copying them: two builds never mix, start-up grows with the checksums only (done in blocks, on all cores),
and a segment that an update removes while it is mapped stays readable (the system keeps a removed file's
pages while they are mapped). Generations and segments not in use are removed by the next update. A
segment of more than `hnsw_above` passages is searched with an HNSW graph instead of exhaustively.

Damage is found, named and repaired, never followed (as SQLite, LMDB and RocksDB do): every byte read is
checked before it is used (`CURRENT` must name a generation; each manifest carries the SHA-256 of its own
content; the files, the SHA-256s in the manifests), the store's files are opened without following
symlinks, and anything that is not what the store wrote raises `StaleIndex` with one line naming the file
and what is wrong, so that the indexer rebuilds. The store deletes only files it wrote: anything else found
under one of its names (a directory or a symlink where it writes a file, a file where it writes a folder)
is moved to `lost/`, as RocksDB's repair does. A store that cannot write its folder raises `StoreError`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import mmap
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from functools import reduce
from pathlib import Path
from typing import Any, BinaryIO

import faiss
import numpy as np

from askbalkans.bm25 import Postings
from askbalkans.chunker import ArticleChunks
from askbalkans.errors import StoreError
from askbalkans.stores import (
    SLOT_BITS,
    ArticleEntry,
    ArticleRecord,
    Index,
    StaleIndex,
    acronym_term_groups,
    chunk_id,
    describe_mismatch,
)
from askbalkans.stores.segments import (
    SPAN_TYPES,
    ArrayDenseIndex,
    ArticleTable,
    ColumnChunkStore,
    Columns,
    FaissDenseIndex,
    LiveArticles,
    PostingsLexicalIndex,
    Routing,
    SegmentedChunkStore,
    SegmentedDenseIndex,
    SegmentedLexicalIndex,
)
from askbalkans.text import AcronymCounts, Acronyms, lexical_terms

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
ARTICLES = "articles.json"
ACRONYM_COUNTS = "acronym_counts.json"
SIGNATURES = "signatures.json"
LOCK = "LOCK"
VOCABULARY = "vocabulary.json"
PASSAGE_VECTORS = "passages.faiss"
SENTENCE_VECTORS = "sentence_vectors.npy"
LOST = "lost"  # where what the store did not write, found under its names, is moved
_POSTINGS_ARRAYS = ("starts", "rows", "frequencies", "lengths")
_GENERATION_PREFIX = "gen-"
_SEGMENT_PREFIX = "seg-"
_GENERATION_NAME = re.compile(r"gen-\d{6,}")
_POINTER_TEMPORARY = f"{CURRENT}.tmp-"
# Every file the store writes in a generation or segment folder: the only ones it deletes.
_STORE_FILES = frozenset(
    [MANIFEST, ARTICLES, ACRONYM_COUNTS, SIGNATURES, VOCABULARY, PASSAGE_VECTORS, SENTENCE_VECTORS]
    + [f"{field.name}.npy" for field in fields(Columns)]
    + [f"postings_{name}.npy" for name in _POSTINGS_ARRAYS]
)
_READ_ATTEMPTS = 3
# Files are checksummed in blocks, so that one large file is checked by several threads at once.
CHECKSUM_BLOCK = 64 << 20
# The newest segment is merged into the one before it while it holds more than 1/MERGE_RATIO as many live
# passages: segments then shrink geometrically, newest last.
MERGE_RATIO = 4
# Searched exhaustively up to this many passages in a segment (exact, and fast enough); above, with HNSW.
HNSW_ABOVE = 200_000
# Graph parameters measured on sentence-embedding vectors (eval/README.md, "Scale"): at a million passages,
# recall@10 against exact search is 0.931 at efSearch 512, 0.946 at 1024 and 0.960 at 2048 (7.7 ms a
# question, within the latency budget).
HNSW_NEIGHBOURS = 32
HNSW_BUILD_DEPTH = 160  # efConstruction
HNSW_SEARCH_DEPTH = 2048  # efSearch


log = logging.getLogger(__name__)


class _GenerationGone(Exception):
    """The generation being read was replaced (and removed) by an update meanwhile."""


@dataclass
class _Segment:
    """A segment's arrays, mapped from its files (or, just written, in memory)."""

    name: str
    articles: ArticleTable
    columns: Columns
    dense: faiss.Index
    sentence_vectors: np.ndarray  # float16, rows as columns.sentence_ids
    postings: Postings  # rows as columns.passage_ids


@dataclass
class _Generation:
    segments: list[_Segment]  # in slot order
    dead: set[int]  # slots of articles removed or replaced since their segment was written
    next_slot: int  # above every slot any segment holds
    next_segment: int  # the number of the next segment written: names are never used twice
    signatures: dict[str, str]  # file signatures newer than the records' (files written again, same text)
    acronyms: dict[str, list[str]]
    acronym_counts: AcronymCounts

    def index(self, dimension: int) -> Index:
        """The generation as one index over its live rows."""
        dead = np.fromiter(self.dead, dtype=np.int64)

        def live(ids: np.ndarray) -> np.ndarray | None:
            return ~np.isin(ids >> SLOT_BITS, dead) if len(dead) else None

        segments = self.segments
        routing = Routing([int(s.articles.slots[0]) for s in segments])
        passage_vectors, lexical, sentence_vectors = [], [], []
        for s in segments:
            live_passages, live_sentences = live(s.columns.passage_ids), live(s.columns.sentence_ids)
            dead_passages = s.columns.passage_ids[~live_passages] if live_passages is not None else dead[:0]
            depth = HNSW_SEARCH_DEPTH if _is_graph(s.dense) else 0
            passage_vectors.append(FaissDenseIndex(s.dense, dead_passages, depth))
            lexical.append(PostingsLexicalIndex(s.postings, s.columns.passage_ids, live_passages))
            sentence_vectors.append(ArrayDenseIndex(s.columns.sentence_ids, s.sentence_vectors, live_sentences))
        articles = LiveArticles([s.articles for s in segments], self.dead, self.signatures)
        return Index(
            articles=articles,
            signatures=articles.column("signature"),
            chunks=SegmentedChunkStore([ColumnChunkStore(s.columns, s.articles) for s in segments], routing, self.dead),
            passage_vectors=SegmentedDenseIndex(passage_vectors, routing, dimension),
            sentence_vectors=SegmentedDenseIndex(sentence_vectors, routing, dimension),
            lexical=SegmentedLexicalIndex(lexical, routing),
            acronyms=self.acronyms,
            acronym_counts=self.acronym_counts,
            passage_count=sum(part.documents for part in lexical),
            sentence_count=sum(part.documents for part in sentence_vectors),
            next_slot=self.next_slot,
        )


class EmbeddedStore:
    def __init__(self, folder: Path, hnsw_above: int = HNSW_ABOVE, merge_ratio: float = MERGE_RATIO):
        self.folder = Path(folder)
        self.hnsw_above = hnsw_above
        self.merge_ratio = merge_ratio
        self.description = f"{self.folder} (embedded)"
        self._checked: set[str] = set()  # segments whose files were found intact (they never change)

    # --- reading ------------------------------------------------------------------------------------

    def open(self, spec: Mapping[str, Any]) -> Index:
        if self.folder.exists() and not self.folder.is_dir():
            raise StaleIndex(f"the index folder {self.folder} is a file")
        lock = self.folder / LOCK
        problem = _problem(lock)
        if problem and problem != "is missing":  # a reader needs no lock, but the next update does
            try:
                self._set_aside(lock, problem)
            except OSError as error:
                log.warning("%s %s, and cannot be moved away (%s): updates fail until it is", lock, problem, error)
        return self._load(spec).index(int(spec["dimension"]))

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
        name = self._current()
        try:
            if not os.path.lexists(self.folder / name):
                raise StaleIndex(f"{self.folder / CURRENT} names {name}, which is missing")
            manifest = _manifest(self.folder / name)
            if not isinstance(manifest.get("spec"), dict):
                raise StaleIndex(f"the manifest of {name} is corrupt (it holds no index spec)")
            mismatch = describe_mismatch(manifest["spec"], spec)
            if mismatch:
                raise StaleIndex(mismatch)
            segment_names = [str(segment) for segment in manifest["segments"]]
            manifests = {segment: _manifest(self.folder / segment) for segment in segment_names}
            recorded = {f"{name}/{file}": blocks for file, blocks in manifest["files"].items()}
            for segment in segment_names:
                if segment not in self._checked:
                    recorded.update({f"{segment}/{f}": blocks for f, blocks in manifests[segment]["files"].items()})
            self._check(recorded)
            self._checked.update(segment_names)
            try:
                segments = [_segment_from(self.folder / segment) for segment in segment_names]
                counts = AcronymCounts.from_json(json.loads((self.folder / name / ACRONYM_COUNTS).read_bytes()))
                signatures = json.loads((self.folder / name / SIGNATURES).read_bytes())
                return _Generation(
                    segments,
                    set(manifest["dead"]),
                    int(manifest["next_slot"]),
                    int(manifest["next_segment"]),
                    signatures,
                    manifest["acronyms"],
                    counts,
                )
            except FileNotFoundError as error:
                raise StaleIndex(f"index file {error.filename} is missing") from None
            except Exception as error:  # anything unreadable in files that passed their checksums
                raise StaleIndex(f"the index files cannot be read ({error!r})") from error
        except StaleIndex:
            if self._replaced(name):
                raise _GenerationGone(f"generation {name} was replaced while being read") from None
            raise
        except (KeyError, TypeError, ValueError) as error:
            raise StaleIndex(f"the index manifest is corrupt ({error!r})") from error

    def _current(self) -> str:
        """The generation `CURRENT` names; StaleIndex, naming the file and what is wrong, where it names none."""
        pointer = self.folder / CURRENT
        if _problem(pointer) == "is missing":
            if self._folders(_GENERATION_PREFIX):
                raise StaleIndex(f"{pointer} is missing (generations are there, but none is named in use)")
            raise StaleIndex(f"no index in {self.folder} yet")
        data = _read_owned(pointer)
        try:
            name = data.decode("ascii").strip()
        except UnicodeDecodeError:
            raise StaleIndex(f"{pointer} is corrupt (it holds binary bytes, not the name of a generation)") from None
        if not name:
            raise StaleIndex(f"{pointer} is empty (it names no generation)")
        if not _GENERATION_NAME.fullmatch(name):
            raise StaleIndex(f"{pointer} is corrupt (it names no generation: {name[:40]!r})")
        return name

    def _check(self, recorded: Mapping[str, Any]) -> None:
        for file in recorded:
            problem = _problem(self.folder / file)
            if problem:
                raise StaleIndex(f"index file {self.folder / file} {problem}")
        found = _checksums(self.folder, recorded)
        for file, blocks in recorded.items():
            if found[file] is None:
                raise StaleIndex(f"index file {self.folder / file} cannot be read (it vanished while being checked)")
            if found[file] != list(blocks):
                raise StaleIndex(f"index file {self.folder / file} is corrupt (checksum mismatch)")

    def _replaced(self, generation: str) -> bool:
        """Whether `CURRENT` now names another generation than `generation`."""
        try:
            return self._current() != generation
        except StaleIndex:
            return False

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
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"the index folder {self.folder} is a file: move it away, or choose another (--index)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._writer_lock():
                self._set_aside_foreign()
                self._update(spec, set(remove), list(add), acronyms, list(refresh), from_scratch)
        except OSError as error:  # the previous index, if any, is still in use
            raise StoreError(f"cannot write the index in {self.folder} ({_reason(error)})") from None

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """One writer at a time: a second update waits for the first (then finds the index changed)."""
        lock = self.folder / LOCK
        problem = _problem(lock)
        if problem and problem != "is missing":
            self._set_aside(lock, problem)
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # which unlocks

    def _set_aside_foreign(self) -> None:
        """Move what the store did not write, found under its names in its folder, to `lost/`: anything but
        a file at CURRENT (and its temporary copies), anything but a folder at a generation's or a segment's
        name. An update writes there; nothing it cannot recreate is lost."""
        with os.scandir(self.folder) as entries:
            found = sorted(entries, key=lambda entry: entry.name)
        for entry in found:
            name = entry.name
            if name == CURRENT or name.startswith(_POINTER_TEMPORARY):
                problem = _problem(Path(entry.path))
            elif self._numbered(name):
                problem = _problem(Path(entry.path), folder=True)
            else:
                continue
            if problem:
                self._set_aside(Path(entry.path), problem)

    def _set_aside(self, path: Path, problem: str) -> None:
        """Move `path` (which `problem` describes) to `lost/<time>/`, keeping its place under the folder."""
        batch = self.folder / LOST / time.strftime("%Y%m%dT%H%M%S")
        destination = batch / path.relative_to(self.folder)
        for number in range(2, 1000):
            if not os.path.lexists(destination):
                break
            destination = batch / f"{path.relative_to(self.folder)}.{number}"
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, destination)
        log.warning("%s %s: moved it to %s", path, problem, destination)

    def _update(
        self,
        spec: Mapping[str, Any],
        removed: set[str],
        entries: list[ArticleEntry],
        acronyms: AcronymCounts,
        refresh: list[ArticleRecord],
        from_scratch: bool,
    ) -> None:
        table, dimension = acronyms.acronyms(), int(spec["dimension"])
        new = _Generation([], set(), 0, 1, {}, table, acronyms)
        if not from_scratch:
            # The caller worked from the index it opened; another update since then would not fit with it.
            previous = self._load(spec)
            if any(entry.record.slot < previous.next_slot for entry in entries):
                raise StaleIndex("another update changed the index meanwhile")
            index = previous.index(dimension)
            written = removed | {entry.record.doc_id for entry in entries}
            # Articles whose lexical terms the new acronyms change move to the new segment, vectors and all.
            moved = sorted(_concerned(previous, table) - written)
            if moved:
                log.info("moving %d articles whose lexical terms the new acronyms change", len(moved))
            new.segments, new.next_segment = list(previous.segments), previous.next_segment
            new.dead = previous.dead | {index.articles[d].slot for d in written | set(moved) if d in index.articles}
            signatures = {**previous.signatures, **{record.doc_id: record.signature for record in refresh}}
            new.signatures = {d: signature for d, signature in signatures.items() if d not in written}
            new.next_slot = max([previous.next_slot, *(entry.record.slot + 1 for entry in entries)])
            entries += [_stored_entry(index, index.articles[d], slot) for slot, d in enumerate(moved, new.next_slot)]
        new.next_slot = max([new.next_slot, *(entry.record.slot + 1 for entry in entries)])
        if entries:
            columns = _columns_of(entries)
            dense = self._dense_index(columns.passage_ids, _stack([e.passage_vectors for e in entries], dimension))
            sentence_vectors = _stack([e.sentence_vectors for e in entries], dimension)
            postings = Postings.build(_passage_terms(entries, table))
            articles = ArticleTable.of(e.record for e in entries)
            new.segments.append(self._write_segment(new, columns, articles, dense, sentence_vectors, postings))
        self._merge_small_and_dead(new)
        self._write_generation(spec, new)

    def _merge_small_and_dead(self, generation: _Generation) -> None:
        """Merge the newest segment into the one before it while that one holds fewer than `merge_ratio`
        times as many live passages, and compact the segments more than half dead; keep only the dead
        slots that remain in some segment."""
        dead = generation.dead

        def live(segment: _Segment) -> int:
            return int(np.count_nonzero(~np.isin(segment.columns.passage_ids >> SLOT_BITS, list(dead))))

        merged = [segment for segment in generation.segments if live(segment)]  # wholly dead ones are dropped
        while len(merged) >= 2 and live(merged[-2]) < self.merge_ratio * live(merged[-1]):
            merged[-2:] = [self._merge(generation, merged[-2:])]
        generation.segments = [
            self._merge(generation, [s]) if 2 * live(s) < len(s.columns.passage_ids) else s for s in merged
        ]
        slots = np.concatenate([np.zeros(0, dtype=np.int64), *(s.articles.slots for s in generation.segments)])
        dead_slots = np.fromiter(dead, dtype=np.int64)
        generation.dead = set(dead_slots[np.isin(dead_slots, slots)].tolist())

    def _merge(self, generation: _Generation, parts: Sequence[_Segment]) -> _Segment:
        """One segment of the live rows of `parts` (consecutive segments), their records carrying the newer
        signatures, which the generation then no longer keeps."""
        dead_slots = list(generation.dead)
        keep_articles = [~np.isin(p.articles.slots, dead_slots) for p in parts]
        keep_sentences = [~np.isin(p.columns.sentence_ids >> SLOT_BITS, dead_slots) for p in parts]
        keep_passages = [~np.isin(p.columns.passage_ids >> SLOT_BITS, dead_slots) for p in parts]
        columns = reduce(
            _concat, [_select(p.columns, s, k) for p, s, k in zip(parts, keep_sentences, keep_passages, strict=True)]
        )
        articles = ArticleTable.concatenate([p.articles.select(k) for p, k in zip(parts, keep_articles, strict=True)])
        articles = articles.with_values("signature", generation.signatures)
        generation.signatures = {d: s for d, s in generation.signatures.items() if d not in articles}
        sentence_vectors = np.vstack([p.sentence_vectors[k] for p, k in zip(parts, keep_sentences, strict=True)])
        postings = Postings.concatenate([p.postings.select(k) for p, k in zip(parts, keep_passages, strict=True)])
        first = parts[0]
        if keep_passages[0].all() and len(columns.passage_ids) > self.hnsw_above and _is_graph(first.dense):
            # The first part's graph grows with the others' passages. The mapped graph is read-only (and
            # faiss.clone_index keeps it mapped): a copy grows.
            dense = faiss.deserialize_index(faiss.serialize_index(first.dense))
            grown_by = list(zip(parts[1:], keep_passages[1:], strict=True))
            vectors = _stack([_vectors(p.dense, p.columns.passage_ids[k]) for p, k in grown_by], first.dense.d)
            _add(dense, columns.passage_ids[len(first.columns.passage_ids) :], vectors)
        else:
            every = zip(parts, keep_passages, strict=True)
            vectors = _stack([_vectors(p.dense, p.columns.passage_ids[k]) for p, k in every], first.dense.d)
            dense = self._dense_index(columns.passage_ids, vectors)
        return self._write_segment(generation, columns, articles, dense, sentence_vectors, postings)

    def _write_segment(
        self,
        generation: _Generation,
        columns: Columns,
        articles: ArticleTable,
        dense: faiss.Index,
        sentence_vectors: np.ndarray,
        postings: Postings,
    ) -> _Segment:
        """Write a new segment folder of these rows, named from the generation's counter."""
        numbers = [
            generation.next_segment,
            *(int(p.name[len(_SEGMENT_PREFIX) :]) + 1 for p in self._folders(_SEGMENT_PREFIX)),
        ]
        generation.next_segment = max(numbers) + 1
        name = f"{_SEGMENT_PREFIX}{generation.next_segment - 1:06d}"
        (self.folder / name).mkdir()
        segment = _Segment(name, articles, columns, dense, np.ascontiguousarray(sentence_vectors, np.float16), postings)
        writers: dict[str, Callable[[BinaryIO], object]] = {
            ARTICLES: _json_writer(articles.columns()),
            VOCABULARY: _json_writer(list(postings.vocabulary)),
            PASSAGE_VECTORS: _index_writer(dense),
            SENTENCE_VECTORS: _array_writer(segment.sentence_vectors),
            **{f"{name}.npy": _array_writer(array) for name, array in columns.arrays().items()},
            **{f"postings_{name}.npy": _array_writer(getattr(postings, name)) for name in _POSTINGS_ARRAYS},
        }
        _write_folder(self.folder / segment.name, writers, {})
        self._checked.add(segment.name)
        return segment

    def _dense_index(self, ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
        """A new passage index of `vectors`: exact up to `hnsw_above` passages, a graph above."""
        dimension = vectors.shape[1]
        if len(ids) <= self.hnsw_above:
            dense = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        else:
            graph = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = HNSW_BUILD_DEPTH
            dense = faiss.IndexIDMap2(graph)
        _add(dense, ids, vectors)
        return dense

    def _write_generation(self, spec: Mapping[str, Any], generation: _Generation) -> None:
        folder = self._new_folder(_GENERATION_PREFIX)
        manifest = {
            "spec": dict(spec),
            "segments": [segment.name for segment in generation.segments],
            "dead": sorted(generation.dead),
            "next_slot": generation.next_slot,
            "next_segment": generation.next_segment,
            "acronyms": generation.acronyms,
        }
        files = {
            ACRONYM_COUNTS: _json_writer(generation.acronym_counts.to_json()),
            SIGNATURES: _json_writer(generation.signatures),
        }
        _write_folder(folder, files, manifest)
        pointer = self.folder / f"{CURRENT}.tmp-{os.getpid()}"
        _write_synced(pointer, lambda handle: handle.write(folder.name.encode()))
        os.replace(pointer, self.folder / CURRENT)
        _fsync_folder(self.folder)
        self._remove_unused(folder.name, {segment.name for segment in generation.segments})

    def _new_folder(self, prefix: str) -> Path:
        numbers = [int(p.name[len(prefix) :]) for p in self._folders(prefix)]
        folder = self.folder / f"{prefix}{max(numbers, default=0) + 1:06d}"
        folder.mkdir()
        return folder

    @staticmethod
    def _numbered(name: str) -> bool:
        """Whether `name` is a generation's or a segment's."""
        return any(
            name.startswith(prefix) and name[len(prefix) :].isdigit()
            for prefix in (_GENERATION_PREFIX, _SEGMENT_PREFIX)
        )

    def _folders(self, prefix: str) -> list[Path]:
        return [p for p in self.folder.glob(f"{prefix}*") if p.is_dir() and p.name[len(prefix) :].isdigit()]

    def _remove_unused(self, generation: str, segments: set[str]) -> None:
        """Other generations, segments they alone used, and leftovers of crashed updates (a reader that
        mapped a segment keeps reading it: the system frees a removed file's pages only when its mappings
        are closed). Only the files the store writes are deleted; anything else is moved to `lost/`."""
        for path in self._folders(_GENERATION_PREFIX) + self._folders(_SEGMENT_PREFIX):
            if path.name != generation and path.name not in segments:
                with contextlib.suppress(OSError):  # what is left is removed by the next update
                    self._remove_folder(path)
        for leftover in self.folder.glob(f"{_POINTER_TEMPORARY}*"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _remove_folder(self, folder: Path) -> None:
        with os.scandir(folder) as entries:
            found = list(entries)
        for entry in found:
            if entry.name in _STORE_FILES and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
            else:
                self._set_aside(Path(entry.path), "is not a file the index wrote")
        folder.rmdir()


# --- what an update moves ----------------------------------------------------------------------------


def _concerned(generation: _Generation, acronyms: Mapping[str, list[str]]) -> set[str]:
    """The live articles with a passage whose lexical terms change when the acronyms become `acronyms`."""
    groups = acronym_term_groups(generation.acronyms, acronyms)
    found: set[str] = set()
    for segment in generation.segments if groups else ():
        rows = np.unique(np.concatenate([segment.postings.rows_with_all(group) for group in groups]))
        slots = np.unique(segment.columns.passage_ids[rows] >> SLOT_BITS)
        found.update(segment.articles.doc_id_at(int(slot)) for slot in slots if int(slot) not in generation.dead)
    return found


def _stored_entry(index: Index, record: ArticleRecord, slot: int) -> ArticleEntry:
    """A stored article as an entry under a new slot, with its stored chunks and vectors."""
    first = chunk_id(record.slot, 0)
    sentence_ids = list(range(first, first + record.sentences))
    passage_ids = list(range(first, first + record.passages))
    sentences = index.chunks.sentences(sentence_ids)
    return ArticleEntry(
        record=replace(record, slot=slot),
        chunks=ArticleChunks(
            record.doc_id, tuple(sentences[i] for i in sentence_ids), tuple(index.chunks.passages(passage_ids))
        ),
        passage_vectors=index.passage_vectors.vectors(passage_ids),
        sentence_vectors=index.sentence_vectors.vectors(sentence_ids),
    )


# --- columns -------------------------------------------------------------------------------------


def _columns_of(entries: list[ArticleEntry]) -> Columns:
    """The columns of `entries`, whose slots ascend."""
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


def _vectors(dense: faiss.Index, ids: np.ndarray) -> np.ndarray:
    return dense.reconstruct_batch(ids) if len(ids) else np.zeros((0, dense.d), dtype=np.float32)


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


def _segment_from(folder: Path) -> _Segment:
    """The segment in `folder`, its arrays and passage vectors mapped (read-only), not copied."""
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
        or not len(articles)
    ):
        raise ValueError("the vectors, postings and chunks do not match")
    return _Segment(folder.name, articles, columns, dense, vectors, postings)


def _manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a generation or segment folder, checked against the SHA-256 it carries."""
    problem = _problem(folder, folder=True)
    if problem:
        raise StaleIndex(f"index folder {folder} {problem}")
    path = folder / MANIFEST
    data = _read_owned(path)
    try:
        manifest = json.loads(data)
    except ValueError as error:  # UnicodeDecodeError included
        raise StaleIndex(f"{path} is corrupt (not JSON: {error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise StaleIndex(f"{path} is corrupt (it holds no file list)")
    if "sha256" not in manifest:
        raise StaleIndex(f"{path} carries no checksum (an index written by an older version)")
    if manifest.pop("sha256") != _digest(manifest):
        raise StaleIndex(f"{path} is corrupt (checksum mismatch)")
    return manifest


def _digest(manifest: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(manifest, ensure_ascii=False).encode()).hexdigest()


def sealed(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """`manifest` with the SHA-256 of its content, as it is written."""
    return {**manifest, "sha256": _digest(manifest)}


def _problem(path: Path, folder: bool = False) -> str:
    """Why `path` is not what the store writes there (a regular file it can read, or with `folder` a
    folder): "is missing", "is a symlink (to …)", …; "" when it is. Symlinks are never followed."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "is missing"
    except OSError as error:
        return f"cannot be read ({_reason(error)})"
    written = "the folder the index wrote" if folder else "the file the index wrote"
    if stat.S_ISLNK(mode):
        return f"is a symlink (to {os.readlink(path)}), not {written}"
    if folder:
        return "" if stat.S_ISDIR(mode) else f"is a file, not {written}"
    if stat.S_ISDIR(mode):
        return f"is a directory, not {written}"
    if not stat.S_ISREG(mode):
        return f"is a FIFO, socket or device, not {written}"
    return "" if os.access(path, os.R_OK) else "cannot be read (permission denied)"


def _read_owned(path: Path) -> bytes:
    """The bytes of a file the store wrote, read without following a symlink; StaleIndex, naming the file and
    what is wrong, when it is not such a file."""
    problem = _problem(path)
    if problem:
        raise StaleIndex(f"{path} {problem}")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read()
    except OSError as error:  # replaced since it was looked at
        raise StaleIndex(f"{path} cannot be read ({_reason(error)})") from None


def _reason(error: OSError) -> str:
    return f"{error.strerror or error}: {error.filename}" if error.filename else str(error.strerror or error)


def _write_folder(
    folder: Path, writers: Mapping[str, Callable[[BinaryIO], object]], manifest: Mapping[str, Any]
) -> None:
    """Write the files of `writers` into `folder`, then its manifest (`manifest` and their checksums)."""
    for name, write in writers.items():
        _write_synced(folder / name, write)
    _write_synced(folder / MANIFEST, _json_writer(sealed({**manifest, "files": _checksums(folder, writers)})))
    _fsync_folder(folder)


def _array_writer(array: np.ndarray) -> Callable[[BinaryIO], object]:
    return lambda handle: np.save(handle, array, allow_pickle=False)


def _index_writer(index: faiss.Index) -> Callable[[BinaryIO], object]:
    writer: Any = getattr(faiss, "PyCallbackIOWriter")  # noqa: B009 (missing from faiss's type stubs)
    return lambda handle: faiss.write_index(index, writer(handle.write))


def _json_writer(value: Any) -> Callable[[BinaryIO], object]:
    return lambda handle: handle.write(json.dumps(value, ensure_ascii=False).encode())


def _checksums(folder: Path, files: Iterable[str]) -> dict[str, list[str] | None]:
    """SHA-256 of each CHECKSUM_BLOCK bytes of each file (a last, short or empty, block included), or None
    for a file that is missing; blocks are hashed on all cores at once, a large file's too."""
    sizes: dict[str, int | None] = {}
    for name in files:
        try:
            sizes[name] = os.lstat(folder / name).st_size
        except OSError:
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
        except (OSError, ValueError):  # gone, unreadable, or not a file that can be mapped
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
