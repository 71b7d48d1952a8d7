"""What every extractor gives and shares: `ExtractedText`, `ExtractionError`, and text helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


class ExtractionError(Exception):
    """The file holds no usable article text; the message says why (for the skipped-file report)."""


@dataclass(frozen=True)
class ExtractedText:
    text: str
    title: str = ""  # what the format states ("" where it does not: the text's own lines are read then)
    author: str = ""
    date: str = ""  # ISO 8601, YYYY-MM-DD
    outlet: str = ""
    url: str = ""


class Extractor(Protocol):
    suffixes: tuple[str, ...]  # lower case, with the dot
    binary: bool  # a container format (PDF, Word): its file may be larger than its text (max_document_bytes)

    def extract(self, data: bytes) -> ExtractedText: ...


def paragraphs_text(paragraphs: list[str]) -> str:
    """Paragraphs as one text, a blank line between them, so that no two are read as one."""
    return "\n\n".join(p for p in (" ".join(p.split()) for p in paragraphs) if p)


def iso_date(value: datetime | date | None) -> str:
    """The day of `value` as YYYY-MM-DD; "" for None."""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if value is not None else ""
