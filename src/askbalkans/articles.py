"""The whole of a cited article, for the chat page's reader, and the article's original file.

Both are looked up by doc_id in the index and nothing else: the text is the article's sentences as the
index keeps them (the extracted text citations point into), never a file read by a name from the request;
the original file is the one the index names for that article, in the corpus folder, served as a download.

Routes (added to the page's FastAPI app by `add_article_routes`):
- `GET /askbalkans/article?doc=ID&marks=START-END,...`: JSON `{doc_id, title, byline, outlet, dateline, date,
  url, source, paragraphs: [[{text, marked}, ...], ...]}`; `marks` are character spans of the article whose
  sentences are highlighted (the quoted ones). 404 for a doc_id the index does not hold.
- `GET /askbalkans/source?doc=ID`: the original file, `Content-Disposition: attachment`; 404 when the index
  names none or it is no longer a regular file inside the corpus folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the page imports this module before the index libraries are loaded
    from askbalkans.stores import ArticleRecord, Index

ARTICLE_ROUTE = "/askbalkans/article"
SOURCE_ROUTE = "/askbalkans/source"
# Highlighted spans read from a request at most (an answer quotes a few sentences).
MAX_MARKS = 50
_MARK = re.compile(r"^(\d{1,9})-(\d{1,9})$")
# The original files served, by suffix (what corpus.py and the extractors read).
CONTENT_TYPES = {
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class UnknownArticle(LookupError):
    """No article of that doc_id in the index."""


@dataclass(frozen=True)
class ReadSentence:
    text: str
    marked: bool  # one of the quoted sentences


def parse_marks(raw: str) -> list[tuple[int, int]]:
    """The spans of `marks=10-52,60-97`; anything else in it is ignored."""
    spans = []
    for part in raw.split(",")[:MAX_MARKS]:
        found = _MARK.match(part.strip())
        if found and int(found[1]) < int(found[2]):
            spans.append((int(found[1]), int(found[2])))
    return spans


def article_paragraphs(index: Index, doc_id: str, marks: list[tuple[int, int]]) -> list[list[ReadSentence]]:
    """The article's sentences in order, in paragraphs (a new one where more than one character, a line
    break, lies between two sentences); those overlapping a span of `marks` marked."""
    from askbalkans.stores import chunk_id

    record = _record(index, doc_id)
    stored = index.chunks.sentences([chunk_id(record.slot, n) for n in range(record.sentences)])
    paragraphs: list[list[ReadSentence]] = []
    previous_end = None
    for sentence in sorted(stored.values(), key=lambda s: s.number):
        if previous_end is None or sentence.start - previous_end > 1:
            paragraphs.append([])
        marked = any(start < sentence.end and sentence.start < end for start, end in marks)
        paragraphs[-1].append(ReadSentence(sentence.text, marked))
        previous_end = sentence.end
    return paragraphs


def article_view(index: Index, doc_id: str, marks: list[tuple[int, int]]) -> dict[str, Any]:
    """What the page's reader shows of an article (see the module's docstring)."""
    record = _record(index, doc_id)
    facts = {name: getattr(record, name) for name in ("title", "byline", "outlet", "dateline", "date", "url")}
    return {
        "doc_id": record.doc_id,
        **facts,
        "source": record.source,
        "paragraphs": [
            [{"text": s.text, "marked": s.marked} for s in paragraph]
            for paragraph in article_paragraphs(index, doc_id, marks)
        ],
    }


def source_file(record: ArticleRecord, corpus_dir: Path) -> Path | None:
    """The article's original file, if the index names one of a served type that is still a regular file
    inside `corpus_dir` (a name with a folder in it, or a link leading out, is not served)."""
    name = record.source
    if not name or name != os.path.basename(name) or name.startswith("."):
        return None
    if Path(name).suffix.lower() not in CONTENT_TYPES:
        return None
    folder = os.path.realpath(corpus_dir)
    path = os.path.realpath(os.path.join(folder, name))
    if os.path.commonpath([folder, path]) != folder or not os.path.isfile(path):
        return None
    return Path(path)


def _record(index: Index, doc_id: str) -> ArticleRecord:
    record = index.articles.get(doc_id)
    if record is None:
        raise UnknownArticle(doc_id)
    return record


def add_article_routes(app: Any, loader: Any) -> None:
    """The reader's two routes on `app` (FastAPI), over the assistant `loader` gives once it is ready."""
    from fastapi import Query
    from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse

    def not_found() -> Any:
        return PlainTextResponse("No such article in the index.", status_code=404)

    @app.get(ARTICLE_ROUTE)
    def article(doc: str = Query(max_length=1_000), marks: str = Query("", max_length=2_000)) -> Any:
        try:
            view = article_view(loader.get().index, doc, parse_marks(marks))
        except (UnknownArticle, RuntimeError):  # RuntimeError: the assistant could not start
            return not_found()
        return JSONResponse(view, headers={"Cache-Control": "no-store"})

    @app.get(SOURCE_ROUTE)
    def source(doc: str = Query(max_length=1_000)) -> Any:
        try:
            assistant = loader.get()
        except RuntimeError:
            return not_found()
        record = assistant.index.articles.get(doc)
        path = source_file(record, assistant.settings.corpus_dir) if record is not None else None
        if record is None or path is None:
            return not_found()
        return FileResponse(
            path,
            media_type=CONTENT_TYPES[Path(record.source).suffix.lower()],
            filename=record.source,
            content_disposition_type="attachment",
            # Never rendered as a page of this origin: a saved web page may hold scripts.
            headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
        )
