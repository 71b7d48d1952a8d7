"""Corpus stage: read a folder of articles and mark the text worth indexing.

An article's text is what its file's extractor gives (`extractors`): a plain-text file's text unchanged,
a web page's, PDF's or Word document's extracted text. Cleaning only decides which spans of it (`blocks`)
carry content, so every later character offset points into that text, which the index keeps.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import logging
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from askbalkans.errors import CorpusError
from askbalkans.extractors import SUPPORTED_SUFFIXES, ExtractedText, ExtractionError, extractor_for
from askbalkans.lexicon import CHROME_LINE, COOKIE_NOTICE, READING_TIME

log = logging.getLogger(__name__)

DEFAULT_MAX_ARTICLE_BYTES = 5_000_000
DEFAULT_MAX_DOCUMENT_BYTES = 50_000_000


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    text: str  # the extracted text (a plain-text file's text, unchanged)
    blocks: tuple[tuple[int, int], ...]  # (start, end) spans of `text` that remain after cleaning
    sha256: str
    facts: ArticleFacts = field(default_factory=lambda: ArticleFacts("", False))
    signature: str = ""  # of the file it was read from (see `file_signature`); "" when not read from a file
    source: str = ""  # the name of that file in the corpus folder


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    reason: str


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


# "by Cristian Florescu", "By Ana Petrovic": a byline line.
_BYLINE = re.compile(r"^[Bb]y\s+([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})$")
# "Pristina & Mitrovica, Kosovo - The ...", "Brussels, Belgium, March 3, 2025 - ...", "BELGRADE (Reuters) -
# ...": a dateline opening the first paragraph (group 1: the place).
_DATELINE = re.compile(
    r"^([A-Z][\w.&’' ]{1,40},\s*[A-Z][\w ]{1,30}?|[A-Z]{3,}(?: [A-Z]{3,})?)"
    r"(?:,?\s+[\w ,.]{4,30}?)?(?:\s*\([^)]{2,30}\))?\s+[-–—]\s+"
)
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH = r"(?P<month>" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?"  # "Sep", "Sept.", "September"
# "2025-03-14", "14 March 2025", "March 14, 2025", "14.03.2025": a publication date near the top.
_DATES = (
    re.compile(r"\b(?P<year>\d{4})-(?P<number>\d{2})-(?P<day>\d{2})\b"),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)? {_MONTH},? (?P<year>\d{{4}})\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH} (?P<day>\d{{1,2}})(?:st|nd|rd|th)?, (?P<year>\d{{4}})\b", re.IGNORECASE),
    re.compile(r"\b(?P<day>\d{1,2})\.(?P<number>\d{1,2})\.(?P<year>\d{4})\b"),
)
_DATE_LINE_WORDS = 12  # a line this short that holds a date is a dateline or a byline with a date
# "... on the Serbian community./ REL (A2 Televizion)": the outlet credited at the end.
_CREDIT = re.compile(r"/\s*([A-Z][\w .()&-]{1,60}?)\s*$")
# A headline: a short first line that does not end like a sentence.
_HEADLINE_WORDS = 30
_DERIVED_TITLE_CHARS = 90


@dataclass(frozen=True)
class ArticleFacts:
    """What an article says about itself: its title (the headline, or a short title derived from its
    opening), and the byline, outlet, dateline, publication date (YYYY-MM-DD) and URL where it states them
    ("" where it does not)."""

    title: str
    headline: bool
    byline: str = ""
    outlet: str = ""
    dateline: str = ""
    date: str = ""
    url: str = ""


def facts_of(text: str) -> ArticleFacts:
    """The facts an article's own lines state: a headline first, then (in any order, within the first
    lines) an outlet in capitals, a byline, a date, and a dateline opening the first paragraph."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = _strip_markup(lines[0]) if lines else ""
    top = lines[:6]
    byline = next((m.group(1) for line in top if (m := _BYLINE.match(line))), "")
    # A short line in capitals near the top ("RKS NEWS"), or a credit at the very end ("/ REL (A2 Televizion)").
    outlet = next(
        (line for line in lines[1:6] if line.isupper() and len(line.split()) <= 4 and not _SENTENCE_END.search(line)),
        "",
    )
    credit = _CREDIT.search(lines[-1]) if lines else None
    outlet = outlet or (credit.group(1).strip() if credit else "")
    dateline = _DATELINE.match(first)
    headline = len(first.split()) <= _HEADLINE_WORDS and not first.endswith(".") and not dateline
    if headline:
        title = first
        # The first paragraph comes after the headline and the outlet, byline and date lines.
        opening = next((line for line in top[1:] if len(line.split()) > _DATE_LINE_WORDS), "")
        dateline = _DATELINE.match(opening)
    else:
        opening = first[dateline.end() :] if dateline else first
        title = _shorten(opening, _DERIVED_TITLE_CHARS)
    short_lines = [line for line in top if len(line.split()) <= _DATE_LINE_WORDS]
    date = next((day for line in short_lines + ([dateline.group()] if dateline else []) if (day := date_in(line))), "")
    return ArticleFacts(title, headline, byline, outlet, dateline.group(1) if dateline else "", date)


