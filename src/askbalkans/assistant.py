"""The assistant: corpus, index, retriever and composer wired together behind `ask`."""

from __future__ import annotations

import logging
import threading
import unicodedata
from dataclasses import replace
from pathlib import Path

from askbalkans.composer import Answer, Composer
from askbalkans.config import Settings
from askbalkans.conversation import Message, resolve_follow_up
from askbalkans.corpus import Corpus, load_corpus
from askbalkans.embedding import Embedder
from askbalkans.indexer import open_index
from askbalkans.retriever import Retriever

log = logging.getLogger(__name__)

EMPTY_QUESTION = "Please type a question about the articles, for example: How many troops serve in KFOR?"


class Assistant:
    """Answers questions over one corpus. Safe to share between threads (the Gradio page does)."""

    def __init__(
        self,
        corpus_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        model: str | None = None,
        settings: Settings | None = None,
        corpus: Corpus | None = None,
        rebuild: bool = False,
        show_progress: bool = True,
    ):
        """Load the corpus (from `corpus_dir`, or the given `corpus`) and its index, building it if needed.

        Arguments left as None fall back to `settings`, itself defaulting to `Settings.from_env()`.
        """
        settings = settings or Settings.from_env()
        overrides = {"corpus_dir": corpus_dir, "index_dir": index_dir, "model": model}
        self.settings = replace(settings, **{k: _typed(k, v) for k, v in overrides.items() if v is not None})
        self.corpus = corpus or load_corpus(self.settings.corpus_dir)
        self.embedder = Embedder(self.settings.model)
        opened = open_index(self.corpus, self.settings, self.embedder, rebuild=rebuild, show_progress=show_progress)
        self.index = opened.index
        self.status = opened.reason  # what was loaded, or why the index was rebuilt
        self.retriever = Retriever(self.index, self.embedder, self.settings)
        self.composer = Composer(self.index, self.settings)
        log.info("%s", self.status)

    def ask(self, question: str, top_k: int | None = None, history: list[Message] | None = None) -> Answer:
        """Answer `question` from the corpus; `history` is the conversation so far (Gradio's messages format)."""
        question, notices = prepare_question(question, self.settings.max_question_chars)
        if not question:
            return Answer("", EMPTY_QUESTION, [], [], 0.0, True, notices=notices)
        standalone = resolve_follow_up(question, history or [])
        if standalone != question:
            notices.append(f"Read as: {standalone}")
        retrieval = self.retriever.retrieve(standalone, top_k)
        answer = self.composer.compose(retrieval, notices)
        answer.question = question
        return answer


def _typed(name: str, value):
    return Path(value) if name.endswith("_dir") else value


def prepare_question(question: str, max_chars: int) -> tuple[str, list[str]]:
    """The question cleaned of control and invisible characters, cut to `max_chars`; plus notices."""
    notices: list[str] = []
    text = unicodedata.normalize("NFC", str(question or ""))
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        if text:
            notices.append("The question has no letters or digits.")
        return "", notices
    if len(text) > max_chars:
        cut = text[:max_chars]
        cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
        notices.append(
            f"Your question was {len(text)} characters long; only the first {len(cut)} were used (limit {max_chars})."
        )
        text = cut
    return text, notices


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The assistant over the configured corpus (seeds/ and index/ unless set otherwise), made once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant()
        return _default


def ask(question: str, top_k: int | None = None, history: list[Message] | None = None) -> Answer:
    """Answer `question` over the default corpus. See `Assistant.ask`."""
    return default_assistant().ask(question, top_k=top_k, history=history)
