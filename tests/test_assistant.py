"""End to end over the real seeds with the real bundled model."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import askbalkans
from askbalkans import assistant as assistant_module
from askbalkans.answer import NOT_FOUND
from askbalkans.assistant import EMPTY_QUESTION, prepare_question
from askbalkans.corpus import load_corpus
from askbalkans.evaluation.datasets import load_gold
from askbalkans.evaluation.metrics import contains_answer
from conftest import PROJECT_ROOT, SEEDS

pytestmark = pytest.mark.e2e

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
    # Known misses since the issue-9 confidence (see eval/README.md, "What holds the targets back"): the
    # best sentence is about Kosovo, the only topic word ("population", "capital") is not in the articles,
    # and sentence similarity alone is above the threshold. Strict: a fix makes these fail, to be moved up.
    pytest.param(
        "What is the population of Kosovo?", marks=pytest.mark.xfail(strict=True, reason="confidence from similarity")
    ),
    pytest.param(
        "What is the capital of Montenegro?", marks=pytest.mark.xfail(strict=True, reason="confidence from similarity")
    ),
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
    assert contains_answer(answer.lead.text, answers), answer.text
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


# Only the articles' own noun is matched yet (issue 16 stays open); strict, so that a fix shows.
OTHER_WORDING = pytest.mark.xfail(strict=True, reason="the counted noun is matched as written (issue 16)")


@pytest.mark.parametrize(
    "question",
    [
        "How many troops serve in KFOR?",
        pytest.param("How many soldiers serve in KFOR?", marks=OTHER_WORDING),
        pytest.param("How large is the KFOR peacekeeping force?", marks=OTHER_WORDING),
    ],
)
def test_sources_that_disagree_are_all_quoted_however_the_question_is_worded(seeds_assistant, question):
    answer = seeds_assistant.ask(question)
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
    huge = "Please read this background carefully. " * 400 + "How many troops serve in KFOR? Thanks."
    answer = seeds_assistant.ask(huge)
    assert answer.question == "How many troops serve in KFOR?"  # the question, not the start of the text
    assert any(str(limit) in notice and "left out" in notice for notice in answer.notices)
    assert "4,6" in answer.text
    for odd in ODD:
        json.dumps(seeds_assistant.ask(odd).to_dict())


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"question": b"How many troops?"}, TypeError, "question must be a str"),
        ({"question": None}, TypeError, "question must be a str"),
        ({"question": "KFOR?", "top_k": "5"}, TypeError, "top_k must be a whole number"),
        ({"question": "KFOR?", "top_k": 2.5}, TypeError, "top_k must be a whole number"),
        ({"question": "KFOR?", "top_k": 0}, ValueError, "top_k must be from 1 to 100"),
        ({"question": "KFOR?", "top_k": -1}, ValueError, "top_k must be from 1 to 100"),
        ({"question": "KFOR?", "history": "x"}, TypeError, "history must be a list"),
        ({"question": "KFOR?", "history": 5}, TypeError, "history must be a list"),
        ({"question": "KFOR?", "history": ["x"]}, TypeError, r"history\[0\]"),
    ],
)
def test_wrong_arguments_fail_at_the_call_naming_the_argument(seeds_assistant, arguments, error, message):
    with pytest.raises(error, match=message):
        seeds_assistant.ask(**arguments)


def test_answer_is_a_json_serialisable_dataclass(seeds_assistant):
    answer = seeds_assistant.ask("Who is the EU special representative for the Kosovo-Serbia dialogue?")
    payload = json.loads(json.dumps(answer.to_dict()))
    with pytest.raises(AttributeError):
        answer.text = "changed"  # built once, immutable
    assert set(payload) >= {"text", "citations", "confidence", "abstained"}
    assert set(payload["citations"][0]) >= {"doc_id", "title", "passage", "start", "end", "score"}
    assert 0.0 <= payload["confidence"] <= 1.0


def test_follow_up_question_is_answered_about_the_previous_answer(seeds_assistant):
    first = seeds_assistant.ask("Who is the EU special representative for the dialogue?")
    follow_up = seeds_assistant.ask("When did he visit Pristina?", history=[first])
    assert "About a week later, the new EU envoy for the dialogue, Peter Sorensen, visited Pristina." in follow_up.text
    assert "Read as: When did Peter Sorensen visit Pristina?" in follow_up.notices
    third = seeds_assistant.ask("Where else did he go?", history=[first, follow_up])
    assert "Belgrade" in third.text
    # The same conversation as chat messages with text content.
    messages = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.text}]
    assert seeds_assistant.ask("When did he visit Pristina?", history=messages).text == follow_up.text


def test_several_users_asking_at_once_get_the_same_answers(seeds_assistant):
    questions = [q for q, _, _ in KNOWN] * 4
    sequential = [seeds_assistant.ask(q).text for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda q: seeds_assistant.ask(q).text, questions))
    assert concurrent == sequential


def test_module_level_ask_works_out_of_the_box(tmp_path, monkeypatch):
    monkeypatch.setenv("ASKBALKANS_INDEX", str(tmp_path / "index"))  # never the checkout's index/
    monkeypatch.setattr(assistant_module, "_default", None)
    answer = askbalkans.ask("How many troops serve in KFOR?", top_k=3)
    assert not answer.abstained and "KFOR" in answer.text
    assert (tmp_path / "index" / "CURRENT").exists()


def test_an_over_long_question_keeps_its_question_or_its_end():
    kept, notices = prepare_question("Background. " * 100 + "Who leads KFOR?", 200)
    assert kept == "Who leads KFOR?" and "left out" in notices[0]
    kept, _ = prepare_question("word " * 100 + "and the end", 50)
    assert kept.endswith("and the end") and len(kept) <= 50 and not kept.startswith("ord")


@pytest.mark.parametrize(
    "marked_up",
    [
        "<b>How many troops serve in KFOR?</b>",
        "<p>How many <i>troops</i> serve in <a href='https://example.org'>KFOR</a>?</p>",
        "<!-- pasted -->How many troops serve in KFOR?<br/>",
    ],
)
def test_markup_typed_into_a_question_does_not_change_the_answer(seeds_assistant, marked_up):
    plain = seeds_assistant.ask("How many troops serve in KFOR?").to_dict()
    assert seeds_assistant.ask(marked_up).to_dict() == plain


def test_a_long_message_gets_the_question_it_ends_with_answered(seeds_assistant):
    """The reader asks a first question, rambles, then asks what they want to know (without a "?"); or
    their question holds an abbreviation with a full stop."""
    background = "I have been following the news from Kosovo for a while and I read a lot about it. " * 8
    rambling = f"Who is the EU envoy? {background}Tell me how many troops serve in KFOR today"
    answer = seeds_assistant.ask(rambling)
    assert answer.question == "Tell me how many troops serve in KFOR today"
    assert "4,6" in answer.text and "left out" in answer.notices[0]
    question = "What did NATO's chief, Mr. Rutte, ask Kosovo and Serbia to do?"
    assert seeds_assistant.ask(f"{background}{question} Thanks.").question == question


def test_a_huge_question_is_read_from_its_end_only():
    huge = "x" * 50_000_000 + " How many troops serve in KFOR?"
    kept, notices = prepare_question(huge, 500)
    assert kept == "How many troops serve in KFOR?"
    assert "50000031 characters long" in notices[0]
    # Whatever came before the part read is said to be left out, even if the part read fits.
    kept, notices = prepare_question("Background. " * 1_000 + " " * 3_990 + "Who leads KFOR?", 500)
    assert kept == "Who leads KFOR?" and "left out" in notices[0]
