from itertools import pairwise

import pytest

from askbalkans.chunker import TokenBudget, chunk_article, count_tokens, split_long, split_sentences
from askbalkans.corpus import load_corpus, make_article
from conftest import SEEDS

MODEL_TOKENS = 128


def model_tokens(text: str) -> int:
    """A stand-in for the model's tokenizer: characters / 4, plus the two special tokens."""
    return len(text) // 4 + 2


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, 0, len(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The group met in Pristina, Kosovo, Sept. 19-22. The event focused on trust.",
            ["The group met in Pristina, Kosovo, Sept. 19-22.", "The event focused on trust."],
        ),
        (
            "Both EU and U.S. diplomatic efforts struggled. Talks stalled.",
            ["Both EU and U.S. diplomatic efforts struggled.", "Talks stalled."],
        ),
        ("Aid came from the U.S. The EU added more.", ["Aid came from the U.S.", "The EU added more."]),
        (
            "Approximately 4,636 troops from 33 countries serve. KFOR had 50,000 troops.",
            ["Approximately 4,636 troops from 33 countries serve.", "KFOR had 50,000 troops."],
        ),
        (
            "“To advance this dialogue, both parties must compromise,” Rutte stated. “Normalization helps.” He left.",
            [
                "“To advance this dialogue, both parties must compromise,” Rutte stated.",
                "“Normalization helps.”",
                "He left.",
            ],
        ),
        (
            "She promoted her book, “And Then What? Within the Stories of Diplomacy.” It sold well.",
            ["She promoted her book, “And Then What? Within the Stories of Diplomacy.”", "It sold well."],
        ),
        (
            "Dr. Smith met Gen. Jones at No. 10 Downing St. yesterday.",
            ["Dr. Smith met Gen. Jones at No. 10 Downing St. yesterday."],
        ),
        (
            "Kosovo – Serbia dialogue resumes in 2025 – officials say",
            ["Kosovo – Serbia dialogue resumes in 2025 – officials say"],
        ),
        ("Is it over? No! It goes on…", ["Is it over?", "No!", "It goes on…"]),
    ],
)
def test_sentence_splitting_handles_real_text(text, expected):
    assert sentences_of(text) == expected


def budget_for(tokens=60, overlap=15) -> TokenBudget:
    return TokenBudget(tokens, overlap, MODEL_TOKENS, model_tokens)


def test_headlines_without_a_period_are_sentences_of_their_own():
    article = make_article("doc", "A Path Forward: Building Trust\nThe second day was held in North Mitrovica.\n")
    chunks = chunk_article(article, budget_for())
    assert [s.text for s in chunks.sentences] == [
        "A Path Forward: Building Trust",
        "The second day was held in North Mitrovica.",
    ]


def test_passages_pack_whole_sentences_within_both_budgets_with_overlap():
    budget = budget_for(tokens=80, overlap=30)
    overlapping = 0
    for article in load_corpus(SEEDS).articles:
        chunks = chunk_article(article, budget)
        assert [s.number for s in chunks.sentences] == list(range(len(chunks.sentences)))
        assert [p.number for p in chunks.passages] == list(range(len(chunks.passages)))
        for sentence in chunks.sentences:
            assert article.text[sentence.start : sentence.end] == sentence.text
            assert sentence.doc_id == article.doc_id
        for previous, passage in pairwise(chunks.passages):
            assert passage.first_sentence > previous.first_sentence  # always moves on
            overlapping += passage.first_sentence < previous.end_sentence
        for passage in chunks.passages:
            members = chunks.sentences[passage.first_sentence : passage.end_sentence]
            assert passage.text == " ".join(s.text for s in members)
            assert count_tokens(passage.text) <= budget.tokens or len(members) == 1
            assert model_tokens(passage.text) <= MODEL_TOKENS
        covered = {i for p in chunks.passages for i in range(p.first_sentence, p.end_sentence)}
        assert covered == set(range(len(chunks.sentences)))
    assert overlapping > 0


def test_an_overlong_sentence_is_split_not_truncated():
    clause = "the delegation from Pristina met the delegation from Belgrade in Brussels, "
    text = "Officials said that " + clause * 40 + "and nothing was agreed."
    budget = budget_for(tokens=50)
    pieces = split_long(text, 0, len(text), budget)
    assert len(pieces) > 1
    assert all(count_tokens(text[s:e]) <= 50 for s, e in pieces)
    assert "".join(text[s:e] for s, e in pieces).replace(" ", "") == text.replace(" ", "")
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(text[e - 1] == "," for s, e in pieces[:-1])  # cut after a clause


def test_a_sentence_longer_than_the_model_limit_is_split():
    text = " ".join(["Shekerinska-Sorensen-Lajčák-Vučić"] * 120) + "."
    budget = budget_for(tokens=100_000)  # only the model's own limit binds
    pieces = split_long(text, 0, len(text), budget)
    assert len(pieces) > 1
    assert all(model_tokens(text[s:e]) <= MODEL_TOKENS for s, e in pieces)
