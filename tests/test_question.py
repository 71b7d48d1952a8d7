import pytest

from askbalkans.embedding import WordSimilarity
from askbalkans.question import AnswerFinder, analyse


@pytest.fixture(scope="module")
def finder(embedder) -> AnswerFinder:
    return AnswerFinder(WordSimilarity(embedder))


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("Who is the EU envoy?", "person"),
        ("Apart from Catherine Ashton, who steered the talks when they first began?", "person"),
        ("According to the officials who briefed reporters, by what means must a solution be reached?", "other"),
        ("Approximately how many troops serve in KFOR?", "number"),
        ("In which month and year did the attack happen?", "date"),
        ("In what year was KFOR deployed?", "year"),
        ("How old is Catherine Ashton?", "age"),
        ("How much does the mission cost each year?", "money"),
        ("What percentage of the troops are Italian?", "percent"),
        ("On which street is the office?", "place"),
        ("In which Prishtina venue was the lunch?", "place"),
        ("Which French and German officials drew up the plan?", "person"),
        ("Which organisation facilitates the dialogue?", "name"),
        ("What did the alliance ask Kosovo to do?", "other"),
        ("Why is KFOR deployed in Kosovo?", "other"),
    ],
)
def test_the_answer_type_a_question_asks_for(question, answer_type):
    assert analyse(question).answer_type == answer_type


def test_counted_noun_topic_and_names(tagger):
    question = "How many police officers does Italy send to KFOR?"
    analysis = analyse(question, tagger.tag([question])[0])
    assert analysis.counted == "officers"
    assert "itali" not in analysis.topic and "kfor" not in analysis.topic and "send" in analysis.topic
    assert {"itali", "kfor"} <= analysis.names
    assert analyse("How much does it cost?", tagger.tag(["How much does it cost?"])[0]).counted == ""


def spans(finder, tagger, question: str, sentence: str) -> list[str]:
    analysis = analyse(question, tagger.tag([question])[0])
    return [sentence[s.start : s.end] for s in finder.answers(analysis, sentence, tagger.tag([sentence])[0].spans)]


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many soldiers serve in KFOR?", "Around 4,600 troops serve in KFOR today.", ["Around 4,600"]),
        ("How many soldiers serve in KFOR?", "KFOR has been increased by 1,000 soldiers.", []),  # a change
        ("How many soldiers serve in KFOR?", "KFOR received another 500 soldiers.", []),  # a change
        ("How many men attacked the post?", "The post was attacked by 40 armed men.", ["40"]),  # a count
        ("How many days later was the attack?", "Ten days after that meeting, an attack took place.", ["Ten days"]),
        ("How many days did the campaign last?", "The 78-day campaign ended in 1999.", ["78-day"]),
        ("How many soldiers serve in KFOR?", "KFOR has 200 vehicles in Kosovo.", []),  # counts something else
        ("When did the attack happen?", "The attack happened on 24 September 2023.", ["24 September 2023"]),
        ("When did the attack happen?", "The attack happened in Banjska.", []),
        ("In what year was KFOR deployed?", "KFOR was deployed in February.", []),  # a date, not a year
        ("Who leads the mission?", "The mission is led by Peter Sorensen.", ["Peter Sorensen"]),
        ("Who met Peter Sorensen?", "Peter Sorensen met nobody.", []),  # the question's own name
        ("How old is Catherine Ashton?", "Catherine Ashton served from 2009 to 2014.", []),
    ],
)
def test_the_spans_that_answer_what_is_asked(finder, tagger, question, sentence, expected):
    assert spans(finder, tagger, question, sentence) == expected


def test_the_size_of_a_force_is_counted_in_its_members(finder, tagger):
    question = "How large is the peacekeeping force in Kosovo?"
    analysis = analyse(question, tagger.tag([question])[0])
    assert (analysis.answer_type, analysis.counted) == ("number", "force")
    sentence = "KFOR has about 4,700 troops from 29 countries."
    assert finder.count_values(analysis.counted, sentence, tagger.tag([sentence])[0].spans) == {"4700"}


def test_differing_counts_are_read_as_figures(finder, tagger):
    sentence = "KFOR had 50,000 troops, and today around 4,600 soldiers."
    assert finder.count_values("soldiers", sentence, tagger.tag([sentence])[0].spans) == {"50000", "4600"}


def test_the_word_vector_cache_is_bounded(embedder):
    similarity = WordSimilarity(embedder, max_words=3)
    assert similarity("soldiers", "troops") > similarity("troops", "vehicles")
    for word in ("alpha", "beta", "gamma", "delta"):
        similarity("troops", word)
        assert len(similarity._vectors) <= 3
    assert similarity("soldiers", "troops") == pytest.approx(similarity("troops", "soldiers"))


@pytest.mark.parametrize(
    ("sentence", "amount"),
    [
        ("The railway is expected to cost 520 million euros, according to a study.", "520 million euros"),
        ("A coffee costs 2 € in Pristina.", "2 €"),
        ("The fund holds 3 million dollars.", "3 million dollars"),
    ],
)
def test_a_number_followed_by_a_currency_is_an_amount_of_money(tagger, sentence, amount):
    spans = tagger.tag([sentence])[0].spans
    assert [(s.type, sentence[s.start : s.end]) for s in spans if s.type in ("money", "number")] == [("money", amount)]
