"""The assistant: corpus, index, retriever and reader wired together behind `ask`.

`Assistant()` builds the defaults from `Settings` (the bundled MiniLM model, the embedded FAISS + BM25
store, weighted fusion, the extractive composer); any of them can be passed in instead.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from askbalkans.answer import Answer
from askbalkans.composer import Composer, Reader, ReaderCalibration
from askbalkans.composer.reader import load_reader
from askbalkans.config import Settings
from askbalkans.conversation import resolve_follow_up, turns_of
from askbalkans.corpus import Corpus, list_corpus
from askbalkans.embedding import Embedder, WordSimilarity, load_embedder
from askbalkans.indexer import IndexReport, open_index
from askbalkans.question import AnswerFinder
from askbalkans.retriever import Fusion, Retrieval, Retriever, WeightedFusion
from askbalkans.scoring import Confidence, SentenceScorer
from askbalkans.stores import Index, Store, open_store
from askbalkans.tagging import Tagger, load_tagger

log = logging.getLogger(__name__)

EMPTY_QUESTION = "Please type a question about the articles, for example: How many troops serve in KFOR?"
MAX_TOP_K = 100
_LAST_QUESTION = re.compile(r"[^.?!]*\?")


class Assistant:
    """Answers questions over one corpus. Safe to share between threads (the chat page does)."""

    def __init__(
        self,
        corpus_dir: str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        model: str | None = None,
        settings: Settings | None = None,
        *,
        corpus: Corpus | None = None,
        embedder: Embedder | None = None,
        store: Store | None = None,
        fusion: Fusion | None = None,
        tagger: Tagger | None = None,
        reader: Reader | None = None,
        rebuild: bool = False,
        show_progress: bool = False,
    ):
        """Load the corpus (from `corpus_dir`, or the given `corpus`) and its index, updating it if needed.

        Arguments left as None fall back to `settings`, itself defaulting to `Settings.from_env()`.
        """
        if settings is not None and not isinstance(settings, Settings):
            raise TypeError(f"settings must be a Settings, got {type(settings).__name__}")
        overrides: dict[str, Any] = {"corpus_dir": corpus_dir, "index_dir": index_dir, "model": model}
        self.settings = replace(
            settings if settings is not None else Settings.from_env(),
            **{name: value for name, value in overrides.items() if value is not None},
        )
        self.corpus = (
            corpus if corpus is not None else list_corpus(self.settings.corpus_dir, self.settings.max_article_bytes)
        )
        self.embedder = embedder or load_embedder(self.settings.model)
        self.store = store or open_store(self.settings)
        self.tagger = tagger or load_tagger()
        opened = open_index(
            self.corpus,
            self.store,
            self.settings,
            self.embedder,
            self.tagger,
            rebuild=rebuild,
            show_progress=show_progress,
        )
        self.index: Index = opened.index
        self.report: IndexReport = opened.report
        settings = self.settings
        self.retriever = Retriever(
            self.index,
            self.embedder,
            fusion or WeightedFusion(settings.dense_weight, settings.lexical_weight, settings.sentence_weight),
            settings.candidate_k,
        )
        self.finder = AnswerFinder(WordSimilarity(self.embedder))
        sentence_reader = None if settings.reader == "none" else load_reader(quantize=settings.reader == "int8")
        self.reader: Reader = reader or Composer(
            self.index,
            SentenceScorer(self.index, settings.sentence_weights, self.finder),
            Confidence(settings.confidence_weights, settings.confidence_bias),
            self.tagger,
            abstain_threshold=settings.scorer_abstain_threshold
            if sentence_reader is None
            else settings.abstain_threshold,
            answer_margin=settings.answer_margin,
            max_answer_sentences=settings.max_answer_sentences,
            required_answer_types=frozenset(settings.required_answer_types),
            sentence_reader=sentence_reader,
            reader_candidates=settings.reader_candidates,
            reader_calibration=ReaderCalibration(
                settings.reader_confidence_scale,
                settings.reader_confidence_bias,
                settings.reader_missing_type_penalty,
                settings.reader_scorer_confidence_scale,
            ),
            reader_scorer_weight=settings.reader_scorer_weight,
        )
        log.info("%s", self.report.summary())

    @property
    def status(self) -> str:
        """What opening the index did: loaded, updated (what changed) or rebuilt (why)."""
        return self.report.summary()

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[Answer | Mapping[str, Any]] | None = None,
    ) -> Answer:
        """Answer `question` from the corpus.

        `top_k`: passages to draw the answer from (default `Settings.top_k`). `history`: the conversation
        so far, as the `Answer`s given (or chat messages with text content), for follow-up questions.
        """
        if not isinstance(question, str):
            raise TypeError(f"question must be a str, got {type(question).__name__}")
        top_k = self._checked_top_k(top_k)
        turns = turns_of(history) if history is not None else []
        question, notices = prepare_question(question, self.settings.max_question_chars)
        if not question:
            return Answer.abstention("", EMPTY_QUESTION, notices=tuple(notices))
        standalone = resolve_follow_up(question, turns)
        if standalone != question:
            notices.append(f"Read as: {standalone}")
        return self.reader.compose(self.retrieve(standalone, top_k), question, tuple(notices))

    def retrieve(self, question: str, top_k: int | None = None) -> Retrieval:
        """The best `top_k` passages for `question`, as `ask` retrieves them (no follow-up resolution)."""
        return self.retriever.retrieve(question, self._checked_top_k(top_k))

    def _checked_top_k(self, top_k: int | None) -> int:
        if top_k is None:
            return self.settings.top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int):
            raise TypeError(f"top_k must be a whole number from 1 to {MAX_TOP_K}, got {top_k!r}")
        if not 1 <= top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be from 1 to {MAX_TOP_K}, got {top_k}")
        return top_k


def prepare_question(question: str, max_chars: int) -> tuple[str, list[str]]:
    """The question cleaned of control and invisible characters, cut to `max_chars`; plus notices.

    An over-long question keeps its last sentence ending in "?" when that fits, else its last `max_chars`
    characters: the question itself usually comes last, after the context a user pastes.
    """
    notices: list[str] = []
    text = unicodedata.normalize("NFC", question)
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
        asked = [m.group().strip() for m in _LAST_QUESTION.finditer(text)]
        if asked and asked[-1] and len(asked[-1]) <= max_chars:
            kept = asked[-1]
        else:  # the end, from a word boundary
            kept = text[-max_chars:]
            if text[-max_chars - 1] != " ":
                kept = kept.partition(" ")[2] or kept
        dropped = len(text) - len(kept)
        notices.append(
            f"Your question was {len(text)} characters long (limit {max_chars}): only “{_shorten(kept)}” was "
            f"used, and the other {dropped} characters were left out."
        )
        text = kept
    return text, notices


def _shorten(text: str, chars: int = 80) -> str:
    return text if len(text) <= chars else text[: chars - 1].rsplit(" ", 1)[0] + "…"


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The assistant over the configured corpus (seeds/ and index/ unless set otherwise), made once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant()
        return _default


def ask(question: str, top_k: int | None = None, history: Sequence[Answer | Mapping[str, Any]] | None = None) -> Answer:
    """Answer `question` over the default corpus. See `Assistant.ask`."""
    return default_assistant().ask(question, top_k=top_k, history=history)