def date_in(text: str) -> str:
    """The first calendar date `text` writes, as YYYY-MM-DD; "" when it writes none."""
    for pattern in _DATES:
        for found in pattern.finditer(text):
            parts = found.groupdict()
            month = (
                int(parts["number"])
                if parts.get("number")
                else 1 + next(i for i, name in enumerate(_MONTHS) if name.startswith(parts["month"].lower()[:3]))
            )
            try:
                return dt.date(int(parts["year"]), month, int(parts["day"])).isoformat()
            except ValueError:  # "31.02.2025"
                continue
    return ""


def _strip_markup(line: str) -> str:
    prefix = _MARKUP_PREFIX.match(line)
    return line[prefix.end() if prefix else 0 :].strip()


def _shorten(text: str, chars: int) -> str:
    """`text` cut at a word boundary to at most `chars` characters, with an ellipsis when cut."""
    if len(text) <= chars:
        return text
    cut = text[: chars - 1].rsplit(" ", 1)[0].rstrip(",;:–—- ")
    return f"{cut}…"


def make_article(doc_id: str, text: str, title: str | None = None) -> Article:
    """An article from its text; the title, byline, outlet and dateline are read from the text unless the
    title is given."""
    facts = facts_of(text) if title is None else ArticleFacts(title, True)
    return _article(doc_id, text, facts)


def extracted_article(doc_id: str, extracted: ExtractedText) -> Article:
    """An article from what its file's extractor gave: the format's metadata where it states it, the
    text's own lines otherwise."""
    read = facts_of(extracted.text)
    facts = replace(
        read,
        title=extracted.title.strip() or read.title,
        byline=extracted.author.strip() or read.byline,
        outlet=extracted.outlet.strip() or read.outlet,
        date=extracted.date or read.date,
        url=extracted.url.strip() or read.url,
    )
    return _article(doc_id, extracted.text, facts)


def _article(doc_id: str, text: str, facts: ArticleFacts) -> Article:
    return Article(
        doc_id=doc_id,
        title=facts.title,
        text=text,
        blocks=content_blocks(text),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        facts=facts,
    )


@dataclass(frozen=True)
class FileLimits:
    """The largest file read: plain text and web pages (`text_bytes`, also the most text any file may give),
    PDF and Word documents (`document_bytes`: their files hold images and fonts besides the text)."""

    text_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
    document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES

    def of(self, suffix: str) -> tuple[int, str]:
        """The limit for a file ending in `suffix`, and the setting that sets it."""
        extractor = extractor_for(suffix)
        if extractor is not None and extractor.binary:
            return self.document_bytes, "max_document_bytes"
        return self.text_bytes, "max_article_bytes"

    def too_large(self, suffix: str, size: int | None = None) -> str:
        limit, setting = self.of(suffix)
        found = f" ({size:,})" if size is not None else ""
        return f"larger than the limit of {limit:,} bytes{found}; see {setting}"


