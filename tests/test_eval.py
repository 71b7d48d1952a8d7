"""Evaluation metrics on tiny hand-built cases, and the eval command on the gold file and a SQuAD slice."""

from __future__ import annotations

import json

import pytest

from askbalkans.cli import main
from askbalkans.evaluation.datasets import GoldQuestion, load_gold, load_squad, sample, squad_split
from askbalkans.evaluation.metrics import (
    Record,
    aggregate,
    citation_precision,
    contains_answer,
    mrr,
    percentile,
    recall_at,
    score_record,
    span_exact_match,
    span_f1,
)
from conftest import PROJECT_ROOT, SHARED

SQUAD = SHARED / "benchmarks" / "squad-dev-v1.1.json"


def record(expected, gold, retrieved, answer="", lead="", cited=(), abstained=False, latency=10.0) -> Record:
    return score_record(
        Record(
            "q",
            "?",
            list(expected),
            list(gold),
            answer,
            lead,
            abstained,
            0.5,
            list(retrieved),
            list(cited),
            answer.count("["),
            latency,
        )
    )


def test_answer_matching_folds_case_accents_whitespace_and_dashes():
    assert contains_answer("Aleksandar  VUČIĆ met Kurti", ["aleksandar vucic"])
    assert contains_answer("the 1998–1999 conflict", ["1998-1999"])
    assert not contains_answer("the 1998 conflict", ["1999"])
    assert not contains_answer("anything", [""])


def test_span_metrics_use_squads_normalisation():
    assert span_exact_match("The Denver Broncos!", ["Denver Broncos"])
    assert not span_exact_match("Broncos", ["Denver Broncos"])
    assert span_f1("Broncos", ["Denver Broncos"]) == pytest.approx(2 / 3)
    assert span_f1("the Broncos of Denver", ["Panthers", "Denver Broncos"]) == pytest.approx(0.8)
    assert span_f1("", ["Denver Broncos"]) == 0.0


def test_squad_holds_out_every_third_article_by_title():
    training, held_out = squad_split(SQUAD)
    titles = sorted(entry["title"] for entry in training + held_out)
    assert [entry["title"] for entry in held_out] == titles[::3] and len(training) == 32
    corpus, questions = load_squad(SQUAD, "held-out")
    assert (len(corpus.articles), len(questions)) == (620, 3055)
    assert all(q.answerable and q.doc_ids[0] in {a.doc_id for a in corpus.articles} for q in questions)
    # The same questions over the training articles alone: none of them is answered there.
    corpus, unanswerable = load_squad(SQUAD, "unanswerable")
    assert len(corpus.articles) == 1447 and [q.id for q in unanswerable] == [q.id for q in questions]
    assert not any(q.answerable or q.doc_ids for q in unanswerable)
    assert not {a.doc_id.split("#")[0] for a in corpus.articles} & {e["title"] for e in held_out}


def test_retrieval_metrics():
    records = [
        record(["x"], ["a"], ["a", "b", "c"]),  # rank 1
        record(["x"], ["a"], ["b", "b", "a"]),  # rank 3
        record(["x"], ["a", "c"], ["b", "c"]),  # rank 2 (any gold article counts)
        record(["x"], ["a"], ["b", "c", "d"]),  # not found
    ]
    assert [r.first_gold_rank for r in records] == [1, 3, 2, None]
    assert recall_at(records, 1) == 0.25
    assert recall_at(records, 2) == 0.5
    assert recall_at(records, 3) == 0.75
    assert mrr(records) == pytest.approx((1 + 1 / 3 + 1 / 2 + 0) / 4)
    assert mrr(records, depth=2) == pytest.approx((1 + 0 + 1 / 2) / 4)


def test_answer_metrics_citations_abstention_and_latency():
    records = [
        record(
            ["Sorensen"],
            ["a"],
            ["a"],
            answer="Peter Sorensen visited. [1] Then Belgrade. [2]",
            lead="Peter Sorensen visited.",
            cited=["a", "b"],
            latency=10,
        ),
        record(
            ["Belgrade"],
            ["a"],
            ["a"],
            answer="Peter Sorensen visited. [1] Then Belgrade. [2]",
            lead="Peter Sorensen visited.",
            cited=["a"],
            latency=20,
        ),
        record(["Rutte"], ["b"], ["a"], abstained=True, latency=30),
        record([], [], ["a"], abstained=True, latency=40),
        record([], [], ["a"], answer="Something. [1]", lead="Something.", cited=["a"], latency=50),
    ]
    assert [r.lead_hit for r in records[:3]] == [True, False, False]
    assert [r.answer_hit for r in records[:3]] == [True, True, False]
    totals = aggregate(records, k=5)
    assert totals["answerable"] == 3 and totals["unanswerable"] == 2
    assert totals["lead_hit"] == pytest.approx(1 / 3)
    assert totals["answer_hit"] == pytest.approx(2 / 3)
    assert citation_precision(records[:3]) == pytest.approx(2 / 3)  # a, b cited for gold a; a for gold a
    assert totals["unanswerable_abstained"] == 0.5
    assert totals["answerable_abstained"] == pytest.approx(1 / 3)
    assert totals["latency_p50_ms"] == 30
    assert percentile([10, 20, 30, 40, 50], 0.95) == pytest.approx(48)


