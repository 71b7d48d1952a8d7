"""Retriever stage: the passages that best match a question, dense and BM25 candidates fused."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from askbalkans.chunker import Passage
from askbalkans.embedding import Embedder
from askbalkans.errors import SettingError
from askbalkans.stores import Index
from askbalkans.text import terms


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

    def retrieve(self, question: str, top_k: int) -> Retrieval:
        """The `top_k` best passages for `question`."""
        query_vector = self.embedder.encode([question])[0]
        query_terms = tuple(terms(question))
        return Retrieval(question, query_vector, query_terms, tuple(self.rank(query_vector, query_terms)[:top_k]))

    def rank(self, query_vector: np.ndarray, query_terms: tuple[str, ...]) -> list[Hit]:
        """Candidates of both retrievers, ranked by the fused score."""
        index = self.index
        dense_ids, _ = index.passage_vectors.search(query_vector, self.candidate_k)
        lexical_ids, lexical_scores = index.lexical.search(query_terms, self.candidate_k)
        candidates = np.union1d(dense_ids, lexical_ids).astype(np.int64)
        if not len(candidates):
            return []
        dense = index.passage_vectors.similarities(query_vector, candidates)
        best_lexical = float(lexical_scores[0]) if len(lexical_scores) else 0.0
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

    def _best_sentence_similarity(
        self, passage_ids: np.ndarray, passages: list[Passage], query_vector: np.ndarray
    ) -> np.ndarray:
        """For each passage, the highest cosine between the question and one of its sentences."""
        ranges = [self.index.sentence_ids(int(i), p) for i, p in zip(passage_ids, passages, strict=True)]
        similarities = self.index.sentence_vectors.similarities(query_vector, [i for r in ranges for i in r])
        starts = np.cumsum([0] + [len(r) for r in ranges[:-1]])
        return np.maximum.reduceat(similarities, starts)
