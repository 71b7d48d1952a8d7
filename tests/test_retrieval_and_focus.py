import pytest

from askbalkans.composer import counts_of, question_focus
from askbalkans.retriever import RANKING_DEPTH


@pytest.mark.parametrize("name", ["Shekerinska", "Banjska", "KFOR", "Telegrafi", "Sahatçiu"])
def test_rare_names_are_found_by_the_lexical_index(seeds_assistant, name):
    retrieval = seeds_assistant.retriever.retrieve(name)
    best = seeds_assistant.index.passages[retrieval.hits[0].passage_id]
    assert name in best.text
    assert retrieval.hits[0].lexical == 1.0  # the best BM25 score
    assert len(retrieval.ranked_doc_ids) <= RANKING_DEPTH


def test_hits_are_ranked_by_the_fused_score(seeds_assistant):
    hits = seeds_assistant.retriever.retrieve("How many troops serve in KFOR?", top_k=5).hits
    assert len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    settings = seeds_assistant.settings
    for hit in hits:
        fused = settings.dense_weight * hit.dense + settings.lexical_weight * hit.lexical
        assert hit.score == pytest.approx(fused + settings.sentence_weight * hit.sentence, abs=1e-5)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who is the EU envoy?", "person"),
        ("Apart from Catherine Ashton, who steered the talks when they first began?", "person"),
        ("According to the officials who briefed reporters, by what means must a solution be reached?", "other"),
        ("Approximately how many troops serve in KFOR?", "number"),
        ("In which month and year did the attack happen?", "date"),
        ("On which street is the office?", "place"),
        ("Which organisation facilitates the dialogue?", "name"),
        ("Why is KFOR deployed in Kosovo?", "other"),
    ],
)
def test_what_a_question_asks_for(question, kind):
    assert question_focus(question).kind == kind


def test_counts_are_numbers_before_the_counted_noun():
    nouns = question_focus("How many troops serve in KFOR?").counted
    assert counts_of("KFOR had 50,000 troops, and today around 4,600 soldiers.", nouns) == {"50000"}
    assert counts_of("In 2023 the troops came back.", nouns) == set()  # a year is no count
    assert counts_of("Some 4,700 NATO troops from 29 countries.", nouns) == {"4700"}


def test_counts_of_something_else_are_no_disagreement(seeds_assistant):
    answer = seeds_assistant.ask("How many countries recognise Kosovo's independence?")
    assert not answer.sources_differ
