import pytest

from askbalkans.question import analyse, counts_of, offers


@pytest.mark.parametrize(
    ("question", "answer_type"),
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
def test_the_answer_type_a_question_asks_for(question, answer_type):
    assert analyse(question).answer_type == answer_type


def test_counted_noun_and_topic():
    analysis = analyse("How many troops does Italy send to KFOR?")
    assert analysis.counted == {"troop"}
    assert "ital" not in analysis.topic and "kfor" not in analysis.topic and "send" in analysis.topic


def test_counts_are_numbers_before_the_counted_noun():
    nouns = analyse("How many troops serve in KFOR?").counted
    assert counts_of("KFOR had 50,000 troops, and today around 4,600 soldiers.", nouns) == {"50000"}
    assert counts_of("In 2023 the troops came back.", nouns) == set()  # a year is no count
    assert counts_of("Some 4,700 NATO troops from 29 countries.", nouns) == {"4700"}


@pytest.mark.parametrize(
    ("question", "sentence", "offered"),
    [
        ("How many troops serve in KFOR?", "About 4,600 troops serve in KFOR.", True),
        ("How many troops serve in KFOR?", "KFOR has served since 1999.", False),
        ("When did the attack happen?", "The attack happened on 24 September 2023.", True),
        ("When did the attack happen?", "The attack happened in Banjska.", False),
        ("Who leads the mission?", "The mission is led by Ferenc Kajári.", True),
        ("Who leads the mission?", "NATO leads the KFOR mission.", False),  # acronyms name no person
        ("Who met Peter Sorensen?", "Peter Sorensen met nobody.", False),  # the question's own name
        ("Why is KFOR there?", "Anything at all.", True),
    ],
)
def test_a_sentence_offers_what_the_question_asks_for(question, sentence, offered):
    assert offers(analyse(question), sentence) is offered
