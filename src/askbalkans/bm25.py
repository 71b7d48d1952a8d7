"""BM25 over term postings, scored at question time (Lucene's variant, as bm25s computes it).

Only term frequencies and document lengths are stored; the corpus statistics (document count, average
length, document frequencies) enter at scoring time, so adding or removing documents never requires
rescoring the others, and a question touches only the postings of its own terms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

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
class Postings:
    """Term frequencies of a set of documents, by term (compressed sparse columns)."""

    vocabulary: dict[str, int]  # term -> column
    starts: np.ndarray  # int64 (terms + 1): postings of term t are rows[starts[t]:starts[t + 1]]
    rows: np.ndarray  # int32 document rows
    frequencies: np.ndarray  # float32 term frequency in that document
    lengths: np.ndarray  # float32 (documents,): terms per document

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> Postings:
        empty = cls(
            {}, np.zeros(1, dtype=np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(0, np.float32)
        )
        return empty.extend(documents)

    @property
    def documents(self) -> int:
        return len(self.lengths)

    @cached_property
    def average_length(self) -> float:
        return float(self.lengths.mean()) if self.documents else 1.0

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

    def extend(self, documents: Sequence[Sequence[str]]) -> Postings:
        """These postings and those of `documents`, numbered after the present ones."""
        lengths = np.concatenate([self.lengths, np.zeros(len(documents), dtype=np.float32)])
        return self._with(np.ones(len(self.rows), dtype=bool), enumerate(documents, start=self.documents), lengths)

    def replace(self, rows: np.ndarray, documents: Sequence[Sequence[str]]) -> Postings:
        """These postings with the documents of `rows` (distinct) replaced by `documents`, in that order."""
        replaced = np.zeros(self.documents, dtype=bool)
        replaced[rows] = True
        return self._with(
            ~replaced[self.rows], zip(np.asarray(rows).tolist(), documents, strict=True), self.lengths.copy()
        )

    def _with(self, keep: np.ndarray, documents: Iterable[tuple[int, Sequence[str]]], lengths: np.ndarray) -> Postings:
        """The kept entries (`keep`, a mask over them) and those of `documents` (row, terms); `lengths` holds
        the lengths of the kept rows and has room for the new ones."""
        vocabulary = dict(self.vocabulary)
        term_ids, rows, frequencies = [], [], []
        for row, document in documents:
            lengths[row] = len(document)
            for term, count in Counter(document).items():
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
                rows.append(row)
                frequencies.append(count)
        all_terms = np.concatenate([self._term_of_entries()[keep], np.asarray(term_ids, dtype=np.int64)])
        all_rows = np.concatenate([self.rows[keep], np.asarray(rows, dtype=np.int32)])
        # By term, then by row: one int64 key (rows are below 2**31).
        order = np.argsort(all_terms << 31 | all_rows.astype(np.int64), kind="stable")  # kept keys: one sorted run
        counts = np.bincount(all_terms, minlength=len(vocabulary))
        return Postings(
            vocabulary=vocabulary,
            starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            rows=all_rows[order],
            frequencies=np.concatenate([self.frequencies[keep], np.asarray(frequencies, dtype=np.float32)])[order],
            lengths=lengths,
        )

    def rows_with(self, terms: Sequence[str]) -> np.ndarray:
        """The rows that hold any of `terms`, ascending."""
        columns = [self.vocabulary[term] for term in terms if term in self.vocabulary]
        found = [self.rows[self.starts[c] : self.starts[c + 1]] for c in columns]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def document_frequencies(self, terms: Sequence[str]) -> np.ndarray:
        """In how many documents each of `terms` occurs."""
        columns = [self.vocabulary.get(term) for term in terms]
        return np.array([0 if c is None else self.starts[c + 1] - self.starts[c] for c in columns], dtype=np.int64)

    def _term_postings(self, query: Sequence[str]) -> Iterator[tuple[int, int, np.ndarray]]:
        """Where each known query term's postings start and end, and its idf."""
        for term in query:
            column = self.vocabulary.get(term)
            if column is not None:
                start, end = int(self.starts[column]), int(self.starts[column + 1])
                yield start, end, idf_lucene(np.array(end - start, dtype=np.float32), self.documents)

    def _contributions(self, query: Sequence[str], k1: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows and BM25 contributions of the postings of the query's terms (a row once per term)."""
        rows, contributions = [], []
        for start, end, idf in self._term_postings(query):
            found = self.rows[start:end]
            rows.append(found)
            saturated = tf_lucene(self.frequencies[start:end], self.lengths[found], self.average_length, k1, b)
            contributions.append(idf * saturated)
        if not rows:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        return np.concatenate(rows), np.concatenate(contributions).astype(np.float32)

    def top(self, query: Sequence[str], k: int, k1: float = K1, b: float = B) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the (at most) `k` best documents with a positive score, best first. Only the
        postings of the query's terms are touched, whatever the size of the collection."""
        rows, contributions = self._contributions(query, k1, b)
        if not len(rows) or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # Each term's rows are sorted: a stable sort (timsort) merges those runs instead of sorting afresh.
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        firsts = np.flatnonzero(np.diff(rows, prepend=-1))
        touched = rows[firsts]
        scores = np.add.reduceat(contributions[order].astype(np.float64), firsts).astype(np.float32)
        best = np.argpartition(-scores, min(k, len(scores)) - 1)[:k] if len(scores) > k else np.arange(len(scores))
        best = best[scores[best] > 0]
        best = best[np.lexsort((touched[best], -scores[best]))]
        return touched[best].astype(np.int64), scores[best]

    def scores_of(self, query: Sequence[str], wanted: np.ndarray, k1: float = K1, b: float = B) -> np.ndarray:
        """The BM25 score of each of the `wanted` rows. Each term's postings are sorted by row: the wanted
        rows are looked up in them, without scoring the rest."""
        wanted = np.asarray(wanted, dtype=np.int64)
        scores = np.zeros(len(wanted), dtype=np.float32)
        for start, end, idf in self._term_postings(query):
            found = self.rows[start:end]
            if not len(found) or not len(wanted):
                continue
            at = np.minimum(np.searchsorted(found, wanted), len(found) - 1)
            hit = found[at] == wanted
            saturated = tf_lucene(
                self.frequencies[start + at[hit]], self.lengths[wanted[hit]], self.average_length, k1, b
            )
            scores[hit] += idf * saturated
        return scores

    def scores(self, query: Sequence[str], k1: float = K1, b: float = B) -> np.ndarray:
        """BM25 score of every document for the query terms (a repeated term counts again)."""
        return self.scores_of(query, np.arange(self.documents), k1, b)
