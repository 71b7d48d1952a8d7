"""Index stores: where passages, sentences and their vectors are kept, behind small interfaces.

A store holds, for each article, its sentences and passages with their embeddings. The indexer writes
to it (`Store.update`); the retriever and the composer read one consistent snapshot of it (`Index`)
through small interfaces: a dense index over passages, one over sentences, a lexical index over
passages, and the chunks' texts and spans.

Ids: each article gets a slot number when it is stored, and the n-th sentence (or passage) of the article
in slot s has the id `chunk_id(s, n)`. Neighbouring sentences of an article thus have neighbouring ids,
and an id says which article it belongs to, in every store.

`open_store(settings)` builds the store the settings name: "embedded" (FAISS and BM25 files in
`index_dir`, the default) or "milvus" (a Milvus server at `milvus_uri`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from askbalkans.chunker import ArticleChunks, Passage, Sentence
from askbalkans.config import Settings
from askbalkans.errors import SettingError
from askbalkans.text import AcronymCounts

SLOT_BITS = 20  # an article holds up to about a million sentences or passages

Ids = Sequence[int] | np.ndarray  # chunk ids, as a list or an int64 array


def chunk_id(slot: int, number: int) -> int:
    """The id of the `number`-th sentence (or passage) of the article in `slot`."""
    return (slot << SLOT_BITS) | number


def slot_of(chunk: int) -> int:
    return chunk >> SLOT_BITS


def cosines(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The inner product of each row of `vectors` with `query`, each row summed on its own. A matrix
    product (BLAS gemv) rounds a row by where it falls in the batch: a vector's similarity would then
    depend on the other ids asked for with it, whose order follows the slots, that is the index's history."""
    return np.einsum("ij,j->i", vectors, query.astype(vectors.dtype, copy=False))


@dataclass(frozen=True)
class ArticleRecord:
    """What the index records of an article."""

    doc_id: str
    sha256: str  # of the article's file: the indexer compares it to decide what to re-embed
    signature: str  # of the article's file (corpus.file_signature): while it is the same, the file is not read
    slot: int
    title: str
    sentences: int
    passages: int
    byline: str = ""  # what the article states about itself (corpus.ArticleFacts)
    outlet: str = ""
    dateline: str = ""
    date: str = ""  # YYYY-MM-DD
    url: str = ""
    source: str = ""  # the article's file, by its name in the corpus folder


@dataclass(frozen=True)
class ArticleEntry:
    """One article as the indexer hands it to a store: its chunks and their vectors."""

    record: ArticleRecord
    chunks: ArticleChunks
    passage_vectors: np.ndarray  # (passages, dimension), normalised
    sentence_vectors: np.ndarray  # (sentences, dimension), normalised


