"""The composer's choices on small synthetic corpora, with the real model."""

from dataclasses import replace

import pytest

from askbalkans import Assistant, Settings
from askbalkans.answer import NOT_FOUND, SOURCES_DIFFER, Answer
from askbalkans.text import statement_key

REPORT = (
    "Ibar bridge report\n\n"
    "The Ibar bridge in Mitrovica reopened to cars on 3 March 2031, officials said. "
    "It had been closed to traffic for twelve years. "
    "Opening hours:\n09:00 to 17:00 on weekdays.\n"
)


def test_a_sentence_that_leans_on_the_previous_one_brings_it_as_context(assistant_over):
    assistant = assistant_over({"bridge": REPORT})
    answer = assistant.ask("For how long had the bridge been closed to traffic?")
    texts = [q.text for q in answer.quotes]
    lean = texts.index("It had been closed to traffic for twelve years.")
    assert lean > 0 and answer.quotes[lean - 1].context and "reopened to cars" in texts[lean - 1]
    assert not answer.quotes[lean].context and answer.lead.text == texts[lean]


def test_context_is_not_brought_when_it_would_pass_the_sentence_limit(assistant_over, tmp_path):
    one = replace(Settings(), max_answer_sentences=1)
    answer = assistant_over({"bridge": REPORT}, settings=one).ask("For how long had the bridge been closed?")
    assert len(answer.quotes) == 1 and not answer.quotes[0].context


def test_a_label_line_brings_the_line_it_introduces(assistant_over):
    answer = assistant_over({"bridge": REPORT}).ask("What are the opening hours?")
    assert "09:00 to 17:00 on weekdays." in [q.text for q in answer.quotes]


def test_a_sentence_repeated_by_two_articles_is_quoted_once_with_both_citations(assistant_over):
    repeated = "Currently, 29 NATO member states are part of the KFOR mission."
    answer = assistant_over(
        {
            "wire": f"Wire report on KFOR\n\n{repeated}\nThe report was filed on Monday.\n",
            "agency": f"Agency copy\n\nKFOR keeps the peace. {repeated}\n",
        }
    ).ask("How many NATO member states are part of the KFOR mission?")
    quotes = [q for q in answer.quotes if q.text == repeated]
    assert len(quotes) == 1 and len(quotes[0].markers) == 2
    assert {c.doc_id for c in answer.citations if c.marker in quotes[0].markers} == {"wire", "agency"}
    assert answer.text.count(repeated) == 1


BRIDGE_NOTES = {f"bridge-{day}": f"The Ibar bridge reopened on {day} March 2031." for day in (1, 2, 3)}


def with_bridge_notes(corpus) -> None:
    """Three notes that say the same thing of three dates, added to a corpus folder."""
    for doc_id, sentence in BRIDGE_NOTES.items():
        (corpus / f"{doc_id}.md").write_text(f"# Bridge note {doc_id[-1]}\n\n{sentence}\n", "utf-8")


def assert_each_date_is_quoted_and_flagged(answer: Answer) -> None:
    """The whole answer to "When did the Ibar bridge reopen?" over the three notes: each date quoted once,
    citing its own note only, and the answer flagged."""
    assert not answer.abstained and answer.sources_differ and answer.text.startswith(SOURCES_DIFFER)
    for quote in answer.quotes:  # a citation says exactly what its quote says
        assert all(statement_key(answer.citations[m - 1].sentence) == statement_key(quote.text) for m in quote.markers)
    assert sorted(q.text for q in answer.quotes) == sorted(BRIDGE_NOTES.values())
    assert [(c.doc_id, c.sentence) for c in answer.citations] == [
        (doc_id, sentence) for q in answer.quotes for doc_id, sentence in BRIDGE_NOTES.items() if sentence == q.text
    ]
    assert [c.marker for c in answer.citations] == [m for q in answer.quotes for m in q.markers] == [1, 2, 3]
    body = " ".join(f"{c.sentence} [{c.marker}]" for c in answer.citations)
    assert answer.text == f"{SOURCES_DIFFER} {body}"


def test_sentences_that_differ_only_in_a_date_are_each_quoted_and_flagged(corpus_copy, tmp_path, embedder):
    with_bridge_notes(corpus_copy)
    assistant = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index", embedder=embedder)
    assert_each_date_is_quoted_and_flagged(assistant.ask("When did the Ibar bridge reopen?"))