@dataclass(frozen=True)
class ArticleFile:
    """An article file as listed, not yet read."""

    path: str  # not a Path: a million of them are made at every start, at a microsecond or two each
    signature: str
    others: tuple[str, ...] = ()  # further files with the same id, in order: the first usable one is the article


class Corpus:
    """The articles of a corpus, by id. A folder's articles are listed with their files' signatures and read
    when first asked for: an index that recorded the same signatures needs none of them read (a million
    files take minutes to read, seconds to list)."""

    def __init__(self, articles: Iterable[Article] = (), skipped: Iterable[SkippedFile] = ()):
        self._entries: dict[str, Article | ArticleFile] = {article.doc_id: article for article in articles}
        self._skipped = list(skipped)
        self._root = Path()
        self._limits = FileLimits()

    @classmethod
    def listed(cls, root: Path, files: Mapping[str, ArticleFile], skipped: Iterable[SkippedFile], limits: FileLimits):
        corpus = cls(skipped=skipped)
        corpus._entries.update(files)
        corpus._root, corpus._limits = root, limits
        return corpus

    def doc_ids(self) -> list[str]:
        """The ids of the articles listed and not found unusable so far, in order."""
        return list(self._entries)

    def signature(self, doc_id: str) -> str:
        """The signature of the article's file; "" when it did not come from a file, or when several files
        have its id (which of them is the article is known only once they are read)."""
        entry = self._entries[doc_id]
        return "" if isinstance(entry, ArticleFile) and entry.others else entry.signature

    def article(self, doc_id: str) -> Article | None:
        """The article, read now if it was not yet; None when its file cannot be used (see `skipped`)."""
        entry = self._entries.get(doc_id)
        if not isinstance(entry, ArticleFile):
            return entry
        found: Article | None = None
        for number, name in enumerate((entry.path, *entry.others)):
            path = Path(name)
            if found is not None:
                self._skip(path, f"another file already has the id {doc_id!r}")
                continue
            extracted, reason = _read_article(path, self._root, self._limits)
            if extracted is not None:
                signature = file_signature(name) if number else entry.signature
                found = replace(extracted_article(doc_id, extracted), signature=signature, source=path.name)
                if found.blocks:
                    continue
                found, reason = None, "empty (no text after removing page chrome)"
            self._skip(path, reason)
        if found is None:
            del self._entries[doc_id]
        else:
            self._entries[doc_id] = found
        return found

    def _skip(self, path: Path, reason: str) -> None:
        log.warning("skipping article %s: %s", path, reason)
        self._skipped.append(SkippedFile(path, reason))

    @property
    def articles(self) -> tuple[Article, ...]:
        """Every article, all read."""
        return tuple(article for doc_id in self.doc_ids() if (article := self.article(doc_id)) is not None)

    def read_all(self) -> Corpus:
        """This corpus, with every file read (and those that cannot be used in `skipped`)."""
        for doc_id in self.doc_ids():
            self.article(doc_id)
        return self

    @property
    def skipped(self) -> tuple[SkippedFile, ...]:
        """The files found unusable so far: all of them once `articles` was read, and after the indexer
        read every file that the index does not hold as it is."""
        return tuple(self._skipped)


def file_signature(path: str | Path) -> str:
    """What changes when the file at `path` is written (its size, its modification and status-change times
    and its inode; those of the file a symlink leads to, and where): more than make or rsync look at, so
    that an edit which keeps the size and sets the modification time back, or a change of permissions, is
    seen; "" when it cannot be read."""
    try:
        status = os.lstat(path)
        if stat.S_ISLNK(status.st_mode):
            status = os.stat(path)
            return (
                f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}:{status.st_ino}:{os.path.realpath(path)}"
            )
    except OSError:
        return ""
    return f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}:{status.st_ino}"


