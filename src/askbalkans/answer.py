"""The answer the assistant gives: immutable, JSON-serialisable, every quoted sentence cited."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

NOT_FOUND = "Not found in the corpus: none of the articles answers this question."
SOURCES_DIFFER = "The sources differ:"


@dataclass(frozen=True)
class Citation:
    marker: int  # the [n] in the answer text
    doc_id: str
    title: str
    passage: str  # the passage the sentence was retrieved in
    start: int  # character span of the quoted sentence in the article
    end: int
    score: float  # relevance of the sentence to the question (sentence score, logit units)
    sentence: str  # the quoted sentence, == article text[start:end]
    byline: str = ""  # the article's author, outlet, dateline, date (YYYY-MM-DD) and URL, where it states them
    outlet: str = ""
    dateline: str = ""
    date: str = ""
    url: str = ""
    source: str = ""  # the article's file, by its name in the corpus folder


@dataclass(frozen=True)
class Quote:
    text: str  # verbatim sentence
    markers: tuple[int, ...]  # its citations: several when articles repeat the sentence
    context: bool = False  # quoted because the next sentence leans on it ("He also ...")
    answer_span: tuple[int, int] | None = None  # the name, number or date asked for: text[start:end]


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the quoted sentences, each followed by its citation markers
    quotes: tuple[Quote, ...]
    citations: tuple[Citation, ...]
    confidence: float  # 0..1: how likely the corpus answers the question with these sentences
    abstained: bool
    sources_differ: bool = False  # the top articles give different figures; each is quoted
    notices: tuple[str, ...] = ()  # about the question: cut, read as a follow-up

    @classmethod
    def abstention(cls, question: str, text: str, confidence: float = 0.0, notices: tuple[str, ...] = ()) -> Answer:
        """An answer that quotes nothing: `text` says why."""
        return cls(question, text, (), (), confidence, True, notices=notices)

    @property
    def lead(self) -> Quote | None:
        """The first quoted answer sentence (a sentence quoted only as context for it is not the lead)."""
        return next((quote for quote in self.quotes if not quote.context), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The answer `to_dict` gave (the chat page keeps a conversation in the browser this way)."""
        quotes = tuple(
            Quote(q["text"], tuple(q["markers"]), q["context"], tuple(q["answer_span"]) if q["answer_span"] else None)
            for q in data["quotes"]
        )
        citations = tuple(Citation(**c) for c in data["citations"])
        return cls(**{**data, "quotes": quotes, "citations": citations, "notices": tuple(data["notices"])})
