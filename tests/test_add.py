"""`askbalkans add`: a file copied or a web page fetched (from a local HTTP server on 127.0.0.1) into the
corpus folder and indexed at once; bad input gets a clear message and changes nothing."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from askbalkans.cli import main
from askbalkans.corpus import FileLimits
from askbalkans.errors import ArticleError
from askbalkans.ingest import add_article
from documents import FACTS, RESERVOIR_PARAGRAPHS, news_page

UNDATED_PAGE = news_page("Gazivode reservoir supplies water to 400,000 people", RESERVOIR_PARAGRAPHS).replace(
    '<link rel="canonical" href="https://balkanmonitor.example/news/gazivode-reservoir">', ""
)
HUGE_BYTES = 50_000_000


class _Site(BaseHTTPRequestHandler):
    """/news/gazivode: an article; /gone: 404; /huge: a 50 MB page; /menu: a page with no article;
    /blob: binary junk; /junk.html: binary junk sent as a web page; /railway.pdf: a PDF."""

    documents: dict[str, Path] = {}

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        if self.path == "/news/gazivode":
            self._send("text/html; charset=utf-8", UNDATED_PAGE.encode())
        elif self.path == "/railway.pdf":
            self._send("application/pdf", self.documents["railway.pdf"].read_bytes())
        elif self.path == "/menu":
            self._send("text/html", b"<html><body><nav>Home | News | Sport</nav><p>Log in</p></body></html>")
        elif self.path == "/blob":
            self._send("application/octet-stream", os.urandom(4096))
        elif self.path == "/junk.html":
            self._send("text/html", b"\0\1\2" + os.urandom(4096))
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")  # no length: the client must stop reading by itself
            self.end_headers()
            chunk = b"<p>" + b"padding " * 8000 + b"</p>"
            try:
                for _ in range(HUGE_BYTES // len(chunk) + 1):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.send_error(404, "Not Found")

    def _send(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(documents) -> Iterator[str]:
    _Site.documents = documents
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.e2e
def test_a_fetched_page_is_saved_indexed_and_answered_with_its_address(site, corpus_copy, tmp_path, capsys):
    index = ["--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]
    assert main(["index", *index]) == 0
    capsys.readouterr()
    assert main(["add", f"{site}/news/gazivode", *index]) == 0
    printed = capsys.readouterr().out
    assert f"added {corpus_copy / 'gazivode.html'}: “Gazivode reservoir supplies water to 400,000 people”" in printed
    assert "added gazivode" in printed and "updated the index of 6 articles" in printed
    assert main(["ask", "--json", FACTS["reservoir.html"].question, *index]) == 0
    answer = json.loads(capsys.readouterr().out)
    lead = answer["citations"][0]
    assert "400,000 people" in answer["text"] and lead["doc_id"] == "gazivode"
    assert lead["url"] == f"{site}/news/gazivode"  # the page states none: where it was fetched from
    assert main(["add", f"{site}/news/gazivode", *index]) == 0  # again: nothing to do
    assert "already in the corpus, unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/gone", "HTTP 404 Not Found"),
        ("/huge", "larger than the limit of 5,000,000 bytes; see max_article_bytes"),
        ("/menu", "no article text found"),
        ("/blob", "the server sent application/octet-stream, not an article"),
        ("/junk.html", "binary, not a web page"),
    ],
)
def test_a_bad_address_is_a_clear_error_and_changes_nothing(site, corpus_copy, tmp_path, capsys, path, message):
    before = listing(corpus_copy)
    assert main(["add", f"{site}{path}", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]) == 2
    assert message in capsys.readouterr().err
    assert listing(corpus_copy) == before and not (tmp_path / "index").exists()


def test_a_slow_server_is_given_up_on(corpus_copy):
    import socket

    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(ArticleError, match="could not fetch"):
            add_article(f"http://127.0.0.1:{silent.getsockname()[1]}/", corpus_copy, timeout_s=0.5)


def test_a_file_is_copied_in_and_one_with_the_same_name_needs_replace(site, documents, corpus_copy, tmp_path):
    added = add_article(str(documents["railway.pdf"]), corpus_copy)
    assert added.path == corpus_copy / "railway.pdf" and added.title.startswith("Feasibility study")
    assert added.path.read_bytes() == documents["railway.pdf"].read_bytes()
    (tmp_path / "railway.txt").write_text("Railway\n\nThe railway between Pristina and Nis was cancelled.\n")
    with pytest.raises(ArticleError, match=r"already has an article 'railway' \(railway.pdf\); add --replace"):
        add_article(str(tmp_path / "railway.txt"), corpus_copy)
    replaced = add_article(str(tmp_path / "railway.txt"), corpus_copy, replace=True)
    assert replaced.replaced and sorted(p.name for p in corpus_copy.glob("railway.*")) == ["railway.txt"]
    assert not [p for p in corpus_copy.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize(
    ("name", "made_from", "limits", "message"),
    [
        ("notes.json", None, FileLimits(), "not an article file"),
        ("scan.pdf", "scanned.pdf", FileLimits(), "without a text layer"),
        ("big.pdf", "railway.pdf", FileLimits(document_bytes=10_000), "larger than the limit of 10,000 bytes"),
        ("missing.txt", "", FileLimits(), "no such file"),
    ],
)
def test_a_bad_file_is_a_clear_error_and_changes_nothing(
    documents, corpus_copy, tmp_path, name, made_from, limits, message
):
    source = tmp_path / name
    if made_from is None:
        source.write_text("{}")
    elif made_from:
        source.write_bytes(documents[made_from].read_bytes())
    before = listing(corpus_copy)
    with pytest.raises(ArticleError, match=message):
        add_article(str(source), corpus_copy, limits)
    assert listing(corpus_copy) == before
