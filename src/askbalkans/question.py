"""What a question asks for, and which spans of a sentence supply it.

`analyse` reads a question: its answer type (a number, an amount of money, a date, a person...), the noun
it counts ("How many soldiers ..."), its topic words and the names it mentions. `AnswerFinder` then finds,
in a sentence, the typed spans (see `tagging`) that could answer it and that the question does not state
itself: a date for "when", a number followed by the counted noun, or a word that means the same
("4,600 troops" answers "How many soldiers"), for "how many".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from askbalkans.lexicon import (
    ANSWER_SPAN_TYPES,
    ANSWER_TYPE_CUES,
    BARE_CUE,
    CHANGE_BEFORE_NUMBER,
    CHANGE_VERBS,
    CLAUSE_OPENERS,
    FORCES,
    MEMBERS_OF_A_FORCE,
    NUMBER_WORDS,
    STOPWORDS,
    TIME_UNITS,
)
from askbalkans.tagging import Span, Tagged
from askbalkans.text import fold, looks_like_a_person, terms, words

ANSWER_TYPES = tuple(kind for kind, _ in ANSWER_TYPE_CUES) + ("other",)
# A number counts the noun that follows it within this many words ("4,636 troops", "29 NATO member states").
FIGURE_WINDOW = 3
# Two nouns this similar (embedding cosine) count the same thing: soldiers and troops (0.89), soldiers and
# personnel (0.59), but not troops and vehicles (0.47).
SAME_NOUN_SIMILARITY = 0.5
_NAME_TYPES = {"person", "place", "name"}

_CUE = re.compile("|".join(f"(?P<{kind}>\\b(?:{pattern})\\b)" for kind, pattern in ANSWER_TYPE_CUES))
_COUNTING = re.compile(r"\bhow (many|much)\b", re.IGNORECASE)
_SIZE = re.compile(r"\bhow (large|big|strong)\b", re.IGNORECASE)  # "How large is the force": its head noun
YEAR_IN = re.compile(r"\b(1[0-9]|20)\d\d\b")
AGE_IN = re.compile(r"\b(old|aged?)\b")


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks for, worked out once per question."""

    answer_type: str  # one of ANSWER_TYPES
    words: frozenset[str]  # the question's own words: what it states is not an answer
    counted: str  # the noun of "how many troops ..." as written, "" if none
    # Stemmed terms of the question's own words, names aside ("commander" in "Who is the commander of
    # KFOR?"): a sentence that lacks them is likely about the names, not the question.
    topic: frozenset[str]
    names: frozenset[str]  # stemmed terms of the names the question mentions ("kfor", "rutt")


def _opens_question(folded: str, cue: re.Match) -> bool:
    if not BARE_CUE.fullmatch(cue.group()):
        return True  # "how many", "which city" always ask
    before = folded[: cue.start()].rstrip()
    return not before or not before[-1].isalnum() or before.split()[-1] in CLAUSE_OPENERS


def analyse(question: str, tagged: Tagged | None = None) -> QuestionAnalysis:
    """The analysis of `question`; its tagging (see `tagging`) finds the counted noun and the names."""
    folded = fold(question)
    cue = next((cue for cue in _CUE.finditer(folded) if _opens_question(folded, cue)), None)
    answer_type = (cue.lastgroup or "other") if cue else "other"
    tokens = question.split()
    capitalised = " ".join(t for i, t in enumerate(tokens) if i > 0 and t[:1].isupper())
    named = " ".join(question[s.start : s.end] for s in tagged.spans if s.type in _NAME_TYPES) if tagged else ""
    return QuestionAnalysis(
        answer_type=answer_type,
        words=frozenset(words(question)),
        counted=_counted_noun(question, tagged) if answer_type == "number" else "",
        topic=frozenset(terms(" ".join(t for i, t in enumerate(tokens) if i == 0 or not t[:1].isupper()))),
        names=frozenset(terms(f"{capitalised} {named}")),
    )


