"""Adding an article to the corpus folder: a file copied in, or a web address fetched (with a time and a
size limit), after checking that its extractor finds an article in it. Nothing is written unless it is
usable; the write is atomic (a hidden temporary file, then renamed), so a reader of the folder never sees
half a file. The index is brought up to date by whoever opens it next (`askbalkans add` does at once).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from askbalkans.corpus import FileLimits, extracted_article
from askbalkans.errors import ArticleError
from askbalkans.extractors import SUPPORTED_SUFFIXES, ExtractionError, extractor_for

USER_AGENT = "AskBalkans/0.1 (saves one article for a local question-answering index)"
_CONTENT_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class AddedArticle:
    path: Path  # the file in the corpus folder
    doc_id: str
    title: str
    replaced: bool = False  # it took the place of another file with its id
    unchanged: bool = False  # the corpus already held this very file: nothing was written


def add_article(
    source: str, folder: Path, limits: FileLimits | None = None, timeout_s: float = 20.0, replace: bool = False
) -> AddedArticle:
    """Copy the file `source`, or fetch the http(s) address `source`, into the corpus `folder`. Raises
    `ArticleError`, changing nothing, when it cannot be read or fetched, holds no usable article, or
    another file of the folder has its id (its name without the suffix) and `replace` is false."""
    folder, limits = Path(folder), limits or FileLimits()
    if not folder.is_dir():
        raise ArticleError(f"corpus folder not found: {folder}")
    if re.match(r"^https?://", source, re.IGNORECASE):
        data, name = fetch(source, limits, timeout_s)
    else:
        data, name = _read_source(Path(source), limits)
    stem, suffix = os.path.splitext(name)
    extractor = extractor_for(suffix)
    assert extractor is not None  # the name's suffix was chosen among the supported ones
    try:
        article = extracted_article(stem, extractor.extract(data))
    except ExtractionError as error:
        raise ArticleError(f"{source}: {error}; nothing was added") from None
    if not article.blocks:
        raise ArticleError(f"{source}: no text after removing page chrome; nothing was added")
    target = folder / name
    same_id = sorted(p for p in folder.iterdir() if p.stem == stem and p.suffix.lower() in SUPPORTED_SUFFIXES)
    if target in same_id and target.is_file() and target.read_bytes() == data:
        return AddedArticle(target, stem, article.title, unchanged=True)
    if same_id and not replace:
        names = ", ".join(p.name for p in same_id)
        raise ArticleError(f"the corpus already has an article {stem!r} ({names}); add --replace to replace it")
    _write_atomically(target, data)
    for other in same_id:
        if other != target:
            other.unlink()
    return AddedArticle(target, stem, article.title, replaced=bool(same_id))


def _read_source(path: Path, limits: FileLimits) -> tuple[bytes, str]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleError(f"{path}: not an article file (the corpus reads {', '.join(SUPPORTED_SUFFIXES)})")
    if not path.is_file():
        raise ArticleError(f"{path}: no such file")
    size = path.stat().st_size
    if size > limits.of(suffix)[0]:
        raise ArticleError(f"{path}: {limits.too_large(suffix, size)}; nothing was added")
    try:
        return path.read_bytes(), path.stem + suffix
    except OSError as error:
        raise ArticleError(f"{path}: cannot be read ({error.strerror or error})") from None


def fetch(url: str, limits: FileLimits, timeout_s: float) -> tuple[bytes, str]:
    """The body of `url` and a file name for it (its suffix from the content type), read within
    `timeout_s` in all and no larger than its format's limit."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": ", ".join(_CONTENT_TYPES)})
    deadline = time.monotonic() + timeout_s
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            suffix = _suffix_of(response.headers.get_content_type(), response.url)
            limit = limits.of(suffix)[0]
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise ArticleError(f"{url}: {limits.too_large(suffix, int(length))}; nothing was added")
            data = bytearray()
            while chunk := response.read(_CHUNK_BYTES):
                data += chunk
                if len(data) > limit:
                    raise ArticleError(f"{url}: {limits.too_large(suffix)}; nothing was added")
                if time.monotonic() > deadline:
                    raise ArticleError(f"{url}: not fetched within {timeout_s:g} s (see fetch_timeout_s)")
            final_url = response.url
    except urllib.error.HTTPError as error:
        raise ArticleError(f"could not fetch {url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ArticleError(f"could not fetch {url}: {reason}") from None
    body = bytes(data)
    if suffix == ".html" and b"saved from url=" not in body[:1024]:
        # Browsers mark a saved page with where it came from; the extractor reads it when the page itself
        # does not state its address.
        body = f"<!-- saved from url=({len(final_url):04d}){final_url} -->\n".encode() + body
    return body, _file_stem(final_url) + suffix


def _suffix_of(content_type: str, url: str) -> str:
    if content_type in _CONTENT_TYPES:
        return _CONTENT_TYPES[content_type]
    suffix = os.path.splitext(urllib.parse.urlsplit(url).path)[1].lower()
    if content_type == "application/octet-stream" and suffix in SUPPORTED_SUFFIXES:
        return suffix
    raise ArticleError(f"{url}: the server sent {content_type}, not an article (web page, PDF, Word or text)")


def _file_stem(url: str) -> str:
    """A file name for `url`: its last path segment (or its host), in safe characters."""
    parts = urllib.parse.urlsplit(url)
    segment = os.path.splitext(parts.path.rstrip("/").rsplit("/", 1)[-1])[0]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", segment or parts.hostname or "article").strip(".-")
    return stem[:100] or "article"


def _write_atomically(target: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".adding-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
