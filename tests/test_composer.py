"""The composer's choices on small synthetic corpora, with the real model."""

from dataclasses import replace

import pytest

from askbalkans import Settings
from askbalkans.answer import NOT_FOUND

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
