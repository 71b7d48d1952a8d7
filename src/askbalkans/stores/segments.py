"""Reading an embedded index: one segment's arrays behind the store interfaces, and several segments seen
as one index.

A segment holds the articles of a range of slots, as columns (rows sorted by id). An index is a list of
segments in slot order, and the slots of articles removed or replaced since their segment was written
("dead" slots): every view skips their rows, and BM25 scores every segment under the statistics of all the
live passages, so an index scores as one collection of its live passages, however it is segmented.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import faiss
import numpy as np

from askbalkans.bm25 import Postings, Statistics
from askbalkans.chunker import Passage, Sentence
from askbalkans.stores import SLOT_BITS, ArticleRecord, Ids, cosines
from askbalkans.tagging import Span

SPAN_TYPES = ("number", "money", "percent", "date", "person", "place", "name")
_NONE = np.zeros(0, dtype=np.int64)


# --- one segment -----------------------------------------------------------------------------------


class FaissDenseIndex:
    """Passage vectors in a FAISS inner-product index with our ids (IndexIDMap2, so vectors come back),
    the `dead` ids left out of searches."""

    def __init__(self, index: faiss.Index, dead: np.ndarray = _NONE, search_depth: int = 0):
        self._index = index
        # FAISS holds selectors by pointer: both are kept here for as long as searches use them.
        self._dead = faiss.IDSelectorBatch(dead) if len(dead) else None
        self._selector = faiss.IDSelectorNot(self._dead) if self._dead is not None else None
        self._search_depth = search_depth  # efSearch, for a graph
        self._live = index.ntotal - len(dead)
        # One question's search is quickest on one thread (2 ms against 4 ms with two, at 12k passages):
        # spreading it costs more than it saves. Builds raise the count again (embedded._add).
        faiss.omp_set_num_threads(1)

    def _parameters(self) -> Any:
        """Made for each search: IndexIDMap2 swaps the selector inside the parameters while it searches, so
        two threads searching at once must not share them."""
        options: dict[str, Any] = {"sel": self._selector} if self._selector is not None else {}
        if self._search_depth:
            hnsw_parameters = getattr(faiss, "SearchParametersHNSW")  # noqa: B009 (not in faiss's stubs)
            return hnsw_parameters(efSearch=self._search_depth, **options)
        return faiss.SearchParameters(**options) if options else None

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The `k` nearest, and those that tie the k-th: which of tied vectors FAISS keeps goes by id,
        and ids follow the index's history."""
        k = min(k, self._live)
        if k <= 0:
            return _NONE, np.zeros(0, dtype=np.float32)
        wanted = k
        while True:
            scores, ids = self._index.search(query[None, :], wanted, params=self._parameters())
            found = ids[0] >= 0
            ids, scores = ids[0][found], scores[0][found]
            if len(ids) < wanted or wanted >= self._live or scores[-1] < scores[k - 1]:
                kept = scores >= scores[k - 1] if len(ids) >= k else slice(None)
                return ids[kept], scores[kept]
            wanted = min(2 * wanted, self._live)

    def vectors(self, ids: Ids) -> np.ndarray:
        return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def similarities(self, query: np.ndarray, ids: Ids) -> np.ndarray:
        return cosines(self.vectors(ids), query)


