"""PDF files, by pypdf (BSD-3-Clause): the pages' text in reading order, with running headers, footers and
page numbers dropped, words hyphenated at line ends joined again, lines joined into paragraphs, and the
document's title, author and creation date.

pypdf over pdfplumber: on a two-column page pypdf reads column after column, while pdfplumber's
`extract_text` interleaves the lines of both columns (eval/README.md, "Article files").
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from statistics import quantiles

from askbalkans.extractors.base import ExtractedText, ExtractionError, iso_date, paragraphs_text

# Fewer characters than this on average per page: the pages are images (a scan) without a text layer.
MIN_CHARS_PER_PAGE = 40
_EDGE_LINES = 2  # lines at the top and at the bottom of a page where running headers and footers are
_RUNNING_LINE_WORDS = 12  # a running header or footer is short; a body line that repeats is not one
_PAGE_NUMBER = re.compile(r"^(page\s*)?[-–—(\[]?\s*\d+\s*([-–—)\]]|(of|/)\s*\d+)?\s*$", re.IGNORECASE)
_HYPHEN_AT_END = re.compile(r"(\w+)[-\u00ad\u2010]$")
_FIRST_WORD = re.compile(r"^\w+")
_WORD = re.compile(r"\w+(?:-\w+)*")
# A line shorter than this share of the page's usual line length ends its paragraph.
_SHORT_LINE = 0.75


class PdfExtractor:
    suffixes: tuple[str, ...] = (".pdf",)
    binary: bool = True

    def extract(self, data: bytes) -> ExtractedText:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        # pypdf logs each flaw it works around; a file it cannot read is reported once, as a skipped file.
        logging.getLogger("pypdf").setLevel(logging.ERROR)

        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ExtractionError("an encrypted PDF (a password is needed to read it)")
            pages = [page.extract_text() or "" for page in reader.pages]
            metadata = reader.metadata
        except (PyPdfError, ValueError, KeyError, TypeError) as error:
            raise ExtractionError(f"not a readable PDF ({error})") from None
        if sum(len(page.strip()) for page in pages) < MIN_CHARS_PER_PAGE * max(len(pages), 1):
            raise ExtractionError(
                "a PDF without a text layer (a scan?): run OCR on it first, for example with ocrmypdf"
            )
        title = (metadata.title or "").strip() if metadata else ""
        paragraphs = pdf_paragraphs(pages)
        if title and paragraphs and paragraphs[0].startswith(f"{title} "):  # a heading run into the first lines
            paragraphs[:1] = [title, paragraphs[0][len(title) :]]
        return ExtractedText(
            paragraphs_text(paragraphs),
            title=title,
            author=(metadata.author or "") if metadata else "",
            date=iso_date(metadata.creation_date) if metadata else "",
        )


def pdf_paragraphs(pages: list[str]) -> list[str]:
    """The paragraphs of a document whose pages' text is `pages` (lines as a PDF's text layer gives them)."""
    page_lines = [[line.strip() for line in page.splitlines() if line.strip()] for page in pages]
    running = _running_lines(page_lines)
    lines = [
        line
        for page in page_lines
        for number, line in enumerate(page)
        if not (_at_edge(number, len(page)) and (_PAGE_NUMBER.match(line) or _shape(line) in running))
    ]
    return join_lines(lines)


def _at_edge(number: int, count: int) -> bool:
    return number < _EDGE_LINES or number >= count - _EDGE_LINES


def _shape(line: str) -> str:
    """A line with its numbers blanked: "Page 3 of 9" and "Page 4 of 9" have one shape."""
    return re.sub(r"\d+", "#", line.lower())


def _running_lines(page_lines: list[list[str]]) -> set[str]:
    """Shapes of the lines at the top or bottom of at least half of the pages (and of two): headers and
    footers that run through the document."""
    if len(page_lines) < 2:
        return set()
    counts = Counter(
        shape
        for page in page_lines
        for shape in {
            _shape(line)
            for number, line in enumerate(page)
            if _at_edge(number, len(page)) and len(line.split()) <= _RUNNING_LINE_WORDS
        }
    )
    return {shape for shape, pages in counts.items() if pages >= max(2, len(page_lines) / 2)}


def join_lines(lines: list[str]) -> list[str]:
    """Paragraphs from hard-wrapped lines: a line ends its paragraph when it is short (the last line of a
    paragraph, a heading); a word broken at a line end is joined again (see `_joined`)."""
    if not lines:
        return []
    lengths = sorted(len(line) for line in lines)
    usual = quantiles(lengths, n=4)[2] if len(lengths) > 1 else lengths[0]
    words = {word.lower() for line in lines for word in _WORD.findall(line)}
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        current = _joined(current, line, words) if current else line
        if len(line) < _SHORT_LINE * usual and not _HYPHEN_AT_END.search(line):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _joined(text: str, line: str, words: set[str]) -> str:
    """`text` continued by the next `line`. A hyphen at the end of `text` before a word in lower case is a
    hyphenation ("recon-" "ciliation": dropped) unless the document spells the word with its hyphen
    elsewhere ("nineteen-nineties") or its first part is capitalised ("Serb-majority") and the document
    does not spell it whole."""
    hyphen, rest = _HYPHEN_AT_END.search(text), _FIRST_WORD.match(line)
    if not (hyphen and rest and line[0].islower()):
        return f"{text} {line}"
    whole = (hyphen.group(1) + rest.group()).lower()
    hyphenated = f"{hyphen.group(1)}-{rest.group()}".lower()
    keep = hyphenated in words or (hyphen.group(1)[0].isupper() and whole not in words)
    return text[: hyphen.end(1)] + ("-" if keep else "") + line