def list_corpus(
    folder: Path, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES, max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> Corpus:
    """The article files of `folder` (see `extractors.SUPPORTED_SUFFIXES`), listed and not read. Skipped at
    once, with a warning that names it: a file of another type, a subfolder, and a file larger than its
    limit (`max_bytes` for text, `max_document_bytes` for PDF and Word). Skipped when read
    (`Corpus.article`): anything else that cannot be used, and a file whose id (its name without the
    suffix) a usable file before it has."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    limits = FileLimits(max_bytes, max_document_bytes)
    files: dict[str, ArticleFile] = {}
    skipped: list[SkippedFile] = []

    def skip(path: str, reason: str) -> None:
        log.warning("skipping article %s: %s", path, reason)
        skipped.append(SkippedFile(Path(path), reason))

    # Names as strings and os functions, not Path objects: pathlib costs seconds for a million files.
    with os.scandir(folder) as entries:
        listed = sorted((entry.name, _is_folder(entry)) for entry in entries if not entry.name.startswith("."))
    prefix = os.path.join(folder, "")
    for name, is_folder in listed:
        stem, suffix = os.path.splitext(name)
        path = prefix + name
        if suffix.lower() not in SUPPORTED_SUFFIXES:
            skip(path, "a folder (subfolders are not read)" if is_folder else _UNSUPPORTED.format(suffix or "none"))
            continue
        signature = file_signature(path)
        size = int(signature.split(":", 1)[0]) if signature else 0
        if size > limits.of(suffix)[0]:
            skip(path, limits.too_large(suffix, size))
        elif stem in files:
            files[stem] = replace(files[stem], others=(*files[stem].others, path))
        else:
            files[stem] = ArticleFile(path, signature)
    return Corpus.listed(folder.resolve(), files, skipped, limits)


_UNSUPPORTED = f"an unsupported type ({{}}); the corpus reads {', '.join(SUPPORTED_SUFFIXES)}"


_SYMLINK_LOOP = "a symlink loop (it leads, directly or through other links, back to itself)"


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def load_corpus(
    folder: Path, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES, max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> Corpus:
    """Every article file of `folder`, read, skipping (with a warning that names it) any file that cannot
    be used: not a regular file inside the folder (a symlink that leads out of it, a FIFO, a device),
    larger than its limit, not text its extractor can read (not UTF-8, a scan without a text layer, a
    damaged PDF), or empty."""
    return list_corpus(folder, max_bytes, max_document_bytes).read_all()


def _read_article(path: Path, root: Path, limits: FileLimits) -> tuple[ExtractedText | None, str]:
    """The extracted text of the article file `path` inside `root`, or None and why it is skipped."""
    extractor = extractor_for(path.suffix)
    if extractor is None:
        return None, _UNSUPPORTED.format(path.suffix or "none")
    data, reason = _read_file(path, root, limits.of(path.suffix)[0])
    if data is None:
        return None, reason or limits.too_large(path.suffix)
    try:
        extracted = extractor.extract(data)
    except ExtractionError as error:
        return None, str(error)
    except Exception as error:  # a parser's own failure on a damaged file: the file is skipped, not the start
        log.debug("extracting %s failed", path, exc_info=True)
        return None, f"cannot be extracted ({type(error).__name__}: {error})"
    if len(extracted.text.encode("utf-8")) > limits.text_bytes:
        return None, f"its text is larger than the limit of {limits.text_bytes:,} bytes; see max_article_bytes"
    return extracted, ""


def _read_file(path: Path, root: Path, max_bytes: int) -> tuple[bytes | None, str]:
    """The bytes of the regular file `path` inside `root`, or None and why it is skipped ("" when it is over
    `max_bytes`). The file is opened without following a last symlink and without blocking, and checked on
    the opened descriptor."""
    try:
        target = path.resolve()
    except RuntimeError:  # Python 3.11 and 3.12 raise this for a loop; 3.13 leaves the loop to os.open
        return None, _SYMLINK_LOOP
    if path.is_symlink() and not target.is_relative_to(root):
        return None, f"a symlink that leads out of the corpus folder (to {target})"
    try:
        descriptor = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as error:
        return None, _SYMLINK_LOOP if error.errno == errno.ELOOP else f"cannot be read ({error.strerror or error})"
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        return None, "not a regular file (a directory, FIFO, socket or device)"
    with os.fdopen(descriptor, "rb") as handle:
        if status.st_size > max_bytes:
            return None, ""
        data = handle.read(max_bytes + 1)
    return (data, "") if len(data) <= max_bytes else (None, "")