class ArrayDenseIndex:
    """Vectors in a numpy array (float16), rows sorted by id, the rows `live` marks searched exhaustively."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, live: np.ndarray | None = None):
        self._ids = ids
        self._vectors = vectors
        self._live = live
        self.documents = len(ids) if live is None else int(np.count_nonzero(live))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        similarities = self._vectors @ query.astype(self._vectors.dtype)
        if self._live is not None:
            similarities[~self._live] = -np.inf
        best = np.argsort(-similarities, kind="stable")[:k]
        best = best[np.isfinite(similarities[best])]
        return self._ids[best], similarities[best].astype(np.float32)

    def vectors(self, ids: Ids) -> np.ndarray:
        wanted = np.asarray(ids, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self._ids, wanted), max(len(self._ids) - 1, 0))
        if len(wanted) and (not len(self._ids) or (self._ids[rows] != wanted).any()):
            raise KeyError("an id this segment does not hold")
        return self._vectors[rows].astype(np.float32)

    def similarities(self, query: np.ndarray, ids: Ids) -> np.ndarray:
        return cosines(self.vectors(ids), query)


class PostingsLexicalIndex:
    """BM25 (see `bm25`) over passages; row r of the postings is the passage `ids[r]`, the rows `live`
    marks are searched, under the statistics they are given (those of the whole index)."""

    def __init__(self, postings: Postings, ids: np.ndarray, live: np.ndarray | None = None):
        self._postings = postings
        self._ids = ids
        self._live = live
        self.documents = len(ids) if live is None else int(np.count_nonzero(live))
        self.total_length = (
            postings.total_length if live is None else float(postings.lengths[live].sum(dtype=np.float64))
        )

    def statistics(self, terms: Sequence[str]) -> Statistics:
        frequencies = self._postings.document_frequencies(terms, self._live)
        return Statistics(self.documents, self.total_length, dict(zip(terms, frequencies.tolist(), strict=True)))

    def search(self, terms: Sequence[str], k: int, statistics: Statistics) -> tuple[np.ndarray, np.ndarray]:
        rows, scores = self._postings.top(terms, k, statistics=statistics, live=self._live)
        return self._ids[rows], scores

    def scores(self, terms: Sequence[str], ids: Ids, statistics: Statistics) -> np.ndarray:
        rows = np.searchsorted(self._ids, np.asarray(ids, dtype=np.int64))
        return self._postings.scores_of(terms, rows, statistics=statistics)


# --- columns of one segment ---


@dataclass
class Columns:
    """A segment's sentences and passages as arrays, rows sorted by id."""

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

    def with_values(self, name: str, values: Mapping[str, Any]) -> ArticleTable:
        """These records, with field `name` of those whose doc_ids `values` holds set to those values."""
        column = [values.get(doc_id, value) for doc_id, value in zip(self, self._columns[name], strict=True)]
        return ArticleTable({**self._columns, name: column})

    @classmethod
    def concatenate(cls, tables: Sequence[ArticleTable]) -> ArticleTable:
        """The records of `tables`, whose slots come one table's after the other's."""
        return cls({name: [value for table in tables for value in table._columns[name]] for name in _RECORD_FIELDS})


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
        if (rows < 0).any():
            raise KeyError(f"no passage {wanted[rows < 0][0]} in this segment")
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


# --- several segments as one index ---------------------------------------------------------------


class Routing:
    """Which segment holds an id: segment i holds the slots from `first_slots[i]` up to the next's."""

    def __init__(self, first_slots: Sequence[int]):
        self._first_slots = np.asarray(first_slots, dtype=np.int64)

    def split(self, ids: Ids) -> Iterator[tuple[int, np.ndarray]]:
        """(segment, positions in `ids` of the ids it holds), for each segment that holds some."""
        ids = np.asarray(ids, dtype=np.int64)
        which = np.maximum(np.searchsorted(self._first_slots, ids >> SLOT_BITS, side="right") - 1, 0)
        for segment in np.unique(which).tolist():
            yield segment, np.flatnonzero(which == segment)


