"""End to end over the real seeds with the real bundled model."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import askbalkans
from askbalkans.assistant import EMPTY_QUESTION
from askbalkans.composer import NOT_FOUND
from askbalkans.corpus import load_corpus
from askbalkans.eval import contains_answer, load_gold
from conftest import PROJECT_ROOT, SEEDS

KNOWN = [
    (
        "Who is the EU special representative for the Kosovo-Serbia dialogue?",
        ["Peter Sorensen"],
        {"004_e76711d46be13724"},
    ),
    (
        "When did the dialogue between Kosovo and Serbia begin?",
        ["2011"],
        {"001_f3301d7d56d1fe05", "003_911e190891696f57"},
    ),
    ("When did Kosovo declare independence from Serbia?", ["2008"], {"003_911e190891696f57"}),
    ("Where was the 47th PfPC workshop held?", ["Pristina and Mitrovica"], {"001_f3301d7d56d1fe05"}),
    ("Who is NATO's Deputy Secretary General?", ["Radmila Shekerinska"], {"004_e76711d46be13724"}),
    ("Which countries contribute the most personnel to KFOR?", ["Italy"], {"002_3b03215c86b7af87"}),
    ("How many NATO member states take part in KFOR?", ["29"], {"004_e76711d46be13724"}),
    ("How long did NATO's air campaign last?", ["78-day"], {"003_911e190891696f57"}),
    ("Where did Kurti and Vučić meet in September 2023?", ["Brussels"], {"004_e76711d46be13724"}),
    ("Who is the Executive Director of the Balkans Group?", ["Naim Rashiti"], {"000_c156d69eb00ff29e"}),
    ("Who was killed in the attack in Banjska?", ["policeman"], {"004_e76711d46be13724"}),
    ("What are the Balkans Group's opening hours?", ["09:00"], {"000_c156d69eb00ff29e"}),
]
UNANSWERABLE = [
    "Who won the 2022 FIFA World Cup?",
    "What is the population of Kosovo?",
    "What is the capital of Montenegro?",
]
ODD = [
    "\x00\x01",
    "🤖🤖🤖 KFOR?",
    "\u202eKFOR\u202c troops",
    "Pri\u0161tina\u0301 \ud800?",
    "ǅ ﬁ ℌ ① ٣ KFOR",
    "\ufeff\u200b",
]


@pytest.mark.parametrize(("question", "answers", "doc_ids"), KNOWN)
def test_known_answers_are_quoted_and_cited(seeds_assistant, question, answers, doc_ids):
    answer = seeds_assistant.ask(question)
    assert not answer.abstained, answer
    lead = next(quote for quote in answer.quotes if not quote.context)
    assert contains_answer(lead.text, answers), answer.text
    assert {c.doc_id for c in answer.citations} & doc_ids
    assert 1 <= len(answer.quotes) <= 3
    assert "[1]" in answer.text


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_questions_the_corpus_does_not_answer_abstain(seeds_assistant, question):
    answer = seeds_assistant.ask(question)
    assert answer.abstained
    assert answer.text == NOT_FOUND
    assert not answer.citations
    assert answer.confidence < seeds_assistant.settings.abstain_threshold


def test_every_quoted_sentence_is_verbatim_from_the_article_it_cites(seeds_assistant):
    articles = {a.doc_id: a for a in load_corpus(SEEDS).articles}
    questions = [q.question for q in load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")] + [q for q, _, _ in KNOWN]
    quoted = 0
    for question in questions:
        answer = seeds_assistant.ask(question)
        citations = {c.marker: c for c in answer.citations}
        for quote in answer.quotes:
            assert quote.markers and quote.text in answer.text
            for marker in quote.markers:
                citation = citations[marker]
                assert articles[citation.doc_id].text[citation.start : citation.end] == citation.sentence
                assert citation.sentence in citation.passage
            assert citations[quote.markers[0]].sentence == quote.text
            quoted += 1
        assert len(answer.quotes) <= seeds_assistant.settings.max_answer_sentences
    assert quoted > len(questions)


def test_sources_that_disagree_are_all_quoted(seeds_assistant):
    answer = seeds_assistant.ask("How many troops serve in KFOR?")
    assert answer.sources_differ
    assert answer.text.startswith("The sources differ")
    figures = [figure for figure in ("4,636", "4,700", "4,600") if figure in answer.text]
    assert len(figures) >= 2, answer.text
    assert len({c.doc_id for c in answer.citations}) >= 2


def test_a_sentence_that_leans_on_the_previous_one_brings_it_along(seeds_assistant):
    answer = seeds_assistant.ask("Did Sorensen also visit Belgrade?")
    texts = [q.text for q in answer.quotes]
    lean = texts.index(next(t for t in texts if t.startswith("He also visited Belgrade")))
    assert lean > 0 and "Peter Sorensen, visited Pristina" in texts[lean - 1]
    assert answer.quotes[lean - 1].context


def test_empty_huge_and_odd_questions(seeds_assistant):
    for empty in ("", "   \n\t", "\u200b\u200b"):
        answer = seeds_assistant.ask(empty)
        assert answer.abstained and answer.text == EMPTY_QUESTION
    limit = seeds_assistant.settings.max_question_chars
    huge = "How many troops serve in KFOR? " + "Please answer this question carefully. " * 400
    answer = seeds_assistant.ask(huge)
    assert any(str(limit) in notice for notice in answer.notices)
    assert len(answer.question) <= limit
    for odd in ODD:
        json.dumps(seeds_assistant.ask(odd).to_dict())


def test_answer_is_a_json_serialisable_dataclass(seeds_assistant):
    answer = seeds_assistant.ask("Who is the EU special representative for the Kosovo-Serbia dialogue?")
    payload = json.loads(json.dumps(answer.to_dict()))
    assert set(payload) >= {"text", "citations", "confidence", "abstained"}
    assert set(payload["citations"][0]) >= {"doc_id", "title", "passage", "start", "end", "score"}
    assert 0.0 <= payload["confidence"] <= 1.0


def test_follow_up_question_is_answered_about_the_previous_answer(seeds_assistant):
    first = "Who is the EU special representative for the dialogue?"
    first_answer = seeds_assistant.ask(first)
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": first_answer.text}]
    follow_up = seeds_assistant.ask("When did he visit Pristina?", history=history)
    assert "About a week later, the new EU envoy for the dialogue, Peter Sorensen, visited Pristina." in follow_up.text
    assert any("Sorensen" in notice for notice in follow_up.notices)
    history += [
        {"role": "user", "content": "When did he visit Pristina?"},
        {"role": "assistant", "content": follow_up.text},
    ]
    third = seeds_assistant.ask("Where else did he go?", history=history)
    assert "Belgrade" in third.text


def test_several_users_asking_at_once_get_the_same_answers(seeds_assistant):
    questions = [q for q, _, _ in KNOWN] * 4
    sequential = [seeds_assistant.ask(q).text for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda q: seeds_assistant.ask(q).text, questions))
    assert concurrent == sequential


def test_module_level_ask_works_out_of_the_box():
    answer = askbalkans.ask("How many troops serve in KFOR?", top_k=3)
    assert not answer.abstained and "KFOR" in answer.text


def test_a_sentence_repeated_by_two_articles_is_quoted_once_with_both_citations(corpus_copy, tmp_path):
    repeated = "Currently, 29 NATO member states are part of the KFOR mission."
    (corpus_copy / "wire.txt").write_text(
        f"Wire report on KFOR\n\n{repeated}\nThe report was filed on Monday.\n", "utf-8"
    )
    assistant = askbalkans.Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index", show_progress=False)
    answer = assistant.ask("How many NATO member states are part of the KFOR mission?")
    quotes = [q for q in answer.quotes if q.text == repeated]
    assert len(quotes) == 1 and len(quotes[0].markers) == 2
    cited = {c.doc_id for c in answer.citations if c.marker in quotes[0].markers}
    assert cited == {"wire", "004_e76711d46be13724"}
    assert answer.text.count(repeated) == 1
