"""BM25 over term postings, scored at question time (Lucene's variant, as bm25s computes it).

Only term frequencies and document lengths are stored; the corpus statistics (document count, average
length, document frequencies) enter at scoring time, so adding or removing documents never requires
rescoring the others, and a question touches only the postings of its own terms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, reduce

import numpy as np

K1 = 1.5
B = 0.75


def idf_lucene(document_frequency: np.ndarray, documents: int) -> np.ndarray:
    """log(1 + (N - df + 0.5) / (df + 0.5)): never negative, unlike Robertson's."""
    return np.log1p((documents - document_frequency + 0.5) / (document_frequency + 0.5))


def tf_lucene(term_frequency: np.ndarray, length: np.ndarray, average_length: float, k1: float, b: float) -> np.ndarray:
    """tf / (tf + k1 * (1 - b + b * length / average length)): saturating in tf, normalised by length."""
    return term_frequency / (term_frequency + k1 * (1 - b + b * length / average_length))


@dataclass(frozen=True)
class Statistics:
    """What BM25 needs to know of a collection: its size, its total length, and each term's document
    frequency (the statistics of several postings, such as the segments of one index, add up)."""

    documents: int
    total_length: float
    frequencies: dict[str, int]

    @property
    def average_length(self) -> float:
        return self.total_length / self.documents if self.documents else 1.0

    @classmethod
    def sum(cls, parts: Sequence[Statistics]) -> Statistics:
        frequencies: Counter[str] = Counter()
        for part in parts:
            frequencies.update(part.frequencies)
        return cls(sum(p.documents for p in parts), sum(p.total_length for p in parts), dict(frequencies))


