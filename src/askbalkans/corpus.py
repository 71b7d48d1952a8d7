"""Corpus stage: read a folder of articles and mark the text worth indexing.

An article keeps its file's text unchanged; cleaning only decides which spans of it (`blocks`) carry
content, so every later character offset points into the original file.
"""

from __future__ import annotations

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
from askbalkans.lexicon import CHROME_LINE, COOKIE_NOTICE, READING_TIME

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".md")
DEFAULT_MAX_ARTICLE_BYTES = 5_000_000


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    text: str  # the file's text, unchanged
    blocks: tuple[tuple[int, int], ...]  # (start, end) spans of `text` that remain after cleaning
    sha256: str
    facts: ArticleFacts = field(default_factory=lambda: ArticleFacts("", False))
    signature: str = ""  # of the file it was read from (see `file_signature`); "" when not read from a file


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


# "by Cristian Florescu": a byline line.
_BYLINE = re.compile(r"^by\s+([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})$")
# "Pristina & Mitrovica, Kosovo - The ...": a dateline opening the first paragraph.
_DATELINE = re.compile(r"^([A-Z][\w.&’' ]{1,40},\s*[A-Z][\w ]{1,30}?)\s+[-–—]\s+")
# "... on the Serbian community./ REL (A2 Televizion)": the outlet credited at the end.
_CREDIT = re.compile(r"/\s*([A-Z][\w .()&-]{1,60}?)\s*$")
# A headline: a short first line that does not end like a sentence.
_HEADLINE_WORDS = 30
_DERIVED_TITLE_CHARS = 90


@dataclass(frozen=True)
class ArticleFacts:
    """What an article says about itself: its title (the headline, or a short title derived from its
    opening), and the byline, outlet and dateline where it states them ("" where it does not)."""

    title: str
    headline: bool
    byline: str = ""
    outlet: str = ""
    dateline: str = ""


def facts_of(text: str) -> ArticleFacts:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = _strip_markup(lines[0]) if lines else ""
    byline = next((m.group(1) for line in lines[:6] if (m := _BYLINE.match(line))), "")
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
    else:
        opening = first[dateline.end() :] if dateline else first
        title = _shorten(opening, _DERIVED_TITLE_CHARS)
    return ArticleFacts(title, headline, byline, outlet, dateline.group(1) if dateline else "")


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
    facts = facts_of(text)
    if title is not None:
        facts = ArticleFacts(title, True)
    return Article(
        doc_id=doc_id,
        title=facts.title,
        text=text,
        blocks=content_blocks(text),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        facts=facts,
    )


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
        self._max_bytes = DEFAULT_MAX_ARTICLE_BYTES

    @classmethod
    def listed(cls, root: Path, files: Mapping[str, ArticleFile], skipped: Iterable[SkippedFile], max_bytes: int):
        corpus = cls(skipped=skipped)
        corpus._entries.update(files)
        corpus._root, corpus._max_bytes = root, max_bytes
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
            text, reason = _read_article(path, self._root, self._max_bytes)
            if text is not None:
                signature = file_signature(name) if number else entry.signature
                found = replace(make_article(doc_id, text), signature=signature)
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


def list_corpus(folder: Path, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> Corpus:
    """The `.txt` and `.md` files of `folder`, listed and not read. Skipped at once, with a warning that
    names it: a file larger than `max_bytes`. Skipped when read (`Corpus.article`): anything else that
    cannot be used, and a file whose id (its name without the suffix) a usable file before it has."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    files: dict[str, ArticleFile] = {}
    skipped: list[SkippedFile] = []
    # Names as strings and os functions, not Path objects: pathlib costs seconds for a million files.
    with os.scandir(folder) as entries:
        names = sorted(entry.name for entry in entries if not entry.name.startswith("."))
    prefix = os.path.join(folder, "")
    for name in names:
        stem, suffix = os.path.splitext(name)
        if suffix.lower() not in ARTICLE_SUFFIXES:
            continue
        path = prefix + name
        signature = file_signature(path)
        size = int(signature.split(":", 1)[0]) if signature else 0
        if size > max_bytes:
            reason = f"larger than the limit of {max_bytes:,} bytes ({size:,}; see max_article_bytes)"
            log.warning("skipping article %s: %s", path, reason)
            skipped.append(SkippedFile(Path(path), reason))
        elif stem in files:
            files[stem] = replace(files[stem], others=(*files[stem].others, path))
        else:
            files[stem] = ArticleFile(path, signature)
    return Corpus.listed(folder.resolve(), files, skipped, max_bytes)


def load_corpus(folder: Path, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> Corpus:
    """Every `.txt` and `.md` file of `folder`, read, skipping (with a warning that names it) any file that
    cannot be used: not a regular file inside the folder (a symlink that leads out of it, a FIFO, a
    device), larger than `max_bytes`, not UTF-8 text, or empty."""
    return list_corpus(folder, max_bytes).read_all()


_SYMLINK_LOOP = "a symlink loop (it leads, directly or through other links, back to itself)"


def _read_article(path: Path, root: Path, max_bytes: int) -> tuple[str | None, str]:
    """The text of the regular file `path` inside `root`, or None and why it is skipped. The file is
    opened without following a last symlink and without blocking, and checked on the opened descriptor."""
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
            return None, f"larger than the limit of {max_bytes:,} bytes ({status.st_size:,}; see max_article_bytes)"
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None, f"larger than the limit of {max_bytes:,} bytes (see max_article_bytes)"
    if b"\0" in data:
        return None, "binary, not text (it holds NUL bytes)"
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as error:
        return None, f"not valid UTF-8 ({error.reason} at byte {error.start})"
