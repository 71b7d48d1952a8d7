"""Metrics: what one answer got right (`score_record`) and the aggregates over a set (`aggregate`)."""

from __future__ import annotations

import re
import statistics
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from askbalkans.text import fold

_PUNCTUATION = frozenset(string.punctuation)
RANKING_DEPTH = 10  # retrieved passages kept per question for Recall@k and MRR


@dataclass
class Record:
    """How the assistant did on one question."""

    id: str
    question: str
    expected: list[str]
    gold_doc_ids: list[str]
    answer: str
    lead: str  # the first quoted answer sentence
    abstained: bool
    confidence: float
    retrieved: list[str]  # articles of the top RANKING_DEPTH passages, best first
    cited: list[str]  # articles cited by the answer
    quoted_sentences: int
    latency_ms: float
    answer_span: str = ""  # the lead's answer span ("" when it has none)
    lead_hit: bool = False
    answer_hit: bool = False
    first_gold_rank: int | None = None  # 1-based rank of the first passage from a gold article


def contains_answer(text: str, answers: list[str]) -> bool:
    """Whether a gold answer occurs in `text`, both lower-cased, accent-folded, whitespace and dashes normalised."""
    folded = fold(text)
    return any(fold(answer) and fold(answer) in folded for answer in answers)


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def span_exact_match(predicted: str, answers: list[str]) -> bool:
    """SQuAD's exact match: the normalised span equals a normalised gold answer."""
    return any(squad_normalise(predicted) == squad_normalise(answer) for answer in answers)


def span_f1(predicted: str, answers: list[str]) -> float:
    """SQuAD's F1: the best token overlap of the normalised span with a normalised gold answer."""
    tokens = squad_normalise(predicted).split()
    best = 0.0
    for answer in answers:
        gold = squad_normalise(answer).split()
        common = sum((Counter(tokens) & Counter(gold)).values())
        if common:
            precision, recall = common / len(tokens), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def first_gold_rank(retrieved: list[str], gold: list[str]) -> int | None:
    return next((rank for rank, doc_id in enumerate(retrieved, 1) if doc_id in gold), None)


def score_record(record: Record) -> Record:
    record.lead_hit = not record.abstained and contains_answer(record.lead, record.expected)
    record.answer_hit = not record.abstained and contains_answer(record.answer, record.expected)
    record.first_gold_rank = first_gold_rank(record.retrieved, record.gold_doc_ids)
    return record


def recall_at(records: list[Record], k: int) -> float:
    return share(r.first_gold_rank is not None and r.first_gold_rank <= k for r in records)


def mrr(records: list[Record], depth: int = RANKING_DEPTH) -> float:
    return mean(1 / r.first_gold_rank if r.first_gold_rank and r.first_gold_rank <= depth else 0.0 for r in records)


def citation_precision(records: list[Record]) -> float:
    """Share of all citations, over answered questions, that cite a gold article."""
    return share(doc_id in r.gold_doc_ids for r in records if not r.abstained for doc_id in r.cited)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of `values`, interpolated linearly between the two nearest ranks."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def aggregate(records: list[Record], k: int) -> dict[str, float | int]:
    answerable = [r for r in records if r.expected]
    unanswerable = [r for r in records if not r.expected]
    latencies = [r.latency_ms for r in records]
    return {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall@1": recall_at(answerable, 1),
        f"recall@{k}": recall_at(answerable, k),
        "mrr@10": mrr(answerable),
        "lead_hit": share(r.lead_hit for r in answerable),
        "answer_hit": share(r.answer_hit for r in answerable),
        "span_exact_match": share(not r.abstained and span_exact_match(r.answer_span, r.expected) for r in answerable),
        "span_f1": mean(0.0 if r.abstained else span_f1(r.answer_span, r.expected) for r in answerable),
        "citation_precision": citation_precision(answerable),
        "unanswerable_abstained": share(r.abstained for r in unanswerable),
        "answerable_abstained": share(r.abstained for r in answerable),
        "mean_quoted_sentences": mean(r.quoted_sentences for r in records if not r.abstained),
        "max_quoted_sentences": max((r.quoted_sentences for r in records), default=0),
        "latency_p50_ms": percentile(latencies, 0.5),
        "latency_p95_ms": percentile(latencies, 0.95),
    }


def share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(map(bool, flags)) / len(flags) if flags else 0.0


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else 0.0
