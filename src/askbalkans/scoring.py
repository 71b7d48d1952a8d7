"""Sentence scoring: the evidence that a sentence answers the question, its weighted score, and the
confidence that the best sentence answers it at all.

Scores are in logit units: weights are fitted by a conditional logit over candidate sentences and the
confidence by a logistic regression (`evaluation.fitting`, run by eval/fit_weights.py).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields
from itertools import pairwise

import numpy as np

from askbalkans.errors import SettingError
from askbalkans.question import AnswerFinder, QuestionAnalysis
from askbalkans.retriever import Retrieval
from askbalkans.stores import Index, chunk_id
from askbalkans.text import terms, with_acronyms


@dataclass(frozen=True)
class Evidence:
    """What speaks for a sentence answering the question, each piece in [0, 1] (dense in [-1, 1])."""

    dense: float  # cosine similarity of question and sentence
    overlap: float  # idf-weighted share of the question's terms found in the sentence
    context_overlap: float  # ... found in the sentence and its neighbours
    topic_overlap: float  # ... of the question's topic terms, in the sentence and neighbours
    bigram: float  # share of the question's consecutive term pairs found in the sentence
    passage: float  # fused score of the sentence's passage, divided by the best passage's
    answer_type: float  # 1 when the sentence holds a span of the answer type asked for (question.AnswerFinder)
    names: float  # idf-weighted share of the names the question mentions, in the sentence and neighbours
    typed_question: float  # 1 when the question asks for a type of answer (a number, a date, a name...): the
    # same for every sentence, it lets the confidence weigh `answer_type` by whether it was asked for

    def vector(self) -> np.ndarray:
        return np.array(astuple(self))


EVIDENCE = tuple(f.name for f in fields(Evidence))


def weight_vector(weights: Mapping[str, float], setting: str) -> np.ndarray:
    """`weights` (evidence name -> weight) in the order of EVIDENCE; every name must be given, once."""
    if set(weights) != set(EVIDENCE):
        missing, unknown = set(EVIDENCE) - set(weights), set(weights) - set(EVIDENCE)
        raise SettingError(
            f"{setting} must give a weight for each of {', '.join(EVIDENCE)}"
            + (f"; missing {', '.join(sorted(missing))}" if missing else "")
            + (f"; unknown {', '.join(sorted(unknown))}" if unknown else "")
        )
    return np.array([weights[name] for name in EVIDENCE], dtype=np.float64)


@dataclass(frozen=True)
class ScoredSentence:
    sentence_id: int
    passage_id: int  # the best-ranked retrieved passage that holds it
    score: float  # weighted evidence, logit units
    evidence: Evidence


class Confidence:
    """How likely the corpus answers the question, from the evidence for its best sentence."""

    def __init__(self, weights: Mapping[str, float], bias: float):
        self.weights = weight_vector(weights, "confidence_weights")
        self.bias = bias

    def __call__(self, evidence: Evidence) -> float:
        z = self.bias + float(evidence.vector() @ self.weights)
        return 1.0 / (1.0 + math.exp(-z))


class SentenceScorer:
    """Scores the sentences of retrieved passages. Per-index data is computed once, here."""

    def __init__(self, index: Index, weights: Mapping[str, float], finder: AnswerFinder):
        self.index = index
        self.weights = weight_vector(weights, "sentence_weights")
        self.finder = finder
        sentence_ids = [
            chunk_id(record.slot, number) for record in index.articles.values() for number in range(record.sentences)
        ]
        sentences = index.chunks.sentences(sentence_ids)
        self.sentence_terms = {i: with_acronyms(terms(s.text), dict(index.acronyms)) for i, s in sentences.items()}
        own_sets = {i: frozenset(t) for i, t in self.sentence_terms.items()}
        # A sentence that leans on the previous one is matched together with it, as it is embedded.
        self.term_sets = {
            i: own | own_sets[i - 1] if sentences[i].leans_on_previous else own for i, own in own_sets.items()
        }
        self.neighbourhood_sets = {
            i: own.union(*(self.term_sets[n] for n in (i - 1, i + 1) if n in self.term_sets))
            for i, own in self.term_sets.items()
        }
        document_frequency = Counter(t for term_set in own_sets.values() for t in term_set)
        count = len(own_sets)
        self.idf = {t: math.log((count + 1) / (df + 0.5)) for t, df in document_frequency.items()}
        self.unseen_idf = math.log((count + 1) / 0.5)  # a word the corpus never uses weighs most

    def overlap(self, query_terms: set[str] | frozenset[str], found: frozenset[str]) -> float:
        """Share of the question's terms in `found`, each term weighted by its idf."""
        total = sum(self.idf.get(t, self.unseen_idf) for t in query_terms)
        return sum(self.idf.get(t, self.unseen_idf) for t in query_terms & found) / total if total else 0.0

    def score(self, retrieval: Retrieval, question: QuestionAnalysis) -> list[ScoredSentence]:
        """Sentences of the retrieved passages, best first."""
        passage_of: dict[int, tuple[int, float]] = {}  # sentence -> (best passage, its relative score)
        top_score = max(retrieval.hits[0].score, 1e-6) if retrieval.hits else 1.0
        for hit in retrieval.hits:
            for sentence_id in self.index.sentence_ids(hit.passage_id, hit.passage):
                passage_of.setdefault(sentence_id, (hit.passage_id, hit.score / top_score))
        if not passage_of:
            return []
        ids = list(passage_of)
        texts = self.index.chunks.sentences(ids)
        dense = self.index.sentence_vectors.similarities(retrieval.query_vector, ids).tolist()
        query_terms = set(retrieval.query_terms)
        query_pairs = set(pairwise(retrieval.query_terms))
        scored = []
        typed = question.answer_type != "other"
        for sentence_id, cosine in zip(ids, dense, strict=True):
            sentence = texts[sentence_id]
            neighbourhood = self.neighbourhood_sets[sentence_id]
            passage_id, passage_score = passage_of[sentence_id]
            own_pairs = set(pairwise(self.sentence_terms[sentence_id]))
            evidence = Evidence(
                dense=cosine,
                overlap=self.overlap(query_terms, self.term_sets[sentence_id]),
                context_overlap=self.overlap(query_terms, neighbourhood),
                topic_overlap=self.overlap(question.topic, neighbourhood) if question.topic else 1.0,
                bigram=len(query_pairs & own_pairs) / len(query_pairs) if query_pairs else 0.0,
                passage=passage_score,
                answer_type=float(not typed or bool(self.finder.answers(question, sentence.text, sentence.spans))),
                names=self.overlap(question.names, neighbourhood) if question.names else 1.0,
                typed_question=float(typed),
            )
            score = float(evidence.vector() @ self.weights)
            scored.append(ScoredSentence(sentence_id, passage_id, score, evidence))
        return sorted(scored, key=lambda s: -s.score)
