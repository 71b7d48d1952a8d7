"""BM25 over term postings, scored at question time (Lucene's variant, as bm25s computes it).

Only term frequencies and document lengths are stored; the corpus statistics (document count, average
length, document frequencies) enter at scoring time, so adding or removing documents never requires
rescoring the others, and a question touches only the postings of its own terms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

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
        vocabulary: dict[str, int] = {}
        term_ids, rows, frequencies = [], [], []
        for row, document in enumerate(documents):
            for term, count in Counter(document).items():
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
                rows.append(row)
                frequencies.append(count)
        order = np.argsort(np.asarray(term_ids, dtype=np.int64), kind="stable")
        counts = np.bincount(np.asarray(term_ids, dtype=np.int64), minlength=len(vocabulary))
        return cls(
            vocabulary=vocabulary,
            starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            rows=np.asarray(rows, dtype=np.int32)[order],
            frequencies=np.asarray(frequencies, dtype=np.float32)[order],
            lengths=np.asarray([len(d) for d in documents], dtype=np.float32),
        )

    @property
    def documents(self) -> int:
        return len(self.lengths)

    def scores(self, query: Sequence[str], k1: float = K1, b: float = B) -> np.ndarray:
        """BM25 score of every document for the query terms (a repeated term counts again)."""
        scores = np.zeros(self.documents, dtype=np.float32)
        if not self.documents:
            return scores
        average_length = float(self.lengths.mean())
        for term in query:
            column = self.vocabulary.get(term)
            if column is None:
                continue
            start, end = self.starts[column], self.starts[column + 1]
            rows = self.rows[start:end]
            idf = idf_lucene(np.array(end - start, dtype=np.float32), self.documents)
            scores[rows] += idf * tf_lucene(self.frequencies[start:end], self.lengths[rows], average_length, k1, b)
        return scores