class DenseIndex(Protocol):
    """Normalised vectors by id, searched by inner product (cosine similarity)."""

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and similarities of the `k` nearest vectors, best first (the embedded store keeps those that
        tie the k-th too, so that which of tied vectors come back does not depend on their ids)."""
        ...

    def similarities(self, query: np.ndarray, ids: Ids) -> np.ndarray:
        """Similarity of `query` to the vector of each id."""
        ...

    def vectors(self, ids: Ids) -> np.ndarray:
        """The stored vectors of `ids`, one row each."""
        ...


class LexicalIndex(Protocol):
    """BM25 over the passages' terms."""

    def search(self, terms: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores of the (at most) `k` best passages with a positive score, best first (the embedded
        store keeps those that tie the k-th too)."""
        ...

    def scores(self, terms: Sequence[str], ids: Ids) -> np.ndarray:
        """The score of each passage of `ids`."""
        ...

    def document_frequencies(self, terms: Sequence[str]) -> np.ndarray:
        """In how many passages each of `terms` occurs (for the idf of the sentence scores)."""
        ...


class ChunkStore(Protocol):
    """The texts and spans of the stored sentences and passages."""

    def passages(self, ids: Ids) -> list[Passage]: ...

    def sentences(self, ids: Iterable[int]) -> dict[int, Sentence]:
        """The sentences of those ids that exist (an id past an article's end is left out)."""
        ...


@dataclass(frozen=True)
class Index:
    """One consistent snapshot of a store, for reading."""

    articles: Mapping[str, ArticleRecord]  # by doc_id
    signatures: Mapping[str, str]  # each article's file signature, by doc_id: what every start compares
    chunks: ChunkStore
    passage_vectors: DenseIndex
    sentence_vectors: DenseIndex
    lexical: LexicalIndex
    acronyms: Mapping[str, list[str]]  # acronym term -> the terms it stands for (acronym_counts.acronyms())
    acronym_counts: AcronymCounts  # what the articles say of acronyms, updated article by article
    passage_count: int
    sentence_count: int
    next_slot: int  # the first slot for new articles (no row in use has it or one above it)

    def sentence_ids(self, passage_id: int, passage: Passage) -> range:
        base = chunk_id(slot_of(passage_id), 0)
        return range(base + passage.first_sentence, base + passage.end_sentence)


class StaleIndex(Exception):
    """What is stored cannot be used as it is; the message says why."""


class Store(Protocol):
    """Where an index is kept: written article by article, read as a whole."""

    description: str  # for messages: "index/ (embedded)"

    def update(
        self,
        spec: Mapping[str, Any],
        remove: Iterable[str],
        add: Iterable[ArticleEntry],
        acronyms: AcronymCounts,
        refresh: Iterable[ArticleRecord] = (),
        from_scratch: bool = False,
    ) -> None:
        """Remove the articles `remove`, add `add`, all at once: a reader sees the old or the new index.
        `acronyms` are the counts after the change, kept with it. `refresh`: new records of stored articles
        (the same text and slot; a new file signature). `from_scratch`: drop everything stored first (a
        rebuild). Passages are matched lexically by `text.lexical_terms` under `acronyms.acronyms()`;
        where those differ from the stored ones, the terms of the passages they concern (see
        `acronym_term_groups`) are recomputed."""
        ...

    def open(self, spec: Mapping[str, Any]) -> Index:
        """A snapshot for reading; raises StaleIndex when what is stored was built under another spec
        (format, settings, model dimension, tagger), or is missing or damaged."""
        ...


def acronym_term_groups(old: Mapping[str, list[str]], new: Mapping[str, list[str]]) -> list[list[str]]:
    """Groups of terms such that a passage's lexical terms change, when the acronyms `old` become `new`,
    only if it holds every term of some group: for each changed acronym, the acronym itself, what it stood
    for, and what it now stands for (`text.with_acronyms` adds an acronym's expansion where the acronym is,
    and the acronym where its whole expansion is)."""
    changed = sorted(acronym for acronym in old.keys() | new.keys() if old.get(acronym) != new.get(acronym))
    groups = [[acronym] for acronym in changed]
    groups += [list(table[acronym]) for acronym in changed for table in (old, new) if table.get(acronym)]
    return groups


def describe_mismatch(found: Mapping[str, Any], expected: Mapping[str, Any]) -> str:
    """Why an index built under the spec `found` cannot serve `expected`; "" when it can."""
    if found.get("format_version") != expected["format_version"]:
        return f"the index format changed ({found.get('format_version')} -> {expected['format_version']})"
    reasons = []
    found_settings = found.get("settings", {})
    for name, value in expected["settings"].items():
        if found_settings.get(name) != value:
            reasons.append(f"setting {name} changed ({found_settings.get(name)!r} -> {value!r})")
    if found.get("dimension") != expected["dimension"]:
        reasons.append(f"embedding dimension changed ({found.get('dimension')} -> {expected['dimension']})")
    return "; ".join(reasons)


def open_store(settings: Settings) -> Store:
    """The store that `settings.store` names."""
    if settings.store == "embedded":
        from askbalkans.stores.embedded import EmbeddedStore

        return EmbeddedStore(settings.index_dir)
    if settings.store == "milvus":
        from askbalkans.stores.milvus import MilvusStore

        return MilvusStore(
            settings.milvus_uri, settings.milvus_collection, settings.milvus_token, settings.milvus_database
        )
    raise SettingError(f"store must be one of: embedded, milvus; got {settings.store!r}")
