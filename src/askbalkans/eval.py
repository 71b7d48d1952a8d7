"""Evaluation: run gold questions (our JSONL format, or a SQuAD-format file) through the Assistant.

    askbalkans eval --gold eval/gold.jsonl [--corpus DIR] [--index DIR] [--k 5] [--json OUT] [--plot OUT.png]
    askbalkans eval --squad squad-dev-v1.1.json [--limit N] [--seed S]

Metric definitions are in the README ("Evaluation").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from askbalkans.assistant import Assistant
from askbalkans.composer import Answer
from askbalkans.config import PROJECT_ROOT, Settings
from askbalkans.corpus import Corpus, make_article
from askbalkans.retriever import RANKING_DEPTH
from askbalkans.text import fold

SQUAD_CACHE = PROJECT_ROOT / "eval" / "cache"
MISSES_SHOWN = 25


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: list[str]  # any one counts; empty: the corpus does not answer it
    doc_ids: list[str]  # the articles that answer it

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


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
    retrieved: list[str]  # articles of the top passages, best first
    cited: list[str]  # articles cited by the answer
    quoted_sentences: int
    latency_ms: float
    lead_hit: bool = False
    answer_hit: bool = False
    first_gold_rank: int | None = None  # 1-based rank of the first passage from a gold article


@dataclass
class Report:
    k: int
    aggregates: dict
    recall_curve: dict[int, float]  # k -> document Recall@k, k = 1..RANKING_DEPTH
    records: list[Record] = field(default_factory=list)


# --- gold files -------------------------------------------------------------------------------


def load_gold(path: Path) -> list[GoldQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            questions.append(
                GoldQuestion(str(item["id"]), item["question"], list(item["answers"]), list(item["doc_ids"]))
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a gold question ({error})") from error
    return questions


def load_squad(path: Path) -> tuple[Corpus, list[GoldQuestion]]:
    """One article per paragraph (id `<title>#<paragraph index from 0>`) and the questions on them."""
    data = json.loads(Path(path).read_text("utf-8"))["data"]
    articles, questions = [], []
    for entry in data:
        title = entry["title"].replace("_", " ")
        for number, paragraph in enumerate(entry["paragraphs"]):
            doc_id = f"{entry['title']}#{number}"
            articles.append(make_article(doc_id, paragraph["context"], title=title))
            for qa in paragraph["qas"]:
                impossible = qa.get("is_impossible", False)
                answers = [] if impossible else list(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(GoldQuestion(qa["id"], qa["question"], answers, [] if impossible else [doc_id]))
    return Corpus(tuple(articles)), questions


def sample(questions: list[GoldQuestion], limit: int | None, seed: int) -> list[GoldQuestion]:
    """`limit` questions drawn with `seed` (the same every run), in file order."""
    if not limit or limit >= len(questions):
        return questions
    chosen = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in chosen]


# --- metrics ----------------------------------------------------------------------------------


def contains_answer(text: str, answers: list[str]) -> bool:
    """Whether a gold answer occurs in `text`, both lower-cased, accent-folded, whitespace and dashes normalised."""
    folded = fold(text)
    return any(fold(answer) and fold(answer) in folded for answer in answers)


def first_gold_rank(retrieved: list[str], gold: list[str]) -> int | None:
    return next((rank for rank, doc_id in enumerate(retrieved, 1) if doc_id in gold), None)


def score_record(record: Record) -> Record:
    record.lead_hit = not record.abstained and contains_answer(record.lead, record.expected)
    record.answer_hit = not record.abstained and contains_answer(record.answer, record.expected)
    record.first_gold_rank = first_gold_rank(record.retrieved, record.gold_doc_ids)
    return record


def recall_at(records: list[Record], k: int) -> float:
    return _share(r.first_gold_rank is not None and r.first_gold_rank <= k for r in records)


def mrr(records: list[Record], depth: int = RANKING_DEPTH) -> float:
    return _mean(1 / r.first_gold_rank if r.first_gold_rank and r.first_gold_rank <= depth else 0.0 for r in records)


def citation_precision(records: list[Record]) -> float:
    """Share of all citations, over answered questions, that cite a gold article."""
    cited = [doc_id in r.gold_doc_ids for r in records if not r.abstained for doc_id in r.cited]
    return _share(cited)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def aggregate(records: list[Record], k: int) -> dict:
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
        "lead_hit": _share(r.lead_hit for r in answerable),
        "answer_hit": _share(r.answer_hit for r in answerable),
        "citation_precision": citation_precision(answerable),
        "unanswerable_abstained": _share(r.abstained for r in unanswerable),
        "answerable_abstained": _share(r.abstained for r in answerable),
        "mean_quoted_sentences": _mean(r.quoted_sentences for r in records if not r.abstained),
        "max_quoted_sentences": max((r.quoted_sentences for r in records), default=0),
        "latency_p50_ms": percentile(latencies, 0.5),
        "latency_p95_ms": percentile(latencies, 0.95),
    }


def _share(flags) -> float:
    flags = list(flags)
    return sum(map(bool, flags)) / len(flags) if flags else 0.0


def _mean(values) -> float:
    values = list(values)
    return statistics.fmean(values) if values else 0.0


# --- running ----------------------------------------------------------------------------------


def evaluate(assistant: Assistant, questions: list[GoldQuestion], k: int = 5, progress: bool = False) -> Report:
    """Ask every question (after one warm-up) and score the answers."""
    assistant.ask(questions[0].question if questions else "warm-up")  # the first call pays one-off costs
    records = []
    for number, gold in enumerate(questions, 1):
        started = time.perf_counter()
        answer = assistant.ask(gold.question)
        latency = (time.perf_counter() - started) * 1000
        records.append(score_record(_record(gold, answer, latency)))
        if progress and number % 500 == 0:
            print(f"  {number}/{len(questions)} questions", file=sys.stderr)
    curve = {depth: recall_at([r for r in records if r.expected], depth) for depth in range(1, RANKING_DEPTH + 1)}
    return Report(k, aggregate(records, k), curve, records)


def _record(gold: GoldQuestion, answer: Answer, latency_ms: float) -> Record:
    lead = next((q.text for q in answer.quotes if not q.context), "")
    return Record(
        id=gold.id,
        question=gold.question,
        expected=gold.answers,
        gold_doc_ids=gold.doc_ids,
        answer=answer.text,
        lead=lead,
        abstained=answer.abstained,
        confidence=answer.confidence,
        retrieved=answer.retrieved,
        cited=list(dict.fromkeys(c.doc_id for c in answer.citations)),
        quoted_sentences=len(answer.quotes),
        latency_ms=round(latency_ms, 2),
    )


def misses(records: list[Record]) -> list[Record]:
    return [r for r in records if (r.expected and not r.answer_hit) or (not r.expected and not r.abstained)]


def markdown(report: Report) -> str:
    rows = [f"| {name} | {_format(value)} |" for name, value in report.aggregates.items()]
    return "\n".join(["| metric | value |", "| --- | --- |", *rows])


def _format(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_misses(records: list[Record], shown: int = MISSES_SHOWN) -> str:
    missed = misses(records)
    lines = [f"Misses: {len(missed)}"]
    for r in missed[:shown]:
        expected = " | ".join(r.expected) if r.expected else "(abstain)"
        got = "(abstained)" if r.abstained else r.answer
        lines.append(f"- {r.id}: {r.question}\n  expected: {expected}\n  got: {got[:300]}")
    if len(missed) > shown:
        lines.append(f"... and {len(missed) - shown} more (all are in the JSON report)")
    return "\n".join(lines)


def plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (recall_axes, latency_axes) = plt.subplots(1, 2, figsize=(10, 4))
    depths = list(report.recall_curve)
    recall_axes.plot(depths, [report.recall_curve[d] for d in depths], marker="o")
    recall_axes.set(xlabel="k (passages)", ylabel="document Recall@k", title="Retrieval", ylim=(0, 1.02), xticks=depths)
    recall_axes.grid(alpha=0.3)
    latencies = [r.latency_ms for r in report.records]
    # A few slow outliers would squeeze the bulk into one bar: show up to 1.5 x p99 and name the maximum.
    latency_axes.hist(latencies, bins=40, range=(0, 1.5 * percentile(latencies, 0.99)))
    latency_axes.set(
        xlabel="latency per question (ms, warm)", ylabel="questions", title=f"Latency (max {max(latencies):.0f} ms)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def squad_assistant(path: Path, settings: Settings, cache: Path | None = None) -> tuple[Assistant, list[GoldQuestion]]:
    """An Assistant over a SQuAD file's paragraphs, its index cached by the file's hash and the settings."""
    file_hash = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    settings_hash = hashlib.sha256(json.dumps(settings.index_fingerprint(), sort_keys=True).encode()).hexdigest()[:8]
    corpus, questions = load_squad(path)
    index_dir = Path(cache or SQUAD_CACHE) / f"squad-{file_hash}-{settings_hash}"
    return Assistant(settings=settings, corpus=corpus, index_dir=index_dir), questions


# --- command line -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--gold", type=Path, help="gold questions, JSONL (see eval/README.md)")
    source.add_argument("--squad", type=Path, help="a SQuAD-format JSON file: its paragraphs become the corpus")
    parser.add_argument("--corpus", type=Path, help="articles folder for --gold (default: seeds/)")
    parser.add_argument(
        "--index", type=Path, help="index folder for --gold (default: index/); --squad caches in eval/cache/"
    )
    parser.add_argument("--k", type=int, default=5, help="k of Recall@k (default 5)")
    parser.add_argument("--limit", type=int, help="--squad: evaluate this many questions, sampled")
    parser.add_argument("--seed", type=int, default=0, help="--squad: seed of the sample (default 0)")
    parser.add_argument("--json", type=Path, help="write every record and the aggregates here")
    parser.add_argument("--plot", type=Path, help="draw the Recall@k curve and latency histogram to this PNG")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.squad:
        assistant, questions = squad_assistant(args.squad, settings)
        questions = sample(questions, args.limit, args.seed)
        source = f"SQuAD file {args.squad}"
    else:
        assistant = Assistant(corpus_dir=args.corpus, index_dir=args.index, settings=settings)
        questions = load_gold(args.gold)
        source = f"gold file {args.gold}"
    if not questions:
        print(f"no questions in {source}", file=sys.stderr)
        return 1
    print(f"{assistant.status}; evaluating {len(questions)} questions from {source}", file=sys.stderr)
    report = evaluate(assistant, questions, k=args.k, progress=True)
    print(markdown(report))
    print()
    print(format_misses(report.records))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "source": str(args.gold or args.squad),
            "k": report.k,
            "aggregates": report.aggregates,
            "recall_curve": report.recall_curve,
            "records": [asdict(r) for r in report.records],
        }
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False), "utf-8")
    if args.plot:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        plot(report, args.plot)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m askbalkans.eval", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
