"""Web pages (.html, .htm), as saved from a browser: the article's main text and metadata, by trafilatura
(Apache-2.0), which leaves out menus, cookie banners, comments and related-article lists."""

from __future__ import annotations

import re

from askbalkans.extractors.base import ExtractedText, ExtractionError, paragraphs_text

# "<!-- saved from url=(0042)https://... -->": where a browser (or `askbalkans add`) saved the page from.
_SAVED_FROM = re.compile(rb"<!-- saved from url=\(\d+\)(https?://[^\s>]+) -->")
# Fewer words than this after boilerplate removal: a menu, login or index page, not an article.
MIN_ARTICLE_WORDS = 25


class HtmlExtractor:
    suffixes: tuple[str, ...] = (".html", ".htm")
    binary: bool = False

    def extract(self, data: bytes) -> ExtractedText:
        import trafilatura
        from trafilatura.settings import Document

        if b"\0" in data[:4096]:
            raise ExtractionError("binary, not a web page (it holds NUL bytes)")
        document = trafilatura.bare_extraction(
            data,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            # Only a date the page states as the article's: the extensive search takes a copyright year
            # or a date from the file's links for it.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
        text = paragraphs_text(document.text.splitlines()) if isinstance(document, Document) and document.text else ""
        words = len(text.split())
        if not isinstance(document, Document) or words < MIN_ARTICLE_WORDS:
            raise ExtractionError(
                f"no article text found ({words} words after removing menus and boilerplate; not an article page?)"
            )
        saved_from = _SAVED_FROM.search(data[:1024])
        return ExtractedText(
            text,
            title=document.title or "",
            author=document.author or "",
            date=document.date or "",
            outlet=document.sitename or "",
            url=document.url or (saved_from.group(1).decode("ascii", "replace") if saved_from else ""),
        )