def _counted_noun(question: str, tagged: Tagged | None) -> str:
    """The last noun of the run of nouns after "how many" ("How many police officers ..." -> "officers"),
    or of the first run of nouns after "how large" ("How large is the peacekeeping force" -> "force")."""
    counting = _COUNTING.search(question)
    cue = counting or _SIZE.search(question)
    if cue is None:
        return ""
    if not tagged:  # without tagging: the word after "how many", unless it is a question word
        word = question[cue.end() :].split()[:1] if counting else []
        return word[0].strip("?,.") if word and word[0].lower() not in STOPWORDS else ""
    run = []
    for token in (t for t in tagged.tokens if t.start >= cue.end()):
        if token.noun:
            run.append(token.text)
        elif run or (token.verb and counting):
            break
    return run[-1] if run else ""


class AnswerFinder:
    """The spans of a sentence that answer what a question asks for."""

    def __init__(self, similarity: Callable[[str, str], float]):
        self.similarity = similarity

    def answers(self, question: QuestionAnalysis, sentence: str, spans: Sequence[Span]) -> list[Span]:
        """Typed spans of `sentence` of the answer type asked for, not stated in the question, in order:
        for "how many X", only numbers that count X; for "what year", only dates with a year."""
        if question.answer_type == "other":
            return []
        accepted = ANSWER_SPAN_TYPES[question.answer_type]
        if question.counted and fold(question.counted) in TIME_UNITS:
            accepted = accepted | {"date"}
        found = []
        for span in spans:
            text = sentence[span.start : span.end]
            if _stated(question, text):
                continue
            if span.type in accepted or (
                question.answer_type == "person" and span.type == "place" and looks_like_a_person(text)
            ):
                found.append(span)
        if question.answer_type == "year":
            found = [s for s in found if YEAR_IN.search(sentence[s.start : s.end])]
        elif question.answer_type == "age":  # "67" or "67 years old", not "2009"
            found = [s for s in found if s.type == "number" or AGE_IN.search(sentence[s.start : s.end])]
        if question.counted:
            found = [s for s in found if self.counts(question.counted, sentence, s)]
        return found

    def counts(self, noun: str, sentence: str, span: Span) -> bool:
        """Whether the number `span` counts `noun` (or a noun that means the same), rather than a change
        of it ("increased by 1,000 soldiers")."""
        before = [fold(w) for w in sentence[: span.start].split()[-2:]]
        if before[-1:] and before[-1] in CHANGE_BEFORE_NUMBER:
            return False
        if len(before) == 2 and before[1] == "by" and before[0] in CHANGE_VERBS:
            return False
        inside = re.findall(r"[^\W\d_]+", sentence[span.start : span.end])  # "Ten days", "78-day"
        following = inside + re.findall(r"[^\W\d_]+", sentence[span.end :])[:FIGURE_WINDOW]
        # A force is counted in the people who serve in it: "a force of 4,600 troops".
        nouns = [noun, *MEMBERS_OF_A_FORCE] if fold(noun) in FORCES else [noun]
        return any(self.similarity(n, word) >= SAME_NOUN_SIMILARITY for n in nouns for word in following)

    def count_values(self, noun: str, sentence: str, spans: Sequence[Span]) -> frozenset[str]:
        """The figures of `sentence` that count `noun`, as digits ("4636") or number words."""
        values = set()
        for span in spans:
            if span.type == "number" and self.counts(noun, sentence, span):
                figure = [w for w in words(sentence[span.start : span.end]) if w[0].isdigit() or w in NUMBER_WORDS]
                values.update(figure[-1:])
        return frozenset(values)


def _stated(question: QuestionAnalysis, text: str) -> bool:
    """Whether the question itself states `text` (all its content words)."""
    own = [w for w in words(text) if w not in STOPWORDS]
    return bool(own) and all(w in question.words for w in own)