def _best(ids: list[np.ndarray], scores: list[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best of the segments' hits, and those that tie the k-th, best first (ties by id)."""
    all_ids, all_scores = np.concatenate([_NONE, *ids]), np.concatenate([np.zeros(0, np.float32), *scores])
    best = np.lexsort((all_ids, -all_scores))
    best = best[all_scores[best] >= all_scores[best[k - 1]]] if len(best) > k > 0 else best[:k]
    return all_ids[best], all_scores[best].astype(np.float32)


class SegmentedDenseIndex:
    """Dense vectors over several segments: searched in each, merged; looked up where they are."""

    def __init__(self, parts: Sequence[FaissDenseIndex | ArrayDenseIndex], routing: Routing, dimension: int):
        self._parts = parts
        self._routing = routing
        self._dimension = dimension

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        found = [part.search(query, k) for part in self._parts]
        return _best([ids for ids, _ in found], [scores for _, scores in found], k)

    def vectors(self, ids: Ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.zeros((len(ids), self._dimension), dtype=np.float32)
        for segment, at in self._routing.split(ids):
            vectors[at] = self._parts[segment].vectors(ids[at])
        return vectors

    def similarities(self, query: np.ndarray, ids: Ids) -> np.ndarray:
        return cosines(self.vectors(ids), query)


class SegmentedLexicalIndex:
    """BM25 over several segments, each scored under the statistics of all of them."""

    def __init__(self, parts: Sequence[PostingsLexicalIndex], routing: Routing):
        self._parts = parts
        self._routing = routing

    def _statistics(self, terms: Sequence[str]) -> Statistics:
        return Statistics.sum([part.statistics(terms) for part in self._parts])

    def search(self, terms: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        statistics = self._statistics(terms)
        found = [part.search(terms, k, statistics) for part in self._parts]
        return _best([ids for ids, _ in found], [scores for _, scores in found], k)

    def scores(self, terms: Sequence[str], ids: Ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        statistics = self._statistics(terms)
        scores = np.zeros(len(ids), dtype=np.float32)
        for segment, at in self._routing.split(ids):
            scores[at] = self._parts[segment].scores(terms, ids[at], statistics)
        return scores

    def document_frequencies(self, terms: Sequence[str]) -> np.ndarray:
        frequencies = self._statistics(terms).frequencies
        return np.array([frequencies.get(term, 0) for term in terms], dtype=np.int64)


class SegmentedChunkStore:
    """Sentences and passages over several segments; those of dead slots are not there."""

    def __init__(self, parts: Sequence[ColumnChunkStore], routing: Routing, dead: set[int]):
        self._parts = parts
        self._routing = routing
        self._dead = dead

    def passages(self, ids: Ids) -> list[Passage]:
        ids = np.asarray(ids, dtype=np.int64)
        if self._dead and any(int(i) >> SLOT_BITS in self._dead for i in ids):
            raise KeyError("a passage of a removed article")
        at_position: dict[int, Passage] = {}
        for segment, at in self._routing.split(ids):
            at_position.update(zip(at.tolist(), self._parts[segment].passages(ids[at]), strict=True))
        return [at_position[position] for position in range(len(ids))]

    def sentences(self, ids: Iterable[int]) -> dict[int, Sentence]:
        wanted = np.fromiter((int(i) for i in ids if int(i) >> SLOT_BITS not in self._dead), dtype=np.int64)
        found: dict[int, Sentence] = {}
        for segment, at in self._routing.split(wanted):
            found.update(self._parts[segment].sentences(wanted[at].tolist()))
        return {int(i): found[int(i)] for i in wanted if int(i) in found}


class LiveArticles(Mapping[str, ArticleRecord]):
    """The records of the articles in use: those of the segments' tables whose slots are not dead, with the
    newer file `signatures` of those whose files were written again with the same text."""

    def __init__(self, tables: Sequence[ArticleTable], dead: set[int], signatures: Mapping[str, str]):
        self._tables = tables
        self._dead = dead
        self._signatures = signatures
        dead_slots = np.fromiter(dead, dtype=np.int64)
        self._live = [~np.isin(table.slots, dead_slots) for table in tables]
        self._count = sum(int(np.count_nonzero(live)) for live in self._live)

    def __getitem__(self, doc_id: str) -> ArticleRecord:
        for table in reversed(self._tables):  # an article replaced later lives in a later segment
            record = table.get(doc_id)
            if record is not None and record.slot not in self._dead:
                signature = self._signatures.get(doc_id)
                return record if signature is None else replace(record, signature=signature)
        raise KeyError(doc_id)

    def __iter__(self) -> Iterator[str]:
        for table, live in zip(self._tables, self._live, strict=True):
            yield from (doc_id for doc_id, alive in zip(table, live.tolist(), strict=True) if alive)

    def __len__(self) -> int:
        return self._count

    def column(self, name: str) -> dict[str, Any]:
        """One field of every record, by doc_id, without making the records."""
        values = {
            doc_id: value
            for table, live in zip(self._tables, self._live, strict=True)
            for doc_id, value, alive in zip(table, table.columns()[name], live.tolist(), strict=True)
            if alive
        }
        return {**values, **self._signatures} if name == "signature" else values
