"""Follow-up questions: rewrite "When did he visit Pristina?" into a question that stands on its own.

The conversation comes in Gradio's messages format. A pronoun in the new question is replaced by the name
it most likely points to: the answer of the previous turn when that turn asked for a person or place
("Who is the EU envoy?" -> the name quoted in the answer), else the name the previous question was about.
"""

from __future__ import annotations

import html
import re
from typing import TypedDict

from askbalkans.composer import question_focus
from askbalkans.text import fold


class Message(TypedDict):
    role: str  # "user" or "assistant"
    content: str


_PERSON_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers|they|them|their)\b", re.IGNORECASE)
_THING_PRONOUN = re.compile(r"\b(it|its)\b", re.IGNORECASE)
_PLACE_PRONOUN = re.compile(r"\bthere\b(?!\s+(is|are|was|were|has|have|had)\b)", re.IGNORECASE)
# Each pronoun, what it refers to, and the kinds of previous question whose answer it points to ("Who is
# X?" then "he" -> X).
_PRONOUNS = (
    (_PERSON_PRONOUN, "person", {"person", "name", "other"}),
    (_PLACE_PRONOUN, "place", {"place"}),
    (_THING_PRONOUN, "thing", {"name", "other"}),
)
_ELLIPTIC = re.compile(r"^(and|what about|how about)\b\s*", re.IGNORECASE)

# A name: a run of capitalised words, allowing "of", "and", "for" and "the" inside ("Bosnia and Herzegovina").
_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:(?:of|and|for|the|de|von|van)\s+)?[A-Z][\w’'-]*)*")
# Words that head a run of capitalised words without being part of a name ("NATO Secretary General
# Mark Rutte", "She").
_NOT_NAMES = set(
    """the a an nato eu un us u.s. european union secretary general deputy president prime minister foreign
    ambassador baroness special representative envoy chief mayor director executive former new then high
    mr mrs ms dr sir lord lady king queen according during in on at after before since while when what
    who which where how why did does do is was were he she it they his her its their this that these those
    there we i you""".split()
)
_TAG = re.compile(r"<[^>]+>")
_MARKER = re.compile(r"\[\d+\]")


def _plain(content) -> str:
    """Text of a message's content: HTML tags, citation markers and the sources list removed."""
    text = content if isinstance(content, str) else str(content.get("text", "")) if isinstance(content, dict) else ""
    text = text.split("Sources")[0]
    return " ".join(html.unescape(_MARKER.sub(" ", _TAG.sub(" ", text))).split())


def names_in(text: str) -> list[tuple[int, str]]:
    """(position, name) for the names in `text`, leading titles stripped ("Mark Rutte", "KFOR")."""
    found = []
    for match in _NAME.finditer(text):
        tokens = list(re.finditer(r"\S+", match.group()))
        while tokens and fold(tokens[0].group()) in _NOT_NAMES:
            tokens.pop(0)
        if tokens:
            name = re.sub(r"[’']s$", "", match.group()[tokens[0].start() :])
            found.append((match.start() + tokens[0].start(), name))
    return found


def _looks_like_a_person(name: str) -> bool:
    """Two or more capitalised words ("Peter Sorensen"), not an acronym or a compound ("Kosovo-Serbia")."""
    tokens = name.split()
    return len(tokens) >= 2 and all(t[0].isupper() and t[1:].isalpha() and t[1:].islower() for t in tokens)


_PLACE_BEFORE = re.compile(r"\b(in|at|to|from|near|into)\s+(the\s+)?$", re.IGNORECASE)


def _prefer(candidates: list[tuple[int, str]], kind: str, text: str) -> list[tuple[int, str]]:
    """The candidates that look like a person ("Peter Sorensen") or a place ("in Brussels"), if any do."""
    if kind == "person":
        preferred = [c for c in candidates if _looks_like_a_person(c[1])]
    elif kind == "place":
        preferred = [c for c in candidates if _PLACE_BEFORE.search(text[: c[0]])]
    else:
        preferred = []
    return preferred or candidates


def _answer_entity(previous_question: str, previous_answer: str, kind: str) -> str | None:
    """The name the previous answer gives: one not in the question, nearest the question's words."""
    asked = set(fold(previous_question).replace("?", " ").split())
    fresh = [(p, n) for p, n in names_in(previous_answer) if not set(fold(n).split()) & asked]
    candidates = _prefer(fresh, kind, previous_answer)
    if not candidates:
        return None
    answer = fold(previous_answer)
    anchors = [m.start() for w in asked if len(w) >= 4 for m in re.finditer(re.escape(w), answer)]
    if not anchors:
        return candidates[0][1]
    return min(candidates, key=lambda c: min(abs(c[0] - a) for a in anchors))[1]


def _question_entity(question: str, kind: str) -> str | None:
    names = _prefer(names_in(question), kind, question)
    return max(names, key=lambda n: len(n[1]))[1] if names else None


def resolve_follow_up(question: str, history: list[Message]) -> str:
    """`question` rewritten to stand alone. Earlier questions of `history` are resolved first, in order, so
    that a chain of follow-ups ("Who is ...?", "When did he ...?", "Where else did he go?") keeps its subject."""
    previous_question, previous_answer = None, ""
    for message in history:
        content = _plain(message.get("content"))
        if message.get("role") == "user":
            previous_question = _resolve(content, previous_question, previous_answer)
            previous_answer = ""
        elif message.get("role") == "assistant":
            previous_answer = content
    return _resolve(question, previous_question, previous_answer)


def _resolve(question: str, previous_question: str | None, previous_answer: str) -> str:
    if not previous_question:
        return question
    elliptic = _ELLIPTIC.match(question)
    if elliptic:  # "And Serbia?": the previous question, about something else
        return f"{previous_question} {question[elliptic.end() :]}"
    previous_kind = question_focus(previous_question).kind
    for pattern, referent, answering_kinds in _PRONOUNS:
        pronoun = pattern.search(question)
        if not pronoun:
            continue
        entity = None
        if previous_kind in answering_kinds:
            entity = _answer_entity(previous_question, previous_answer, referent)
        entity = (
            entity
            or _question_entity(previous_question, referent)
            or _answer_entity(previous_question, previous_answer, referent)
        )
        if entity:
            return question[: pronoun.start()] + _substitute(pronoun.group(), entity) + question[pronoun.end() :]
    return question


def _substitute(pronoun: str, entity: str) -> str:
    pronoun = pronoun.lower()
    if pronoun in ("his", "its", "their", "hers"):
        return f"{entity}’s"
    return f"in {entity}" if pronoun == "there" else entity
