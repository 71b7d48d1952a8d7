"""Suggested follow-up questions: their seeds in the cited passages of real answers over the seeds, and
that each suggestion is a question the assistant answers."""

from __future__ import annotations

from askbalkans.chunker import Sentence
from askbalkans.suggestions import Seed, cited_sentences, seeds_of, suggest
from askbalkans.tagging import Span

ENVOY = "Who is the EU special representative for the Kosovo-Serbia dialogue?"


def sentence(text: str, *spans: tuple[str, str]) -> Sentence:
    found = tuple(Span(kind, text.index(part), text.index(part) + len(part)) for kind, part in spans)
    return Sentence("a", 0, 0, len(text), text, False, found)


def test_seeds_are_the_names_and_dates_the_conversation_has_not_mentioned():
    text = "On 14 March 2024 Mark Rutte met Albin Kurti in Brussels; NATO said so on Tuesday."
    tagged = sentence(
        text,
        ("date", "14 March 2024"),
        ("person", "Mark Rutte"),
        ("person", "Albin Kurti"),
        ("place", "Brussels"),
        ("name", "NATO"),
        ("date", "Tuesday"),  # no fact to ask about
    )
    seeds = seeds_of([tagged, tagged], ["Who met Kurti?", "Albin Kurti met someone."])
    assert seeds == [
        Seed("person", "Mark Rutte"),
        Seed("name", "NATO"),
        Seed("place", "Brussels"),
        Seed("date", "14 March 2024"),
    ]  # one of each type first; Kurti is mentioned; each seed once
    assert [seed.question for seed in seeds] == [
        "Who is Mark Rutte?",
        "What is NATO?",
        "What happened in Brussels?",
        "What happened on 14 March 2024?",
    ]
    assert Seed("date", "September 2023").question == "What happened in September 2023?"


def test_seeds_come_from_the_cited_passages_first_then_the_rest_of_their_articles(seeds_assistant):
    answer = seeds_assistant.ask(ENVOY)
    sentences = cited_sentences(seeds_assistant.index, answer)
    in_passage = [any(s.text in c.passage for c in answer.citations) for s in sentences]
    assert in_passage == sorted(in_passage, reverse=True) and in_passage[0] and not in_passage[-1]
    assert {s.doc_id for s in sentences} == {c.doc_id for c in answer.citations}
    assert {quote.text for quote in answer.quotes} <= {s.text for s in sentences}
    seeds = seeds_of(sentences, [answer.question, answer.text])
    assert Seed("person", "Mark Rutte") in seeds
    assert not [seed for seed in seeds if "Sorensen" in seed.text or seed.text in ("EU", "NATO")]


def test_every_suggestion_is_answered_by_a_sentence_the_answer_does_not_quote(seeds_assistant):
    answer = seeds_assistant.ask(ENVOY)
    suggestions = suggest(seeds_assistant, answer, [], limit=3, budget_s=30)
    assert 2 <= len(suggestions) <= 3
    for question in suggestions:
        reply = seeds_assistant.ask(question)
        assert not reply.abstained and reply.lead.text not in {q.text for q in answer.quotes}, question


def test_no_suggestions_after_an_abstention_or_without_time(seeds_assistant):
    assert suggest(seeds_assistant, seeds_assistant.ask("What is the capital of Peru?"), []) == []
    assert suggest(seeds_assistant, seeds_assistant.ask(ENVOY), [], budget_s=0) == []
