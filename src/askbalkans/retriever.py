"""Retriever stage: the passages that best match a question, dense and BM25 candidates fused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from askbalkans.chunker import Passage
from askbalkans.embedding import Embedder
from askbalkans.errors import SettingError
from askbalkans.stores import ArticleRecord, Index, chunk_id
from askbalkans.text import terms

# Up to this many passages, a filtered question scores every passage of the articles it may cite; past it,
# it takes the best of a deeper search of the whole index (`_FILTERED_DEPTH` times candidate_k).
_FILTERED_EXACT_PASSAGES = 20_000
_FILTERED_DEPTH = 20


@dataclass(frozen=True)
class Hit:
    passage_id: int
    passage: Passage
    score: float  # fused score, what hits are ranked by
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score of the passage, divided by the best BM25 score for the question
    sentence: float  # highest cosine similarity of the question and one sentence of the passage


@dataclass(frozen=True)
class Retrieval:
    question: str
    query_vector: np.ndarray  # normalised embedding of the question
    query_terms: tuple[str, ...]  # stemmed content words of the question
    hits: tuple[Hit, ...]  # best first

    def top(self, k: int) -> Retrieval:
        """The same retrieval cut to its `k` best hits."""
        return replace(self, hits=self.hits[:k])


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a question may be answered from: published from `since` to `until` (inclusive; an
    article that states no date is left out once either is set), by an outlet whose name contains
    `outlet` (any case)."""

    since: dt.date | None = None
    until: dt.date | None = None
    outlet: str = ""

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dt.date):
                raise TypeError(f"{name} must be a datetime.date, got {value!r}")
        if self.since and self.until and self.since > self.until:
            raise SettingError(f"since ({self.since}) is after until ({self.until})")

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.outlet.strip())

    def admits(self, record: ArticleRecord) -> bool:
        if self.outlet.strip() and self.outlet.strip().casefold() not in record.outlet.casefold():
            return False
        if not (self.since or self.until):
            return True
        if not record.date:
            return False
        published = dt.date.fromisoformat(record.date)
        return (self.since is None or published >= self.since) and (self.until is None or published <= self.until)

    def describe(self) -> str:
        """ "published from 2025-01-01, by an outlet named like “RKS”"."""
        parts = []
        if self.since or self.until:
            parts.append(
                f"published {f'from {self.since}' if self.since else ''}"
                f"{' ' if self.since and self.until else ''}{f'until {self.until}' if self.until else ''}"
            )
        if self.outlet.strip():
            parts.append(f"by an outlet named like “{self.outlet.strip()}”")
        return ", ".join(parts)


def allowed_passages(index: Index, only: ArticleFilter) -> np.ndarray:
    """The ids of the passages of the articles `only` admits, sorted."""
    ids = [
        chunk_id(record.slot, number)
        for record in index.articles.values()
        if only.admits(record)
        for number in range(record.passages)
    ]
    return np.array(sorted(ids), dtype=np.int64)


class Fusion(Protocol):
    """Combines the three similarity arrays of the candidate passages into one score each."""

    def fuse(self, dense: np.ndarray, lexical: np.ndarray, sentence: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class WeightedFusion:
    """A weighted sum: beats reciprocal-rank fusion on SQuAD (eval/README.md)."""

    dense_weight: float
    lexical_weight: float
    sentence_weight: float

    def fuse(self, dense: np.ndarray, lexical: np.ndarray, sentence: np.ndarray) -> np.ndarray:
        return self.dense_weight * dense + self.lexical_weight * lexical + self.sentence_weight * sentence


class Retriever:
    """Dense and BM25 candidates of the index, each scored by all three signals and ranked by `fusion`."""

    def __init__(self, index: Index, embedder: Embedder, fusion: Fusion, candidate_k: int):
        if candidate_k < 1:
            raise SettingError(f"candidate_k must be at least 1, got {candidate_k!r}")
        self.index = index
        self.embedder = embedder
        self.fusion = fusion
        self.candidate_k = candidate_k

    def retrieve(self, question: str, top_k: int, allowed: np.ndarray | None = None) -> Retrieval:
        """The `top_k` best passages for `question`; only passages of `allowed` (sorted ids, see
        `allowed_passages`) when it is given."""
        query_vector = self.embedder.encode([question])[0]
        query_terms = tuple(terms(question))
        hits = self.rank(query_vector, query_terms, allowed)[:top_k]
        return Retrieval(question, query_vector, query_terms, tuple(hits))

    def rank(
        self, query_vector: np.ndarray, query_terms: tuple[str, ...], allowed: np.ndarray | None = None
    ) -> list[Hit]:
        """Candidates of both retrievers (among `allowed` when given), ranked by the fused score."""
        index = self.index
        if allowed is not None and len(allowed) <= _FILTERED_EXACT_PASSAGES:
            dense_ids, lexical_ids, best_lexical = self._exact_candidates(query_vector, query_terms, allowed)
        else:
            depth = self.candidate_k * (1 if allowed is None else _FILTERED_DEPTH)
            dense_ids, _ = index.passage_vectors.search(query_vector, depth)
            lexical_ids, lexical_scores = index.lexical.search(query_terms, depth)
            if allowed is not None:
                lexical_scores = lexical_scores[np.isin(lexical_ids, allowed)]
                dense_ids, lexical_ids = (i[np.isin(i, allowed)][: self.candidate_k] for i in (dense_ids, lexical_ids))
            best_lexical = float(lexical_scores[0]) if len(lexical_scores) else 0.0
        candidates = np.union1d(dense_ids, lexical_ids).astype(np.int64)
        if not len(candidates):
            return []
        dense = index.passage_vectors.similarities(query_vector, candidates)
        lexical = index.lexical.scores(query_terms, candidates) / max(best_lexical, 1e-9)
        passages = index.chunks.passages(candidates)
        best_sentence = self._best_sentence_similarity(candidates, passages, query_vector)
        fused = self.fusion.fuse(dense, lexical, best_sentence)
        # Ties go by article and passage number, not by id: ids follow the slots, that is the index's history.
        order = sorted(range(len(candidates)), key=lambda i: (-fused[i], passages[i].doc_id, passages[i].number))
        return [
            Hit(
                int(candidates[i]),
                passages[i],
                float(fused[i]),
                float(dense[i]),
                float(lexical[i]),
                float(best_sentence[i]),
            )
            for i in order
        ]

    def _exact_candidates(
        self, query_vector: np.ndarray, query_terms: tuple[str, ...], allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """The `candidate_k` best of `allowed` by each retriever, scoring every one; and the best BM25 score."""
        if not len(allowed):
            return allowed, allowed, 0.0
        dense = self.index.passage_vectors.similarities(query_vector, allowed)
        lexical = self.index.lexical.scores(query_terms, allowed)
        best_dense = allowed[np.argsort(-dense, kind="stable")[: self.candidate_k]]
        matched = np.flatnonzero(lexical > 0)
        best_lexical = allowed[matched[np.argsort(-lexical[matched], kind="stable")[: self.candidate_k]]]
        return best_dense, best_lexical, float(lexical.max())

    def _best_sentence_similarity(
        self, passage_ids: np.ndarray, passages: list[Passage], query_vector: np.ndarray
    ) -> np.ndarray:
        """For each passage, the highest cosine between the question and one of its sentences."""
        ranges = [self.index.sentence_ids(int(i), p) for i, p in zip(passage_ids, passages, strict=True)]
        similarities = self.index.sentence_vectors.similarities(query_vector, [i for r in ranges for i in r])
        starts = np.cumsum([0] + [len(r) for r in ranges[:-1]])
        return np.maximum.reduceat(similarities, starts)
