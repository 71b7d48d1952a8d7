"""Extractors: the text and metadata of an article file, one module per file format.

Every format is read behind one interface, `Extractor`: the file's bytes in, an `ExtractedText` out (its
text, paragraphs separated by blank lines, and whatever metadata the format states), or an
`ExtractionError` whose message says why the file cannot be used. Citations point into
`ExtractedText.text`, which the index keeps: for plain text it is the file's own text, unchanged.

The extraction libraries (trafilatura, pypdf, python-docx) are imported when a file of their format is
first read, not at start-up.
"""

from __future__ import annotations

from askbalkans.extractors.base import ExtractedText, ExtractionError, Extractor
from askbalkans.extractors.html import HtmlExtractor
from askbalkans.extractors.pdf import PdfExtractor
from askbalkans.extractors.plain import PlainTextExtractor
from askbalkans.extractors.word import WordExtractor

__all__ = ["EXTRACTORS", "SUPPORTED_SUFFIXES", "ExtractedText", "ExtractionError", "Extractor", "extractor_for"]

EXTRACTORS: dict[str, Extractor] = {
    suffix: extractor
    for extractor in (PlainTextExtractor(), HtmlExtractor(), PdfExtractor(), WordExtractor())
    for suffix in extractor.suffixes
}
SUPPORTED_SUFFIXES = tuple(EXTRACTORS)


def extractor_for(suffix: str) -> Extractor | None:
    """The extractor of files ending in `suffix` (".pdf", any case); None for a format not read."""
    return EXTRACTORS.get(suffix.lower())
