"""Plain text and Markdown: the file's UTF-8 text, unchanged (its metadata is read from its own lines)."""

from __future__ import annotations

from askbalkans.extractors.base import ExtractedText, ExtractionError


class PlainTextExtractor:
    suffixes: tuple[str, ...] = (".txt", ".md")
    binary: bool = False

    def extract(self, data: bytes) -> ExtractedText:
        return ExtractedText(decode_utf8(data))


def decode_utf8(data: bytes) -> str:
    if b"\0" in data:
        raise ExtractionError("binary, not text (it holds NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExtractionError(f"not valid UTF-8 ({error.reason} at byte {error.start})") from None
