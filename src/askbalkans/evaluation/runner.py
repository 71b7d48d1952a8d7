"""Ask every question of a set, timed, and score the answers."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from askbalkans.answer import Answer
from askbalkans.assistant import Assistant
from askbalkans.config import Settings
from askbalkans.embedding import Embedder
from askbalkans.evaluation.datasets import GoldQuestion, load_squad
from askbalkans.evaluation.metrics import RANKING_DEPTH, Record, aggregate, recall_at, score_record
from askbalkans.retriever import Retrieval


@dataclass
class Report:
    k: int
    aggregates: dict
    recall_curve: dict[int, float]  # k -> document Recall@k, k = 1..RANKING_DEPTH
    records: list[Record] = field(default_factory=list)


def evaluate(assistant: Assistant, questions: list[GoldQuestion], k: int = 5, progress: bool = False) -> Report:
    """Ask every question (after one warm-up) and score the answers.

    Each question is retrieved RANKING_DEPTH deep, for Recall@k and MRR, and answered from the top
    `Settings.top_k` of that ranking, exactly as `Assistant.ask` answers it.
    """
    if questions:
        answer_one(assistant, questions[0].question)  # the first call pays one-off costs
    records = []
    for number, gold in enumerate(questions, 1):
        started = time.perf_counter()
        retrieval, answer = answer_one(assistant, gold.question)
        latency = (time.perf_counter() - started) * 1000
        records.append(score_record(_record(gold, retrieval, answer, latency)))
        if progress and number % 500 == 0:
            print(f"  {number}/{len(questions)} questions", file=sys.stderr)
    answerable = [r for r in records if r.expected]
    curve = {depth: recall_at(answerable, depth) for depth in range(1, RANKING_DEPTH + 1)}
    return Report(k, aggregate(records, k), curve, records)


def answer_one(assistant: Assistant, question: str) -> tuple[Retrieval, Answer]:
    retrieval = assistant.retrieve(question, max(RANKING_DEPTH, assistant.settings.top_k))
    return retrieval, assistant.reader.compose(retrieval.top(assistant.settings.top_k), question)


def _record(gold: GoldQuestion, retrieval: Retrieval, answer: Answer, latency_ms: float) -> Record:
    return Record(
        id=gold.id,
        question=gold.question,
        expected=gold.answers,
        gold_doc_ids=gold.doc_ids,
        answer=answer.text,
        lead=answer.lead.text if answer.lead else "",
        answer_span=_span_text(answer),
        abstained=answer.abstained,
        confidence=answer.confidence,
        retrieved=[hit.passage.doc_id for hit in retrieval.hits[:RANKING_DEPTH]],
        cited=list(dict.fromkeys(c.doc_id for c in answer.citations)),
        quoted_sentences=len(answer.quotes),
        latency_ms=round(latency_ms, 2),
    )


def _span_text(answer: Answer) -> str:
    """The answer span of the lead (the reader's, or the name, number or date asked for), or ""."""
    lead = answer.lead
    if lead is None or lead.answer_span is None:
        return ""
    return lead.text[lead.answer_span[0] : lead.answer_span[1]]


def squad_assistant(
    path: Path, settings: Settings, cache: Path, embedder: Embedder | None = None, part: str = "all"
) -> tuple[Assistant, list[GoldQuestion]]:
    """An Assistant over the paragraphs of a SQuAD file (or of its `part`, see `load_squad`), its index
    cached in `cache` by the file's hash, the part and the index settings."""
    file_hash = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    settings_hash = hashlib.sha256(json.dumps(settings.index_fingerprint(), sort_keys=True).encode()).hexdigest()[:8]
    corpus, questions = load_squad(path, part)
    corpus_part = {"all": "", "held-out": "-held-out", "unanswerable": "-training", "training": "-training"}[part]
    index_dir = Path(cache) / f"squad-{file_hash}{corpus_part}-{settings_hash}"
    return Assistant(settings=settings, corpus=corpus, index_dir=index_dir, embedder=embedder), questions