def test_only_the_same_words_and_figures_are_quoted_as_one(assistant_over):
    """Case, accents, spacing, punctuation and thousands separators aside, a repeat is the same sentence;
    a negation or another figure is not."""
    answer = assistant_over(
        {
            "wire": "Wire report\n\nAbout 4,600 soldiers serve in KFOR, officials said.\n",
            "agency": "Agency copy\n\nABOUT 4600 soldiers serve in KFOR — officials said!\n",
            "denial": "Denial\n\nAbout 4,600 soldiers do not serve in KFOR, officials said.\n",
        }
    ).ask("How many soldiers serve in KFOR, officials said?")
    for quote in answer.quotes:
        cited = {answer.citations[m - 1].doc_id for m in quote.markers}
        assert cited == ({"denial"} if "not" in quote.text else {"wire", "agency"})


def test_the_statement_key_keeps_what_a_sentence_says():
    same = statement_key("The Ibar bridge reopened on 1 March 2031.")
    assert statement_key("the ibar  bridge reopened on 1 march 2031") == same
    for other in (
        "The Ibar bridge reopened on 11 March 2031.",
        "The Ibar bridge reopened on 1 May 2031.",
        "The Ibar bridge never reopened on 1 March 2031.",
        "The Drina bridge reopened on 1 March 2031.",
    ):
        assert statement_key(other) != same  # fmt: skip
    assert statement_key("4,636 troops") == statement_key("4636 troops") != statement_key("4.636 troops")
    assert statement_key("1,5 million") != statement_key("15 million")
    assert statement_key("didn't reopen") != statement_key("did reopen")
    assert statement_key("Vučić's visit") == statement_key("Vucic's visit") != statement_key("Vucic visit")
    assert statement_key("5% more") == statement_key("5 percent more")


def test_differing_counts_of_the_asked_noun_are_all_quoted(assistant_over):
    assistant = assistant_over(
        {
            "first": "KFOR figures\n\nAbout 4,600 soldiers serve in KFOR today, officials said.\n",
            "second": "KFOR report\n\nApproximately 4,700 soldiers serve in KFOR, according to NATO.\n",
            "third": "KFOR history\n\nKFOR was deployed in 1999 and later increased by 1,000 vehicles.\n",
        }
    )
    answer = assistant.ask("How many soldiers serve in KFOR?")
    assert answer.sources_differ and answer.text.startswith("The sources differ:")
    assert "4,600" in answer.text and "4,700" in answer.text
    assert "1,000" not in answer.text  # a count of vehicles is about something else
    same = assistant.ask("In which year was KFOR deployed?")
    assert not same.sources_differ


@pytest.mark.parametrize(("reader", "threshold"), [("none", "scorer_abstain_threshold"), ("int8", "abstain_threshold")])
def test_below_the_threshold_the_answer_is_an_abstention(assistant_over, reader, threshold):
    settings = replace(Settings(), reader=reader)
    confident = assistant_over({"bridge": REPORT}, settings=settings).ask("When did the Ibar bridge reopen to cars?")
    assert not confident.abstained
    strict = assistant_over({"bridge": REPORT}, settings=replace(settings, **{threshold: confident.confidence + 1e-4}))
    answer = strict.ask("When did the Ibar bridge reopen to cars?")
    assert answer.abstained and answer.text == NOT_FOUND and not answer.citations and not answer.quotes
    assert answer.confidence == pytest.approx(confident.confidence, abs=1e-4)


def test_citations_point_into_the_article_and_its_passage(assistant_over):
    assistant = assistant_over({"bridge": REPORT})
    answer = assistant.ask("When did the Ibar bridge reopen?")
    for citation in answer.citations:
        assert REPORT[citation.start : citation.end] == citation.sentence
        assert citation.sentence in citation.passage and citation.title == "Ibar bridge report"


def test_answer_type_evidence_is_only_for_questions_that_ask_for_a_type(assistant_over):
    """A question of no particular type gets no answer-type evidence from any sentence: with a free 1 for
    every sentence, the non-negative confidence would favour such questions (off-topic ones included)."""
    from askbalkans.question import analyse

    assistant = assistant_over({"bridge": REPORT})
    reader = assistant.reader

    def evidence(question: str) -> list[float]:
        analysis = analyse(question, reader.tagger.tag([question])[0])
        return [s.evidence.answer_type for s in reader.scorer.score(assistant.retrieve(question), analysis)]

    assert set(evidence("What about the Ibar bridge?")) == {0.0}
    assert 1.0 in evidence("When did the Ibar bridge reopen to cars?")
