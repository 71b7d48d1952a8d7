"""The chat page's API, used through gradio_client as a client would, and the page's HTML."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from gradio_client import Client

from askbalkans import Assistant
from askbalkans.answer import Answer, Citation, Quote
from askbalkans.server import LOADING
from askbalkans.ui import plain_answer, render_answer, user_bubble
from conftest import SEEDS, served_page

pytestmark = pytest.mark.e2e


def test_ask_answers_with_cited_sentences_and_source_cards(seeds_assistant):
    with served_page(lambda: seeds_assistant) as url:
        client = Client(url, verbose=False)
        reply = client.predict("Who is the EU special representative for the Kosovo-Serbia dialogue?", api_name="/ask")
        assert "Peter Sorensen" in reply and 'class="askb-chip"' in reply
        assert '<details class="askb-card"' in reply and "<mark>" in reply
        assert "REL (A2 Televizion)" in reply  # the outlet the article credits
        answer = client.predict("How many troops serve in KFOR?", api_name="/answer")
        assert answer["abstained"] is False and answer["sources_differ"] is True
        assert answer["citations"] and all(c["doc_id"] for c in answer["citations"])


def test_follow_up_questions_use_the_session_conversation(seeds_assistant):
    with served_page(lambda: seeds_assistant) as url:
        client = Client(url, verbose=False)
        client.predict("Who is the EU special representative for the dialogue?", api_name="/ask")
        reply = client.predict("When did he visit Pristina?", api_name="/ask")
        assert "Read as: When did Peter Sorensen visit Pristina?" in reply and "About a week later" in reply
        other = Client(url, verbose=False)  # another session knows nothing of this conversation
        assert "Read as" not in other.predict("When did he visit Pristina?", api_name="/ask")


def test_page_is_served_while_the_model_loads(seeds_assistant):
    release = threading.Event()

    def slow_factory() -> Assistant:
        release.wait(timeout=60)
        return seeds_assistant

    with served_page(slow_factory) as url:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(url + "config", timeout=10) as response:
            assert LOADING in response.read().decode()
        release.set()
        reply = Client(url, verbose=False).predict("How many troops serve in KFOR?", api_name="/ask")
        assert "KFOR" in reply


HOSTILE = "<script>alert('x')</script> <img src=x onerror=alert(1)> **bold** [link](javascript:alert(2))"


def hostile_answer() -> Answer:
    citation = Citation(1, "evil", f"Title {HOSTILE}", f"Passage {HOSTILE}", 0, 10, 1.0, f"Sentence {HOSTILE}")
    return Answer(
        HOSTILE,
        f"Sentence {HOSTILE} [1]",
        (Quote(f"Sentence {HOSTILE}", (1,), False, (0, 8)),),
        (citation,),
        0.9,
        False,
        notices=(f"Read as: {HOSTILE}",),
    )


def test_every_piece_of_article_or_user_text_is_escaped():
    for rendered in (render_answer(hostile_answer()), user_bubble(HOSTILE)):
        assert "<script" not in rendered and "<img" not in rendered and "<strong>bold" not in rendered
        assert "&lt;img src=x onerror=alert(1)&gt;" in rendered


def test_the_plain_text_has_the_markers_and_a_list_of_sources():
    plain = plain_answer(hostile_answer())
    assert plain.startswith("Sentence ") and "[1]" in plain
    assert "Sources:\n[1] Title" in plain


def fetched(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, b""


def test_the_reader_routes_serve_only_articles_the_index_holds(seeds_assistant):
    doc_id, record = next(iter(seeds_assistant.index.articles.items()))
    with served_page(lambda: seeds_assistant) as url:
        status, _, body = fetched(f"{url}askbalkans/article?doc={doc_id}&marks=0-40,junk,9-3")
        article = json.loads(body)
        assert status == 200 and article["title"] == record.title
        sentences = [s for paragraph in article["paragraphs"] for s in paragraph]
        assert len(sentences) == record.sentences and sentences[0]["marked"]
        assert [s["marked"] for s in sentences[1:]].count(True) <= 1  # only what overlaps 0-40
        status, headers, body = fetched(f"{url}askbalkans/source?doc={doc_id}")
        assert status == 200 and body == (SEEDS / record.source).read_bytes()
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert (
            headers["content-disposition"].startswith("attachment;") and record.source in headers["content-disposition"]
        )
        assert headers["x-content-type-options"] == "nosniff"
        for wanted in ("nothing", "../../../etc/passwd", "/etc/passwd", record.source, "%2e%2e%2fREADME.md"):
            for route in ("article", "source"):
                assert fetched(f"{url}askbalkans/{route}?doc={wanted}")[0] == 404, (route, wanted)


def test_an_article_whose_file_is_gone_or_replaced_by_a_link_out_has_no_original(corpus_copy, tmp_path, embedder):
    assistant = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index", embedder=embedder)
    (gone, first), (linked, second) = list(assistant.index.articles.items())[:2]
    (corpus_copy / first.source).unlink()
    (corpus_copy / second.source).unlink()
    (corpus_copy / second.source).symlink_to("/etc/passwd")
    with served_page(lambda: assistant) as url:
        assert fetched(f"{url}askbalkans/source?doc={gone}")[0] == 404
        assert fetched(f"{url}askbalkans/source?doc={linked}")[0] == 404
        assert fetched(f"{url}askbalkans/article?doc={linked}")[0] == 200  # the text is the index's own
