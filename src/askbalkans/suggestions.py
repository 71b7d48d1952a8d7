"""Suggested follow-up questions: two or three, built from what the cited passages name, no language model.

The seeds are the typed spans (people, places, other names, dates) of the sentences in the passages an
answer cites (then of the rest of the cited articles, nearest first) that the conversation has not
mentioned yet; each becomes a question of its type ("Who is X?", "What happened in Y?"). A suggestion is
only offered once the assistant has answered it: each candidate is asked, within a small time budget, and
kept if the answer names the seed in a sentence neither the answer nor another suggestion's answer quotes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from askbalkans.answer import Answer
from askbalkans.chunker import Sentence
from askbalkans.stores import Index, chunk_id
from askbalkans.text import fold, looks_like_a_person

if TYPE_CHECKING:
    from askbalkans.assistant import Assistant

# The question made of a seed of each type, in the order the types are offered.
TEMPLATES = {
    "person": "Who is {}?",
    "name": "What is {}?",
    "place": "What happened in {}?",
    "date": "What happened {}?",
}
# Candidates asked at most, whatever the time budget says (each costs one question's time).
MAX_CANDIDATES = 8
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_DAY = re.compile(r"\b\d{1,2}\b(?!\d)")
_POSSESSIVE = re.compile(r"['’]s$")
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")


@dataclass(frozen=True)
class Seed:
    kind: str  # "person", "name", "place" or "date"
    text: str  # as the article writes it

    @property
    def question(self) -> str:
        if self.kind == "date":  # "on 12 May 2024", "in 2023", "in May 2024"
            return TEMPLATES["date"].format(f"{'on' if _DAY.search(self.text) else 'in'} {self.text}")
        return TEMPLATES[self.kind].format(self.text)


def cited_sentences(index: Index, answer: Answer) -> list[Sentence]:
    """The sentences of the articles `answer` cites: those of the cited passages first, then the others by
    their distance from a quoted sentence."""
    ranked: list[tuple[int, int, Sentence]] = []
    for order, doc_id in enumerate(dict.fromkeys(c.doc_id for c in answer.citations)):
        record = index.articles.get(doc_id)
        if record is None:
            continue
        own = [c for c in answer.citations if c.doc_id == doc_id]
        stored = index.chunks.sentences([chunk_id(record.slot, n) for n in range(record.sentences)]).values()
        quoted = [s.number for s in stored if any(c.start == s.start for c in own)] or [0]
        for sentence in stored:
            in_passage = any(sentence.text in c.passage for c in own)
            distance = 0 if in_passage else min(abs(sentence.number - n) for n in quoted)
            ranked.append((distance, order, sentence))
    return [sentence for _, _, sentence in sorted(ranked, key=lambda r: (r[0], r[1], r[2].number))]


def seeds_of(sentences: Iterable[Sentence], mentioned: Iterable[str]) -> list[Seed]:
    """The people, names, places and dates the sentences hold and `mentioned` (the questions asked and
    the answer) does not, each once; alternating between types so that the first few differ in kind."""
    said = " ".join(fold(text) for text in mentioned)
    by_kind: dict[str, list[Seed]] = {kind: [] for kind in TEMPLATES}
    seen: set[str] = set()
    for sentence in sentences:
        for span in sentence.spans:
            if span.type not in by_kind:
                continue
            raw = _POSSESSIVE.sub("", sentence.text[span.start : span.end].strip(" .,;:'\"’”"))
            name = _LEADING_ARTICLE.sub("", raw)
            key = fold(name)
            if key in seen or not _worth_asking(span.type, name, key, said):
                continue
            seen.add(key)
            # "the Kosovo Police", "the United States": as the article writes them (not "the KFOR mission").
            the = name != raw or sentence.text[: span.start].lower().endswith("the ")
            the = the and span.type in ("name", "place") and " " in name
            by_kind[span.type].append(Seed(span.type, f"the {name}" if the else name))
    ordered = []
    for rank in range(max((len(seeds) for seeds in by_kind.values()), default=0)):
        ordered += [seeds[rank] for seeds in by_kind.values() if rank < len(seeds)]
    return ordered


def _worth_asking(kind: str, text: str, key: str, said: str) -> bool:
    """A seed with a fact to ask for that the conversation has not named; the tagger's slips are left out."""
    if len(key) < 3 or key in said:
        return False
    if kind == "date":  # a year to ask about, not "Tuesday", "last week" or "78-day"
        return bool(_YEAR.search(text))
    if not text[0].isupper():
        return False
    if kind == "person":  # "Peter Sorensen", not a place mistaken for a person; known by the surname alone
        return looks_like_a_person(text) and key.split()[-1] not in said.split()
    # One capitalised word that is no acronym is mostly an adjective ("Serbian", "American").
    return kind != "name" or " " in text or text.isupper()


def suggest(
    assistant: Assistant, answer: Answer, asked: Sequence[str], limit: int = 3, budget_s: float = 1.0
) -> list[str]:
    """Up to `limit` follow-up questions that the assistant answers with a sentence `answer` does not
    quote, tried in the order of `seeds_of` until `budget_s` seconds have passed."""
    if answer.abstained or limit <= 0:
        return []
    quoted = {quote.text for quote in answer.quotes}
    seeds = seeds_of(cited_sentences(assistant.index, answer), [*asked, answer.question, answer.text])
    deadline = time.monotonic() + budget_s
    kept: list[str] = []
    for seed in seeds[:MAX_CANDIDATES]:
        if len(kept) >= limit or time.monotonic() > deadline:
            break
        reply = assistant.ask(seed.question)
        lead = reply.lead.text if reply.lead is not None else ""
        if not reply.abstained and lead not in quoted and fold(seed.text.removeprefix("the ")) in fold(reply.text):
            kept.append(seed.question)
            quoted.add(lead)  # each suggestion leads to a sentence of its own
    return kept
