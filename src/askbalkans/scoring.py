"""Sentence scoring: the evidence that a sentence answers the question, its weighted score, and the
confidence that the best sentence answers it at all.

Scores are in logit units: weights are fitted by a conditional logit over candidate sentences and the
confidence by a logistic regression (`evaluation.fitting`, run by eval/fit_weights.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields
from itertools import pairwise

import numpy as np

from askbalkans.chunker import Sentence
from askbalkans.errors import SettingError
from askbalkans.question import AnswerFinder, QuestionAnalysis
from askbalkans.retriever import Retrieval
from askbalkans.stores import Index
from askbalkans.text import Acronyms, terms, with_acronyms


@dataclass(frozen=True)
class Evidence:
    """What speaks for a sentence answering the question, each piece in [0, 1] (dense in [-1, 1])."""

    dense: float  # cosine similarity of question and sentence
    overlap: float  # idf-weighted share of the question's terms found in the sentence
    context_overlap: float  # ... found in the sentence and its neighbours
    topic_overlap: float  # ... of the question's topic terms, in the sentence and neighbours
    bigram: float  # share of the question's consecutive term pairs found in the sentence
    passage: float  # fused score of the sentence's passage, divided by the best passage's
    # 1 when the question asks for a type of answer and the sentence holds a span of it (question.AnswerFinder);
    # 0 for a question of no particular type, so that more evidence never lowers the confidence
    answer_type: float
    names: float  # idf-weighted share of the names the question mentions, in the sentence and neighbours
    typed_question: float  # 1 when the question asks for a type of answer (a number, a date, a name...): the
    # same for every sentence, it lets the confidence treat typed questions apart

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
    score: float  # weighted evidence, logit units (with the first stage, the reader's ranking score once read)
    evidence: Evidence
    answer_span: tuple[int, int] | None = None  # where the reader found the answer in the sentence
    reader_logit: float | None = None  # the reader's own logit that the sentence answers the question


class Confidence:
    """How likely the corpus answers the question, from the evidence for its best sentence."""

    def __init__(self, weights: Mapping[str, float], bias: float):
        self.weights = weight_vector(weights, "confidence_weights")
        self.bias = bias

    def __call__(self, evidence: Evidence) -> float:
        return 1.0 / (1.0 + math.exp(-self.logit(evidence)))

    def logit(self, evidence: Evidence) -> float:
        return self.bias + float(evidence.vector() @ self.weights)


class SentenceScorer:
    """Scores the sentences of retrieved passages. Everything it computes is about those sentences and
    their neighbours, so a question costs the same whatever the size of the corpus; a term's idf comes
    from the lexical index's passage counts."""

    def __init__(self, index: Index, weights: Mapping[str, float], finder: AnswerFinder):
        self.index = index
        self.weights = weight_vector(weights, "sentence_weights")
        self.finder = finder
        self._acronyms = Acronyms(index.acronyms)

    def _terms(self, sentences: Mapping[int, Sentence]) -> dict[int, list[str]]:
        return {i: with_acronyms(terms(s.text), self._acronyms) for i, s in sentences.items()}

    def _idf(self, query_terms: set[str] | frozenset[str]) -> dict[str, float]:
        """log((N + 1) / (df + 0.5)) over the passages: a term the corpus never uses weighs most."""
        ordered = sorted(query_terms)
        frequencies = self.index.lexical.document_frequencies(ordered) if ordered else np.zeros(0)
        count = self.index.passage_count
        return {t: math.log((count + 1) / (int(df) + 0.5)) for t, df in zip(ordered, frequencies, strict=True)}

    @staticmethod
    def overlap(query_terms: set[str] | frozenset[str], found: frozenset[str], idf: Mapping[str, float]) -> float:
        """Share of the question's terms in `found`, each term weighted by its idf."""
        total = sum(idf[t] for t in query_terms)
        return sum(idf[t] for t in query_terms & found) / total if total else 0.0

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
        # The candidates, and the two sentences before and one after each: a sentence that leans on the
        # previous one is matched together with it, and its neighbours give its context.
        around = self.index.chunks.sentences(i + offset for i in ids for offset in (-2, -1, 0, 1))
        own_terms = self._terms(around)
        own_sets = {i: frozenset(t) for i, t in own_terms.items()}
        term_sets = {
            i: own | own_sets[i - 1] if around[i].leans_on_previous and i - 1 in own_sets else own
            for i, own in own_sets.items()
        }
        dense = self.index.sentence_vectors.similarities(retrieval.query_vector, ids).tolist()
        query_terms = set(retrieval.query_terms)
        query_pairs = set(pairwise(retrieval.query_terms))
        idf = self._idf(query_terms | question.topic | question.names)
        typed = question.answer_type != "other"
        scored = []
        for sentence_id, cosine in zip(ids, dense, strict=True):
            sentence = around[sentence_id]
            neighbourhood = term_sets[sentence_id].union(
                *(term_sets[n] for n in (sentence_id - 1, sentence_id + 1) if n in term_sets)
            )
            passage_id, passage_score = passage_of[sentence_id]
            own_pairs = set(pairwise(own_terms[sentence_id]))
            evidence = Evidence(
                dense=cosine,
                overlap=self.overlap(query_terms, term_sets[sentence_id], idf),
                context_overlap=self.overlap(query_terms, neighbourhood, idf),
                topic_overlap=self.overlap(question.topic, neighbourhood, idf) if question.topic else 1.0,
                bigram=len(query_pairs & own_pairs) / len(query_pairs) if query_pairs else 0.0,
                passage=passage_score,
                answer_type=float(typed and bool(self.finder.answers(question, sentence.text, sentence.spans))),
                names=self.overlap(question.names, neighbourhood, idf) if question.names else 1.0,
                typed_question=float(typed),
            )
            score = float(evidence.vector() @ self.weights)
            scored.append(ScoredSentence(sentence_id, passage_id, score, evidence))
        # Ties go by article and sentence number, not by id (ids follow the slots: the index's history).
        return sorted(scored, key=lambda s: (-s.score, around[s.sentence_id].doc_id, around[s.sentence_id].number))
