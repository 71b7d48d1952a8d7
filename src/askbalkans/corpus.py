"""Corpus stage: read a folder of articles and mark the text worth indexing.

An article keeps its file's text unchanged; cleaning only decides which spans of it (`blocks`) carry
content, so every later character offset points into the original file.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from askbalkans.errors import CorpusError
from askbalkans.lexicon import CHROME_LINE, COOKIE_NOTICE, READING_TIME

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    text: str  # the file's text, unchanged
    blocks: tuple[tuple[int, int], ...]  # (start, end) spans of `text` that remain after cleaning
    sha256: str


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    reason: str


@dataclass(frozen=True)
class Corpus:
    articles: tuple[Article, ...]
    skipped: tuple[SkippedFile, ...] = ()

    def hashes(self) -> dict[str, str]:
        return {article.doc_id: article.sha256 for article in self.articles}


# Markdown markers that start a line but are not part of its text.
_MARKUP_PREFIX = re.compile(r"^\s*(#{1,6}\s+|[-*+]\s+|>\s*)")
_SENTENCE_END = re.compile(r"""[.!?:;"”’)\]]\s*$""")
# A line this long that stops without punctuation is a hard-wrapped line, not a heading.
_WRAPPED_LINE_CHARS = 70


def is_chrome(line: str, seen_short_lines: set[str]) -> bool:
    """Whether a stripped line is page chrome rather than content."""
    words = line.split()
    if CHROME_LINE.match(line) or COOKIE_NOTICE.search(line):
        return True
    if len(words) <= 8 and READING_TIME.search(line):
        return True
    # A short label line seen before in the same file (a repeated byline or menu entry).
    return len(words) <= 6 and not _SENTENCE_END.search(line) and line.lower() in seen_short_lines


def content_blocks(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of `text` that hold content: one per paragraph line, hard-wrapped lines joined."""
    blocks: list[tuple[int, int]] = []
    seen_short_lines: set[str] = set()
    previous_line = ""  # stripped text of the previous kept line, "" after a blank or dropped line
    offset = 0
    for raw_line in text.splitlines(keepends=True):
        line_start, offset = offset, offset + len(raw_line)
        line = raw_line.strip()
        if not line or is_chrome(line, seen_short_lines):
            previous_line = ""
            continue
        if len(line.split()) <= 6:
            seen_short_lines.add(line.lower())
        prefix = _MARKUP_PREFIX.match(raw_line)
        start = line_start + (prefix.end() if prefix else len(raw_line) - len(raw_line.lstrip()))
        end = line_start + len(raw_line.rstrip())
        if previous_line and not prefix and _continues(previous_line, line):
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start, end))
        previous_line = line
    return tuple(blocks)


def _continues(previous: str, line: str) -> bool:
    """Whether `line` continues the sentence of `previous` (a hard-wrapped paragraph or address)."""
    if _SENTENCE_END.search(previous):
        return False
    return line[0].islower() or previous.endswith((",", "-", "–")) or len(previous) >= _WRAPPED_LINE_CHARS


def title_of(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            prefix = _MARKUP_PREFIX.match(line)
            return line[prefix.end() if prefix else 0 :].strip()
    return ""


def make_article(doc_id: str, text: str, title: str | None = None) -> Article:
    """An article from its text; the title defaults to the first non-empty line."""
    return Article(
        doc_id=doc_id,
        title=title if title is not None else title_of(text),
        text=text,
        blocks=content_blocks(text),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def load_corpus(folder: Path) -> Corpus:
    """Load every `.txt` and `.md` file of `folder`, skipping (with a warning) files that cannot be used."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    articles: dict[str, Article] = {}
    skipped: list[SkippedFile] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in ARTICLE_SUFFIXES:
            continue
        reason = None
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            reason = f"not valid UTF-8 ({error.reason} at byte {error.start})"
        except OSError as error:
            reason = f"cannot be read ({error.strerror or error})"
        else:
            article = make_article(path.stem, text)
            if not article.blocks:
                reason = "empty (no text after removing page chrome)"
            elif article.doc_id in articles:
                reason = f"another file already has the id {article.doc_id!r}"
        if reason:
            log.warning("skipping article %s: %s", path, reason)
            skipped.append(SkippedFile(path, reason))
        else:
            articles[article.doc_id] = article
    return Corpus(tuple(articles.values()), tuple(skipped))