@dataclass(frozen=True)
class Postings:
    """Term frequencies of a set of documents, by term (compressed sparse columns)."""

    vocabulary: dict[str, int]  # term -> column
    starts: np.ndarray  # int64 (terms + 1): postings of term t are rows[starts[t]:starts[t + 1]]
    rows: np.ndarray  # int32 document rows
    frequencies: np.ndarray  # float32 term frequency in that document
    lengths: np.ndarray  # float32 (documents,): terms per document

    @property
    def documents(self) -> int:
        return len(self.lengths)

    @cached_property
    def total_length(self) -> float:
        return float(self.lengths.sum(dtype=np.float64))

    def _term_of_entries(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.vocabulary), dtype=np.int64), np.diff(self.starts))

    def select(self, keep: np.ndarray) -> Postings:
        """The postings of the documents the boolean mask `keep` marks, renumbered in order."""
        new_row = np.cumsum(keep) - 1
        kept_entries = keep[self.rows]
        terms = self._term_of_entries()[kept_entries]
        counts = np.bincount(terms, minlength=len(self.vocabulary))
        return Postings(
            vocabulary=self.vocabulary,
            starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            rows=new_row[self.rows[kept_entries]].astype(np.int32),
            frequencies=self.frequencies[kept_entries],
            lengths=self.lengths[keep],
        )

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> Postings:
        """The postings of `documents` (each a list of terms), numbered in order."""
        vocabulary: dict[str, int] = {}
        term_ids, rows, frequencies = [], [], []
        for row, document in enumerate(documents):
            for term, count in Counter(document).items():
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
                rows.append(row)
                frequencies.append(count)
        terms = np.asarray(term_ids, dtype=np.int64)
        order = np.argsort(terms, kind="stable")  # rows ascending within a term
        return cls(
            vocabulary=vocabulary,
            starts=np.concatenate([[0], np.cumsum(np.bincount(terms, minlength=len(vocabulary)))]).astype(np.int64),
            rows=np.asarray(rows, dtype=np.int32)[order],
            frequencies=np.asarray(frequencies, dtype=np.float32)[order],
            lengths=np.asarray([len(d) for d in documents], dtype=np.float32),
        )

    @classmethod
    def concatenate(cls, parts: Sequence[Postings]) -> Postings:
        """The documents of `parts`, one part's after the other's."""
        vocabulary: dict[str, int] = {}
        terms, rows, first_row = [], [], 0
        for part in parts:
            # Each part's term columns, as columns of the joint vocabulary; terms left without postings (their
            # documents removed) are dropped.
            kept = np.diff(part.starts) > 0
            column = np.array(
                [
                    vocabulary.setdefault(t, len(vocabulary)) if k else -1
                    for t, k in zip(part.vocabulary, kept.tolist(), strict=True)
                ],
                dtype=np.int64,
            )
            terms.append(column[part._term_of_entries()])
            rows.append(part.rows.astype(np.int64) + first_row)
            first_row += part.documents
        all_terms = np.concatenate([np.zeros(0, np.int64), *terms])
        all_rows = np.concatenate([np.zeros(0, np.int64), *rows])
        # By term, then by row, as one int64 key (rows are below 2**31); each part's keys come in sorted runs.
        order = np.argsort(all_terms << 31 | all_rows, kind="stable")
        return cls(
            vocabulary=vocabulary,
            starts=np.concatenate([[0], np.cumsum(np.bincount(all_terms, minlength=len(vocabulary)))]).astype(np.int64),
            rows=all_rows[order].astype(np.int32),
            frequencies=np.concatenate([np.zeros(0, np.float32), *(p.frequencies for p in parts)])[order],
            lengths=np.concatenate([np.zeros(0, np.float32), *(p.lengths for p in parts)]),
        )

    def rows_with_all(self, terms: Sequence[str]) -> np.ndarray:
        """The rows that hold every one of `terms`, ascending."""
        if not terms or any(term not in self.vocabulary for term in terms):
            return np.zeros(0, dtype=np.int64)
        found = [self.rows[self.starts[c] : self.starts[c + 1]] for c in (self.vocabulary[t] for t in terms)]
        return reduce(np.intersect1d, found).astype(np.int64)

    def document_frequencies(self, terms: Sequence[str], live: np.ndarray | None = None) -> np.ndarray:
        """In how many documents (of those the mask `live` marks, all by default) each of `terms` occurs."""
        found = []
        for term in terms:
            column = self.vocabulary.get(term)
            start, end = (0, 0) if column is None else (int(self.starts[column]), int(self.starts[column + 1]))
            found.append(end - start if live is None else int(np.count_nonzero(live[self.rows[start:end]])))
        return np.array(found, dtype=np.int64)

    def statistics(self, terms: Sequence[str], live: np.ndarray | None = None) -> Statistics:
        """The collection statistics that BM25 scores `terms` with, over the documents `live` marks."""
        frequencies = dict(zip(terms, self.document_frequencies(terms, live).tolist(), strict=True))
        if live is None:
            return Statistics(self.documents, self.total_length, frequencies)
        return Statistics(int(np.count_nonzero(live)), float(self.lengths[live].sum(dtype=np.float64)), frequencies)

    def _term_postings(self, query: Sequence[str], statistics: Statistics) -> Iterator[tuple[int, int, np.ndarray]]:
        """Where each known query term's postings start and end, and its idf."""
        for term in query:
            column = self.vocabulary.get(term)
            if column is not None:
                start, end = int(self.starts[column]), int(self.starts[column + 1])
                frequency = np.array(statistics.frequencies.get(term, end - start), dtype=np.float32)
                yield start, end, idf_lucene(frequency, statistics.documents)

    def _contributions(
        self, query: Sequence[str], statistics: Statistics, k1: float, b: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and BM25 contributions of the postings of the query's terms (a row once per term)."""
        rows, contributions = [], []
        for start, end, idf in self._term_postings(query, statistics):
            found = self.rows[start:end]
            rows.append(found)
            saturated = tf_lucene(self.frequencies[start:end], self.lengths[found], statistics.average_length, k1, b)
            contributions.append(idf * saturated)
        if not rows:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        return np.concatenate(rows), np.concatenate(contributions).astype(np.float32)

    def top(
        self,
        query: Sequence[str],
        k: int,
        k1: float = K1,
        b: float = B,
        statistics: Statistics | None = None,
        live: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the `k` best documents with a positive score (and those that tie the k-th),
        best first, among those the mask `live` marks (all by default), under `statistics` (these documents'
        by default). Only the postings of the query's terms are touched, whatever the size of the collection."""
        statistics = statistics or self.statistics(query, live)
        rows, contributions = self._contributions(query, statistics, k1, b)
        if not len(rows) or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # Each term's rows are sorted: a stable sort (timsort) merges those runs instead of sorting afresh.
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        firsts = np.flatnonzero(np.diff(rows, prepend=-1))
        touched = rows[firsts]
        scores = np.add.reduceat(contributions[order].astype(np.float64), firsts).astype(np.float32)
        if live is not None:
            scores[~live[touched]] = 0
        # The k best and those that tie the k-th (which of tied rows to keep would go by row, that is by the
        # order the documents came in).
        best = (
            np.flatnonzero(scores >= -np.partition(-scores, k - 1)[k - 1])
            if len(scores) > k
            else np.arange(len(scores))
        )
        best = best[scores[best] > 0]
        best = best[np.lexsort((touched[best], -scores[best]))]
        return touched[best].astype(np.int64), scores[best]

    def scores_of(
        self,
        query: Sequence[str],
        wanted: np.ndarray,
        k1: float = K1,
        b: float = B,
        statistics: Statistics | None = None,
    ) -> np.ndarray:
        """The BM25 score of each of the `wanted` rows, under `statistics` (all these documents' by default).
        Each term's postings are sorted by row: the wanted rows are looked up in them, without scoring the
        rest."""
        statistics = statistics or self.statistics(query)
        wanted = np.asarray(wanted, dtype=np.int64)
        scores = np.zeros(len(wanted), dtype=np.float32)
        for start, end, idf in self._term_postings(query, statistics):
            found = self.rows[start:end]
            if not len(found) or not len(wanted):
                continue
            at = np.minimum(np.searchsorted(found, wanted), len(found) - 1)
            hit = found[at] == wanted
            saturated = tf_lucene(
                self.frequencies[start + at[hit]], self.lengths[wanted[hit]], statistics.average_length, k1, b
            )
            scores[hit] += idf * saturated
        return scores

    def scores(self, query: Sequence[str], k1: float = K1, b: float = B) -> np.ndarray:
        """BM25 score of every document for the query terms (a repeated term counts again)."""
        return self.scores_of(query, np.arange(self.documents), k1, b)
