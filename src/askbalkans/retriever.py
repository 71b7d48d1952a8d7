"""Retriever stage: the passages that best match a question, from dense and BM25 scores fused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from askbalkans.config import Settings
from askbalkans.embedding import Embedder
from askbalkans.indexer import Index
from askbalkans.text import terms

RANKING_DEPTH = 10


@dataclass(frozen=True)
class Hit:
    passage_id: int
    score: float  # fused score, what hits are ranked by
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score of the passage, divided by the best BM25 score for the question
    sentence: float  # highest cosine similarity of the question and one sentence of the passage


@dataclass(frozen=True)
class Retrieval:
    question: str
    query_vector: np.ndarray  # normalised embedding of the question
    query_terms: list[str]  # stemmed content words of the question
    hits: list[Hit]  # the top_k passages for the composer, best first
    ranked_doc_ids: list[str]  # articles of the best RANKING_DEPTH passages, in rank order (for evaluation)


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._vocabulary = index.lexical.vocab_dict

    def retrieve(self, question: str, top_k: int | None = None) -> Retrieval:
        """The `top_k` best passages for `question` (by default `Settings.top_k`)."""
        query_vector = self.embedder.encode([question])[0]
        query_terms = terms(question)
        ranked = self.rank(query_vector, query_terms)
        ranked_doc_ids = [self.index.passages[hit.passage_id].doc_id for hit in ranked[:RANKING_DEPTH]]
        return Retrieval(question, query_vector, query_terms, ranked[: top_k or self.settings.top_k], ranked_doc_ids)

    def rank(self, query_vector: np.ndarray, query_terms: list[str]) -> list[Hit]:
        """Candidates of both retrievers, ranked by the fused score."""
        index, settings = self.index, self.settings
        candidate_k = min(settings.candidate_k, len(index.passages))
        _, dense_ids = index.passage_vectors.search(query_vector[None, :], candidate_k)
        lexical_all = self._bm25(query_terms)
        lexical_ids = np.argpartition(-lexical_all, candidate_k - 1)[:candidate_k]
        candidates = np.union1d(dense_ids[0][dense_ids[0] >= 0], lexical_ids[lexical_all[lexical_ids] > 0])

        dense = index.passage_vectors.reconstruct_batch(candidates) @ query_vector
        lexical = lexical_all[candidates] / max(float(lexical_all.max()), 1e-9)
        best_sentence = self._best_sentence_similarity(candidates, query_vector)
        fused = (
            settings.dense_weight * dense + settings.lexical_weight * lexical + settings.sentence_weight * best_sentence
        )
        order = np.argsort(-fused, kind="stable")
        return [
            Hit(int(candidates[i]), float(fused[i]), float(dense[i]), float(lexical[i]), float(best_sentence[i]))
            for i in order
        ]

    def _best_sentence_similarity(self, passage_ids: np.ndarray, query_vector: np.ndarray) -> np.ndarray:
        """For each passage, the highest cosine between the question and one of its sentences."""
        ranges = [(self.index.passages[i].first_sentence, self.index.passages[i].end_sentence) for i in passage_ids]
        sentence_ids = np.concatenate([np.arange(first, end) for first, end in ranges])
        similarities = self.index.sentence_vectors[sentence_ids] @ query_vector
        starts = np.cumsum([0] + [end - first for first, end in ranges[:-1]])
        return np.maximum.reduceat(similarities, starts)

    def _bm25(self, query_terms: list[str]) -> np.ndarray:
        known = [term for term in query_terms if term in self._vocabulary]
        if not known:
            return np.zeros(len(self.index.passages), dtype=np.float32)
        return self.index.lexical.get_scores(known)
