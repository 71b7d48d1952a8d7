"""The assistant: corpus, index, retriever and reader wired together behind `ask`.

`Assistant()` builds the defaults from `Settings` (the bundled MiniLM model, the embedded FAISS + BM25
store, weighted fusion, the extractive composer); any of them can be passed in instead.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from askbalkans.answer import Answer
from askbalkans.chunker import split_sentences
from askbalkans.composer import Composer, Reader, ReaderCalibration
from askbalkans.composer.reader import load_reader
from askbalkans.config import Settings
from askbalkans.conversation import resolve_follow_up, turns_of
from askbalkans.corpus import Corpus, list_corpus
from askbalkans.embedding import Embedder, WordSimilarity, load_embedder
from askbalkans.indexer import IndexReport, open_index
from askbalkans.lexicon import QUESTION_WORDS
from askbalkans.question import AnswerFinder
from askbalkans.retriever import ArticleFilter, Fusion, Retrieval, Retriever, WeightedFusion, allowed_passages
from askbalkans.scoring import Confidence, SentenceScorer
from askbalkans.stores import Index, Store, open_store
from askbalkans.tagging import BatchedTagger, Tagger, load_tagger

log = logging.getLogger(__name__)

EMPTY_QUESTION = "Please type a question about the articles, for example: How many troops serve in KFOR?"
MAX_TOP_K = 100
# Of a question longer than its limit, only this many times the limit is read, from the end.
SCANNED_CHARS_PER_CHAR = 8
# Markup typed or pasted into a question: comments and tags (a "<" before a letter or "/"). A block's
# tag separates words ("<p>", "<br>"); an inline one ("<b>", "<a href=...>") does not.
_MARKUP = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*>", re.DOTALL)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li "
    "main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_ASKS = re.compile(
    rf"(?:{'|'.join(sorted(QUESTION_WORDS))}|can|could|will|would|should|tell me|please tell|explain|describe"
    r"|i (?:want|would like|'d like) to know)\b",
    re.IGNORECASE,
)


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
            corpus
            if corpus is not None
            else list_corpus(
                self.settings.corpus_dir, self.settings.max_article_bytes, self.settings.max_document_bytes
            )
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
        # Questions asked at once by several threads (the chat page) are tagged together. They are embedded
        # one by one: in one batch, a question's vector would depend on the others' in its last digits.
        query_tagger = BatchedTagger(self.tagger, settings.question_batch_window)
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
            query_tagger,
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
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        outlet: str = "",
    ) -> Answer:
        """Answer `question` from the corpus.

        `top_k`: passages to draw the answer from (default `Settings.top_k`). `history`: the conversation
        so far, as the `Answer`s given (or chat messages with text content), for follow-up questions.
        `since`, `until`, `outlet`: answer only from articles published in those days (inclusive) or by an
        outlet whose name contains `outlet` (see `ArticleFilter`).
        """
        if not isinstance(question, str):
            raise TypeError(f"question must be a str, got {type(question).__name__}")
        top_k = self._checked_top_k(top_k)
        only = ArticleFilter(since, until, outlet)
        turns = turns_of(history) if history is not None else []
        question, notices = prepare_question(question, self.settings.max_question_chars)
        if not question:
            return Answer.abstention("", EMPTY_QUESTION, notices=tuple(notices))
        standalone = resolve_follow_up(question, turns)
        if standalone != question:
            notices.append(f"Read as: {standalone}")
        allowed = allowed_passages(self.index, only) if only.active else None
        if allowed is not None:
            if not len(allowed):
                return Answer.abstention(question, self._nothing_matches(only), notices=tuple(notices))
            notices.append(f"Only articles {only.describe()}.")
        retrieval = self.retriever.retrieve(standalone, top_k, allowed)
        return self.reader.compose(retrieval, question, tuple(notices))

    def _nothing_matches(self, only: ArticleFilter) -> str:
        records = self.index.articles.values()
        dated = sorted(record.date for record in records if record.date)
        outlets = sorted({record.outlet for record in records if record.outlet})
        return (
            f"No article in the corpus is {only.describe()}. "
            f"Dates stated: {f'{dated[0]} to {dated[-1]}' if dated else 'none'} "
            f"({len(records) - len(dated)} of {len(records)} articles state no date); "
            f"outlets: {', '.join(outlets) if outlets else 'none stated'}."
        )

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
    """The question as its words: cleaned of control and invisible characters and of markup, cut to
    `max_chars`; plus notices.

    An over-long question keeps its last question sentence: the question itself usually comes last, after
    the context a user pastes, and may be followed by a "Thanks.". Only the end of a huge text is read
    (`SCANNED_CHARS_PER_CHAR` times `max_chars`), so its size costs nothing.
    """
    notices: list[str] = []
    asked_chars = len(question)
    text = question[-SCANNED_CHARS_PER_CHAR * max_chars :]
    unread = asked_chars > len(text)
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    text = " ".join(html.unescape(_MARKUP.sub(_tag_gap, text)).split())  # "<b>Who leads KFOR?</b>": its words
    if not any(ch.isalnum() for ch in text):
        if text:
            notices.append("The question has no letters or digits.")
        return "", notices
    if unread or len(text) > max_chars:
        kept = last_question(text, max_chars)
        notices.append(
            f"Your question was {asked_chars} characters long (limit {max_chars}): only “{_shorten(kept)}” was "
            f"used, and the other {asked_chars - len(kept)} characters were left out."
        )
        text = kept
    return text, notices


def _tag_gap(tag: re.Match[str]) -> str:
    return " " if (tag.group(2) or "").lower() in _BLOCK_TAGS else ""


def last_question(text: str, max_chars: int) -> str:
    """The last sentence of `text` that asks something (ends in "?", or opens with a question word or a
    request such as "tell me"), else its last sentence; cut to its last `max_chars` characters."""
    sentences = [text[start:end] for start, end in split_sentences(text, 0, len(text))]
    asking = [s for s in sentences if s.endswith("?") or _ASKS.match(s)]
    kept = (asking or sentences)[-1]
    if len(kept) > max_chars:  # from a word boundary
        cut = kept[-max_chars:]
        kept = cut if kept[-max_chars - 1] == " " else cut.partition(" ")[2] or cut
    return kept


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


def ask(
    question: str,
    top_k: int | None = None,
    history: Sequence[Answer | Mapping[str, Any]] | None = None,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    outlet: str = "",
) -> Answer:
    """Answer `question` over the default corpus. See `Assistant.ask`."""
    return default_assistant().ask(question, top_k=top_k, history=history, since=since, until=until, outlet=outlet)
