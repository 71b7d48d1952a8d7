"""What a question asks for: its answer type, the noun it counts, its topic words.

Used by follow-up resolution (which answer a pronoun points to) and by sentence scoring (does a sentence
hold something of the type asked for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from askbalkans.lexicon import (
    ANSWER_TYPE_CUES,
    BARE_CUE,
    CLAUSE_OPENERS,
    COUNTED_NOUN,
    DATE_WORDS,
    MONTHS,
    NUMBER_WORDS,
    ORDINAL_DAY,
    YEAR,
)
from askbalkans.text import fold, inner_name_words, terms, words

ANSWER_TYPES = ("number", "date", "person", "place", "name", "other")
# A number counts the noun that follows it within this many words ("4,636 troops", "29 NATO member states").
FIGURE_WINDOW = 3

_CUE = re.compile("|".join(f"(?P<{kind}>\\b(?:{pattern})\\b)" for kind, pattern in ANSWER_TYPE_CUES))


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks for, worked out once per question."""

    answer_type: str  # one of ANSWER_TYPES: an organisation, a country... is a "name"
    words: frozenset[str]  # the question's own words: what it states is not an answer
    counted: frozenset[str]  # the stemmed noun of "how many troops ..."
    # Stemmed terms of the question's own words, names aside ("commander" in "Who is the commander of
    # KFOR?"): a sentence that lacks them is likely about the names, not the question.
    topic: frozenset[str]


def _opens_question(folded: str, cue: re.Match) -> bool:
    if not BARE_CUE.fullmatch(cue.group()):
        return True  # "how many", "which city" always ask
    before = folded[: cue.start()].rstrip()
    return not before or not before[-1].isalnum() or before.split()[-1] in CLAUSE_OPENERS


def analyse(question: str) -> QuestionAnalysis:
    folded = fold(question)
    cue = next((cue for cue in _CUE.finditer(folded) if _opens_question(folded, cue)), None)
    counted = COUNTED_NOUN.search(folded)
    tokens = question.split()
    return QuestionAnalysis(
        answer_type=cue.lastgroup or "other" if cue else "other",
        words=frozenset(words(question)),
        counted=frozenset(terms(counted.group(1))) if counted else frozenset(),
        topic=frozenset(terms(" ".join(t for i, t in enumerate(tokens) if i == 0 or not t[:1].isupper()))),
    )


def offers(question: QuestionAnalysis, sentence: str) -> bool:
    """Whether `sentence` holds something of the type asked for that the question does not state."""
    if question.answer_type == "other":
        return True
    if question.answer_type == "number" and question.counted:
        return bool(counts_of(sentence, question.counted))
    new_words = [word for word in words(sentence) if word not in question.words]
    if question.answer_type == "number":
        return any(word[0].isdigit() or word in NUMBER_WORDS for word in new_words)
    if question.answer_type == "date":
        return any(
            (word.isdigit() and len(word) == 4) or word in DATE_WORDS or ORDINAL_DAY.fullmatch(word)
            for word in new_words
        )
    names = inner_name_words(sentence)
    if question.answer_type == "person":  # an acronym (NATO, KFOR) names an organisation, not a person
        names = [name for name in names if not name.isupper()]
    return bool({word for name in names for word in words(name)} - question.words - MONTHS)


def counts_of(sentence: str, nouns: frozenset[str]) -> frozenset[str]:
    """Numbers in `sentence` followed within a few words by one of `nouns` ("4,636 troops"); years excluded."""
    tokens = words(sentence)
    found = set()
    for position, token in enumerate(tokens):
        is_number = (token[0].isdigit() and not YEAR.fullmatch(token)) or token in NUMBER_WORDS
        following = tokens[position + 1 : position + 1 + FIGURE_WINDOW]
        if is_number and any(set(terms(word)) & nouns for word in following):
            found.add(token)
    return frozenset(found)
