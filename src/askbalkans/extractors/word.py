"""Word documents (.docx), by python-docx (MIT): paragraphs and table rows, and the document's core
properties (title, author, creation date)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from askbalkans.extractors.base import ExtractedText, ExtractionError, iso_date, paragraphs_text

# The author and creation time of python-docx's blank template: a document made from it that never set them.
_TEMPLATE_PROPERTIES = ("python-docx", datetime(2013, 12, 23, 23, 15, tzinfo=UTC))


class WordExtractor:
    suffixes: tuple[str, ...] = (".docx",)
    binary: bool = True

    def extract(self, data: bytes) -> ExtractedText:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = docx.Document(io.BytesIO(data))
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
            raise ExtractionError(f"not a readable Word document ({error})") from None
        paragraphs = [paragraph.text for paragraph in document.paragraphs]
        for table in document.tables:
            paragraphs += [" | ".join(cell.text for cell in row.cells) for row in table.rows]
        text = paragraphs_text(paragraphs)
        if not text:
            raise ExtractionError("a Word document with no text")
        properties = document.core_properties
        if (properties.author, properties.created) == _TEMPLATE_PROPERTIES:  # never set: python-docx's own
            return ExtractedText(text, title=properties.title or "")
        return ExtractedText(
            text, title=properties.title or "", author=properties.author or "", date=iso_date(properties.created)
        )
