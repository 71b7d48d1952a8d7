"""Follow-up questions: rewrite "When did he visit Pristina?" into a question that stands on its own.

The conversation is read from structured turns: the `Answer`s the assistant gave (what the chat page
keeps per session), or chat messages whose content is text (`{"role": "user", "content": "..."}`, or
content as a list of `{"type": "text", "text": ...}` blocks, as Gradio sends it). Rendered HTML is
never parsed. A pronoun in the new question is replaced by the name it most likely points to: the answer
of the previous turn when that turn asked for a person or place ("Who is the EU envoy?" -> the name
quoted in the answer), else the name the previous question was about.

Only the last `max_turns` turns are read, each cut to `max_chars`, so a follow-up costs the same
whatever came before it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from askbalkans.answer import Answer
from askbalkans.lexicon import (
    ELLIPTIC_START,
    PERSON_PRONOUN,
    PLACE_BEFORE,
    PLACE_PRONOUN,
    POSSESSIVE_PRONOUNS,
    THING_PRONOUN,
)
from askbalkans.question import analyse
from askbalkans.text import fold, looks_like_a_person, names_in

MAX_TURNS = 6
MAX_TURN_CHARS = 2_000
# A place name is recognised by a preposition just before it ("in Brussels"): how far back to look.
_PLACE_LOOKBEHIND = 24


class Message(TypedDict):
    role: str  # "user" or "assistant"
    content: Any  # text, or a list of content blocks {"type": "text", "text": ...}


@dataclass(frozen=True)
class Turn:
    question: str  # as the user asked it
    answer: str  # the text the assistant quoted, without markers; "" if it gave none


# Each pronoun, what it refers to, and the answer types of a previous question whose answer it points to
# ("Who is X?" then "he" -> X).
_PRONOUNS = (
    (PERSON_PRONOUN, "person", {"person", "name", "other"}),
    (PLACE_PRONOUN, "place", {"place"}),
    (THING_PRONOUN, "thing", {"name", "other"}),
)
_MARKER = re.compile(r"\[\d+\]")


def turns_of(history: Sequence[Answer | Mapping[str, Any]], max_turns: int = MAX_TURNS) -> list[Turn]:
    """The last `max_turns` turns of `history`: `Answer`s, or chat messages with text content."""
    if isinstance(history, str | bytes | Mapping) or not isinstance(history, Sequence):
        raise TypeError(f"history must be a list of Answers or chat messages, got {type(history).__name__}")
    turns: list[Turn] = []
    for position, item in enumerate(history):
        if isinstance(item, Answer):
            turns.append(Turn(item.question, " ".join(quote.text for quote in item.quotes)))
        elif isinstance(item, Mapping) and item.get("role") in ("user", "assistant"):
            text = _text_of(item.get("content"), position)
            if item["role"] == "user":
                turns.append(Turn(text, ""))
            elif turns and not turns[-1].answer:
                turns[-1] = Turn(turns[-1].question, _MARKER.sub(" ", text))
        else:
            raise TypeError(
                f"history[{position}] must be an Answer or a message {{'role': 'user' or 'assistant', "
                f"'content': ...}}, got {type(item).__name__}"
            )
    return [
        Turn(" ".join(t.question[-MAX_TURN_CHARS:].split()), " ".join(t.answer[:MAX_TURN_CHARS].split()))
        for t in turns[-max_turns:]
    ]


def _text_of(content: Any, position: int) -> str:
    """The text of a message's content: a string, a text block, or a list of blocks (others are skipped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    if isinstance(content, Sequence):
        return " ".join(_text_of(block, position) for block in content if not isinstance(block, bytes))
    raise TypeError(f"history[{position}]['content'] must be text or a list of text blocks")


def resolve_follow_up(question: str, turns: Sequence[Turn]) -> str:
    """`question` rewritten to stand alone. Earlier questions are resolved first, in order, so that a chain
    of follow-ups ("Who is ...?", "When did he ...?", "Where else did he go?") keeps its subject."""
    previous: Turn | None = None
    for turn in turns:
        resolved = _resolve(turn.question, previous)
        previous = Turn(resolved, turn.answer)
    return _resolve(question, previous)


def _resolve(question: str, previous: Turn | None) -> str:
    if previous is None or not previous.question:
        return question
    elliptic = ELLIPTIC_START.match(question)
    if elliptic:  # "And Serbia?": the previous question, about something else
        return f"{previous.question} {question[elliptic.end() :]}"
    previous_type = analyse(previous.question).answer_type
    for pattern, referent, answering_types in _PRONOUNS:
        pronoun = pattern.search(question)
        if not pronoun:
            continue
        entity = None
        if previous_type in answering_types:
            entity = _answer_entity(previous, referent)
        entity = entity or _question_entity(previous.question, referent) or _answer_entity(previous, referent)
        if entity:
            return question[: pronoun.start()] + _substitute(pronoun.group(), entity) + question[pronoun.end() :]
    return question


def _prefer(candidates: list[tuple[int, str]], referent: str, text: str) -> list[tuple[int, str]]:
    """The candidates that look like a person ("Peter Sorensen") or a place ("in Brussels"), if any do."""
    if referent == "person":
        preferred = [c for c in candidates if looks_like_a_person(c[1])]
    elif referent == "place":
        preferred = [c for c in candidates if PLACE_BEFORE.search(text[max(0, c[0] - _PLACE_LOOKBEHIND) : c[0]])]
    else:
        preferred = []
    return preferred or candidates


def _answer_entity(previous: Turn, referent: str) -> str | None:
    """The name the previous answer gives: one not in the question, nearest the question's words."""
    asked = set(fold(previous.question).replace("?", " ").split())
    fresh = [(p, n) for p, n in names_in(previous.answer) if not set(fold(n).split()) & asked]
    candidates = _prefer(fresh, referent, previous.answer)
    if not candidates:
        return None
    answer = fold(previous.answer)
    anchors = [m.start() for w in asked if len(w) >= 4 for m in re.finditer(re.escape(w), answer)]
    if not anchors:
        return candidates[0][1]
    return min(candidates, key=lambda c: min(abs(c[0] - a) for a in anchors))[1]


def _question_entity(question: str, referent: str) -> str | None:
    names = _prefer(names_in(question), referent, question)
    return max(names, key=lambda n: len(n[1]))[1] if names else None


def _substitute(pronoun: str, entity: str) -> str:
    pronoun = pronoun.lower()
    if pronoun in POSSESSIVE_PRONOUNS:
        return f"{entity}’s"
    return f"in {entity}" if pronoun == "there" else entity
