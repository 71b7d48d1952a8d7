"""The Gradio chat page.

The page is served at once while the model and index load in a background thread; questions asked
before they are ready wait for them. The chat function is the API endpoint `/ask` (message in, the
rendered reply out; the conversation is kept per client session), and `/answer` returns the whole
answer as JSON.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Iterator

import gradio as gr

from askbalkans.answer import Answer, Citation
from askbalkans.assistant import Assistant

log = logging.getLogger(__name__)

EXAMPLES = [
    "Who is the EU special representative for the Kosovo-Serbia dialogue?",
    "How many troops serve in KFOR?",
    "When did the attack in Banjska take place?",
    "What did Mark Rutte ask Kosovo and Serbia to do?",
]
LOADING = "Loading the model and the index… the first start builds the index and can take a minute."
# Concurrent questions: the assistant is thread-safe, and each takes a few tens of milliseconds.
CONCURRENCY = 4
CSS = """
.askb-notice { color: var(--body-text-color-subdued); font-style: italic; margin: 0 0 .4em; }
.askb-differ { font-weight: 600; margin: 0 0 .4em; }
.askb-meta { color: var(--body-text-color-subdued); font-size: .85em; margin: .4em 0; }
.askb-sources blockquote {
  margin: .2em 0 .6em; padding-left: .6em; border-left: 3px solid var(--border-color-primary);
}
.askb-sources mark { background: #ffe58a; color: inherit; }
"""


class AssistantLoader:
    """Loads the Assistant in the background; `get` waits for it."""

    def __init__(self, factory: Callable[[], Assistant]):
        self._ready = threading.Event()
        self._assistant: Assistant | None = None
        self._error: Exception | None = None
        threading.Thread(target=self._load, args=(factory,), name="askbalkans-loader", daemon=True).start()

    def _load(self, factory: Callable[[], Assistant]) -> None:
        try:
            self._assistant = factory()
        except Exception as error:  # shown on the page instead of a dead spinner
            log.exception("loading the assistant failed")
            self._error = error
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def get(self) -> Assistant:
        self._ready.wait()
        if self._assistant is None:
            raise RuntimeError(f"the assistant could not start: {self._error}") from self._error
        return self._assistant

    def status(self) -> str:
        if not self.ready:
            return LOADING
        assistant = self._assistant
        if assistant is None:
            return f"The assistant could not start: {html.escape(str(self._error))}"
        skipped = "".join(
            f" Skipped {html.escape(s.path.name)}: {html.escape(s.reason)}." for s in assistant.corpus.skipped
        )
        return f"Ready: {html.escape(assistant.status)}.{skipped}"


def render_answer(answer: Answer) -> str:
    """The chat reply as one line of HTML; every piece of article or user text is escaped."""
    parts = ['<div class="askb-answer">']
    parts += [f'<p class="askb-notice">{html.escape(notice)}</p>' for notice in answer.notices]
    if answer.sources_differ:
        parts.append('<p class="askb-differ">The sources differ; each is quoted below.</p>')
    quoted = " ".join(
        html.escape(quote.text) + "".join(f"<sup>[{m}]</sup>" for m in quote.markers) for quote in answer.quotes
    )
    parts.append(f"<p>{quoted or html.escape(answer.text)}</p>")
    if answer.citations:
        parts.append(f'<p class="askb-meta">Confidence {answer.confidence:.2f}</p>')
        parts.append('<div class="askb-sources"><b>Sources</b><ol>')
        parts += [_render_citation(c) for c in answer.citations]
        parts.append("</ol></div>")
    parts.append("</div>")
    return "".join(parts).replace("\n", " ")


def _render_citation(citation: Citation) -> str:
    title = citation.title if len(citation.title) <= 120 else citation.title[:117] + "…"
    before, found, after = citation.passage.partition(citation.sentence)
    passage = (
        f"{html.escape(before)}<mark>{html.escape(found)}</mark>{html.escape(after)}"
        if found
        else html.escape(citation.passage)
    )
    return (
        f'<li value="{citation.marker}"><b>{html.escape(title)}</b> '
        f'<span class="askb-meta">({html.escape(citation.doc_id)}, characters {citation.start}–{citation.end})</span>'
        f"<blockquote>{passage}</blockquote></li>"
    )


def build_app(loader: AssistantLoader) -> gr.Blocks:
    def chat(message: str, history: list[dict], answers: list[Answer]) -> Iterator[tuple[str, list[Answer]]]:
        # The session's own Answers carry the conversation: the rendered replies are never parsed.
        if not loader.ready:
            yield LOADING, answers
        try:
            assistant = loader.get()
        except RuntimeError as error:
            yield html.escape(str(error)), answers
            return
        answer = assistant.ask(message, history=answers)
        yield render_answer(answer), [*answers, answer]

    def answer(question: str) -> dict:
        """The whole answer to `question` as JSON (text, citations, confidence, abstained, ...)."""
        return loader.get().ask(question).to_dict()

    with gr.Blocks(title="AskBalkans") as app:
        gr.Markdown(
            "# AskBalkans\nAsk about the Kosovo–Serbia dialogue. Every answer is quoted from the articles, "
            "with a citation for each sentence; when the articles do not say, the assistant says so."
        )
        status = gr.Markdown(loader.status())
        chatbot = gr.Chatbot(height=520, latex_delimiters=[], label="AskBalkans", buttons=["copy"])
        answers = gr.State([])
        gr.ChatInterface(
            chat,
            chatbot=chatbot,
            additional_inputs=[answers],
            additional_outputs=[answers],
            examples=[[example] for example in EXAMPLES],
            api_name="ask",
            api_description="Answer a question, with the session's conversation as context; returns the reply as HTML.",
            concurrency_limit=CONCURRENCY,
            flagging_mode="never",
        )
        gr.api(answer, api_name="answer", concurrency_limit=CONCURRENCY)
        timer = gr.Timer(1.0, active=not loader.ready)
        timer.tick(
            lambda: (loader.status(), gr.Timer(active=not loader.ready)),
            None,
            [status, timer],
            api_visibility="private",
        )
        app.load(loader.status, None, status, api_visibility="private")
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, **assistant_options) -> None:
    """Serve the chat page (blocking); `assistant_options` go to `Assistant`."""
    loader = AssistantLoader(lambda: Assistant(**{k: v for k, v in assistant_options.items() if v is not None}))
    build_app(loader).queue(default_concurrency_limit=CONCURRENCY).launch(server_name=host, server_port=port, css=CSS)