def test_gold_file_follows_the_format_and_covers_the_seeds():
    questions = load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")
    assert len(questions) >= 60
    assert len({q.id for q in questions}) == len(questions)
    unanswerable = [q for q in questions if not q.answerable]
    assert len(unanswerable) >= 10 and all(not q.doc_ids for q in unanswerable)
    assert sum(len(q.doc_ids) > 1 for q in questions) >= 5
    seeds = {p.stem: p.read_text("utf-8") for p in (PROJECT_ROOT / "seeds").glob("*.txt")}
    assert {d for q in questions for d in q.doc_ids} == set(seeds)
    for q in questions:
        assert q.answerable == bool(q.doc_ids)
        for doc_id in q.doc_ids:
            assert contains_answer(seeds[doc_id], q.answers), (q.id, doc_id)


def test_sampling_is_deterministic_and_keeps_file_order():
    questions = [GoldQuestion(str(i), "?", ["a"], ["d"]) for i in range(100)]
    first, again = sample(questions, 10, seed=3), sample(questions, 10, seed=3)
    assert first == again and len(first) == 10
    assert [int(q.id) for q in first] == sorted(int(q.id) for q in first)
    assert sample(questions, 10, seed=4) != first
    assert sample(questions, None, seed=0) == questions


@pytest.fixture(scope="module")
def squad_slice(tmp_path_factory):
    data = json.loads(SQUAD.read_text("utf-8"))
    path = tmp_path_factory.mktemp("squad") / "slice.json"
    # Two articles, their first 15 paragraphs each: enough for retrieval to have to choose.
    articles = [dict(entry, paragraphs=entry["paragraphs"][:15]) for entry in data["data"][:2]]
    path.write_text(json.dumps({"version": "slice", "data": articles}), "utf-8")
    return path


def test_squad_file_becomes_one_document_per_paragraph(squad_slice):
    corpus, questions = load_squad(squad_slice)
    data = json.loads(squad_slice.read_text("utf-8"))["data"]
    assert len(corpus.articles) == sum(len(entry["paragraphs"]) for entry in data)
    assert corpus.articles[0].doc_id == f"{data[0]['title']}#0"
    assert corpus.articles[0].title == data[0]["title"].replace("_", " ")
    assert all(q.answerable and len(q.doc_ids) == 1 for q in questions)


def test_impossible_squad_2_questions_are_unanswerable(tmp_path):
    squad2 = {
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "Pristina is a city.",
                        "qas": [
                            {
                                "id": "1",
                                "question": "What is Pristina?",
                                "answers": [{"text": "a city", "answer_start": 12}],
                            },
                            {"id": "2", "question": "Who founded it?", "answers": [], "is_impossible": True},
                        ],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "squad2.json"
    path.write_text(json.dumps(squad2), "utf-8")
    _, questions = load_squad(path)
    assert [q.answerable for q in questions] == [True, False]
    assert questions[1].doc_ids == []


@pytest.mark.e2e
def test_eval_command_on_a_squad_slice(squad_slice, tmp_path, capsys):
    out, png, cache = tmp_path / "report.json", tmp_path / "report.png", tmp_path / "cache"
    assert (
        main(
            [
                "eval",
                "--squad",
                str(squad_slice),
                "--limit",
                "60",
                "--seed",
                "1",
                "--json",
                str(out),
                "--plot",
                str(png),
                "--cache",
                str(cache),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text("utf-8"))
    assert len(report["records"]) == 60
    totals = report["aggregates"]
    assert totals["recall@5"] >= 0.85 and totals["answer_hit"] >= 0.6
    assert png.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "| recall@1 |" in printed and "Misses:" in printed
    # The cached index is reused: a second run does not rebuild it.
    assert main(["eval", "--squad", str(squad_slice), "--limit", "5", "--cache", str(cache)]) == 0
    assert "loaded the index" in capsys.readouterr().err


@pytest.mark.e2e
def test_eval_command_on_the_gold_file(tmp_path, capsys):
    out = tmp_path / "gold.json"
    gold = PROJECT_ROOT / "eval" / "gold.jsonl"
    assert main(["eval", "--gold", str(gold), "--index", str(tmp_path / "index"), "--json", str(out)]) == 0
    report = json.loads(out.read_text("utf-8"))
    assert len(report["records"]) == len(load_gold(gold))
    assert set(report["recall_curve"]) == {str(k) for k in range(1, 11)}
    assert "| lead_hit |" in capsys.readouterr().out
    assert main(["eval", "--gold", str(gold), "--split", "test", "--index", str(tmp_path / "index")]) == 1
