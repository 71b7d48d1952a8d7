import pytest

from askbalkans.answer import Answer, Quote
from askbalkans.conversation import MAX_TURN_CHARS, MAX_TURNS, Turn, resolve_follow_up, turns_of

SORENSEN_ANSWER = (
    "NATO Deputy Secretary General Radmila Shekerinska has stressed the importance of continued cooperation "
    "between NATO and the EU. [1] She made this statement in a post on X, following a meeting with Peter "
    "Sorensen, the European Union's special representative for the Kosovo-Serbia dialogue. [2]"
)
ENVOY = "Who is the EU special representative for the dialogue?"


def exchange(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def resolve(question: str, history) -> str:
    return resolve_follow_up(question, turns_of(history))


def test_a_pronoun_points_to_the_person_the_previous_answer_named():
    history = exchange(ENVOY, SORENSEN_ANSWER)
    assert resolve("When did he visit Pristina?", history) == "When did Peter Sorensen visit Pristina?"
    assert resolve("What is his priority?", history) == "What is Peter Sorensen’s priority?"


def test_a_chain_of_follow_ups_keeps_its_subject():
    history = exchange(ENVOY, SORENSEN_ANSWER)
    history += exchange("When did he visit Pristina?", "About a week later, Peter Sorensen visited Pristina. [1]")
    assert resolve("Where else did he go?", history) == "Where else did Peter Sorensen go?"


def test_answers_given_are_read_from_their_quotes():
    answer = Answer(ENVOY, "rendered text [1]", (Quote("Peter Sorensen is the envoy.", (1,)),), (), 0.9, False)
    assert turns_of([answer]) == [Turn(ENVOY, "Peter Sorensen is the envoy.")]
    assert resolve("When did he visit Pristina?", [answer]) == "When did Peter Sorensen visit Pristina?"


def test_gradio_content_blocks_are_read_as_text():
    history = [
        {"role": "user", "content": [{"type": "text", "text": ENVOY}]},
        {"role": "assistant", "content": [{"type": "text", "text": SORENSEN_ANSWER}]},
    ]
    assert resolve("When did he visit Pristina?", history) == "When did Peter Sorensen visit Pristina?"


def test_an_answer_that_mentions_sources_keeps_its_text():
    history = exchange(ENVOY, "Sources say the envoy is Peter Sorensen. [1]")
    assert resolve("When did he visit Pristina?", history) == "When did Peter Sorensen visit Pristina?"


@pytest.mark.parametrize(
    ("previous", "answer", "question", "expected"),
    [
        (
            "Where did Kurti and Vučić meet in September 2023?",
            "On the 14th of that month, Albin Kurti and Aleksandar Vučić met in Brussels. [1]",
            "What happened there ten days later?",
            "What happened in Brussels ten days later?",
        ),
        (
            "When did Kosovo declare independence?",
            "Kosovo declared independence from Serbia unilaterally in 2008. [1]",
            "Who recognises it?",
            "Who recognises Kosovo?",
        ),
        (
            "When did Kosovo declare independence?",
            "Kosovo declared independence from Serbia unilaterally in 2008. [1]",
            "And Serbia?",
            "When did Kosovo declare independence? Serbia?",
        ),
    ],
)
def test_places_things_and_elliptic_questions(previous, answer, question, expected):
    assert resolve(question, exchange(previous, answer)) == expected


def test_a_question_that_stands_alone_is_left_alone():
    history = exchange(ENVOY, SORENSEN_ANSWER)
    assert resolve("How many troops serve in KFOR?", history) == "How many troops serve in KFOR?"
    assert resolve("When did he visit Pristina?", []) == "When did he visit Pristina?"


def test_only_recent_turns_are_read_each_cut_short():
    history = exchange(ENVOY, SORENSEN_ANSWER) + exchange("How many troops?", "x " * 100_000) * (MAX_TURNS + 3)
    turns = turns_of(history)
    assert len(turns) == MAX_TURNS
    assert all(len(turn.answer) <= MAX_TURN_CHARS and len(turn.question) <= MAX_TURN_CHARS for turn in turns)


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ("x", "history must be a list"),
        (5, "history must be a list"),
        (["x"], r"history\[0\] must be an Answer or a message"),
        ([{"role": "user", "content": 5}], r"history\[0\]\['content'\] must be text"),
    ],
)
def test_history_of_the_wrong_shape_is_refused_naming_it(history, message):
    with pytest.raises(TypeError, match=message):
        turns_of(history)
