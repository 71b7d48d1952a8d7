"""The chat page, launched on a loopback port and used through gradio_client as a client would."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest
from gradio_client import Client

from askbalkans import Assistant
from askbalkans.ui import LOADING, AssistantLoader, build_app, render_answer

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served():
    """Launch apps on free loopback ports; close them afterwards."""
    apps = []

    def launch(loader: AssistantLoader) -> str:
        app = build_app(loader)
        port = free_port()
        app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        apps.append(app)
        return f"http://127.0.0.1:{port}/"

    yield launch
    for app in apps:
        app.close()


def test_chat_endpoint_answers_with_a_cited_highlighted_sentence(served, seeds_assistant):
    url = served(AssistantLoader(lambda: seeds_assistant))
    client = Client(url, verbose=False)
    reply = client.predict("Who is the EU special representative for the Kosovo-Serbia dialogue?", api_name="/ask")
    assert "Peter Sorensen" in reply
    assert "<sup>[1]</sup>" in reply
    assert "<mark>" in reply and "004_e76711d46be13724" in reply

    answer = client.predict("How many troops serve in KFOR?", api_name="/answer")
    assert answer["abstained"] is False
    assert answer["citations"] and all(c["doc_id"] for c in answer["citations"])


def test_follow_up_questions_use_the_session_conversation(served, seeds_assistant):
    client = Client(served(AssistantLoader(lambda: seeds_assistant)), verbose=False)
    client.predict("Who is the EU special representative for the dialogue?", api_name="/ask")
    reply = client.predict("When did he visit Pristina?", api_name="/ask")
    assert "Sorensen" in reply
    assert "About a week later" in reply


def test_page_is_served_while_the_model_loads(served, seeds_assistant):
    release = threading.Event()

    def slow_factory() -> Assistant:
        release.wait(timeout=60)
        return seeds_assistant

    loader = AssistantLoader(slow_factory)
    url = served(loader)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
    assert loader.status() == LOADING
    release.set()
    reply = Client(url, verbose=False).predict("How many troops serve in KFOR?", api_name="/ask")
    assert "KFOR" in reply


def test_article_text_cannot_inject_html(corpus_copy, tmp_path, embedder):
    (corpus_copy / "evil.txt").write_text(
        "KFOR attack report <script>alert('x')</script>\n\n"
        "The Zubin Potok checkpoint <img src=x onerror=alert(1)> was attacked by <b>forty</b> armed men in 2031.\n",
        "utf-8",
    )
    assistant = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index", embedder=embedder)
    answer = assistant.ask("How many armed men attacked the Zubin Potok checkpoint?")
    assert any(c.doc_id == "evil" for c in answer.citations)
    html_reply = render_answer(answer)
    assert "<script" not in html_reply and "<img" not in html_reply and "<b>forty" not in html_reply
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_reply
