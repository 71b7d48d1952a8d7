import pytest

from askbalkans.conversation import names_in, resolve_follow_up

SORENSEN_ANSWER = (
    "NATO Deputy Secretary General Radmila Shekerinska has stressed the importance of continued cooperation "
    "between NATO and the EU. [1] She made this statement in a post on X, following a meeting with Peter "
    "Sorensen, the European Union's special representative for the Kosovo-Serbia dialogue. [2]"
)


def exchange(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_names_drop_leading_titles_and_pronouns():
    assert [n for _, n in names_in("NATO Secretary General Mark Rutte visited Pristina. She left.")] == [
        "Mark Rutte",
        "Pristina",
    ]


def test_a_pronoun_points_to_the_person_the_previous_answer_named():
    history = exchange("Who is the EU special representative for the dialogue?", SORENSEN_ANSWER)
    assert resolve_follow_up("When did he visit Pristina?", history) == "When did Peter Sorensen visit Pristina?"
    assert resolve_follow_up("What is his priority?", history) == "What is Peter Sorensen’s priority?"


def test_a_chain_of_follow_ups_keeps_its_subject():
    history = exchange("Who is the EU special representative for the dialogue?", SORENSEN_ANSWER)
    history += exchange("When did he visit Pristina?", "About a week later, Peter Sorensen visited Pristina. [1]")
    assert resolve_follow_up("Where else did he go?", history) == "Where else did Peter Sorensen go?"


def test_the_reply_may_be_the_rendered_html_of_the_chat_page():
    html_reply = (
        f'<div class="askb-answer"><p>{SORENSEN_ANSWER}</p><div><b>Sources</b><ol><li>Mark Rutte</li></ol></div></div>'
    )
    history = exchange("Who is the EU special representative for the dialogue?", html_reply)
    assert resolve_follow_up("Where did he go?", history) == "Where did Peter Sorensen go?"


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
    assert resolve_follow_up(question, exchange(previous, answer)) == expected


def test_a_question_that_stands_alone_is_left_alone():
    history = exchange("Who is the EU special representative for the dialogue?", SORENSEN_ANSWER)
    assert resolve_follow_up("How many troops serve in KFOR?", history) == "How many troops serve in KFOR?"
    assert resolve_follow_up("When did he visit Pristina?", []) == "When did he visit Pristina?"
