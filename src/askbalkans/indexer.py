"""Indexer stage: keep a store in step with the corpus, embedding only the articles that changed.

The store records each article's SHA-256. Opening the index compares them with the corpus: added and
changed articles are chunked and embedded, removed ones dropped, all in one update of the store (which
a reader sees whole or not at all). A store built under other settings, another model or an older
format, or one found damaged, is rebuilt from scratch, and the report says why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from tqdm import tqdm  # type: ignore[import-untyped]  # comes with sentence-transformers

from askbalkans.chunker import ArticleChunks, Sentence, TokenBudget, chunk_article
from askbalkans.config import Settings
from askbalkans.corpus import Article, Corpus
from askbalkans.embedding import Embedder
from askbalkans.errors import CorpusError
from askbalkans.stores import ArticleEntry, ArticleRecord, Index, StaleIndex, Store, chunk_id
from askbalkans.tagging import Tagger
from askbalkans.text import AcronymCounts, AcronymEvidence, acronym_evidence

log = logging.getLogger(__name__)

FORMAT_VERSION = 10
_SHOWN = 5  # article ids named in a report, per kind of change
_UPDATE_ATTEMPTS = 3


@dataclass(frozen=True)
class IndexReport:
    """What opening the index did."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    rebuilt_because: str = ""  # why the whole index was rebuilt; "" when it was loaded or updated
    articles: int = 0
    passages: int = 0

    @property
    def updated(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt_because)

    def summary(self) -> str:
        size = f"{self.articles} articles, {self.passages} passages"
        if self.rebuilt_because:
            return f"rebuilt the index of {size} ({self.rebuilt_because})"
        if not self.updated:
            return f"loaded the index of {size}"
        changes = [
            f"{label} {len(ids)} ({_names(ids)})"
            for label, ids in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
            if ids
        ]
        return f"updated the index of {size}: {', '.join(changes)}"


def _names(ids: Sequence[str]) -> str:
    return ", ".join(ids[:_SHOWN]) + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


@dataclass(frozen=True)
class OpenedIndex:
    index: Index
    report: IndexReport


def index_spec(settings: Settings, embedder: Embedder, tagger: Tagger) -> dict:
    """What an index must have been built under to be used with `settings`, `embedder` and `tagger`."""
    return {
        "format_version": FORMAT_VERSION,
        "settings": settings.index_fingerprint(),
        "dimension": embedder.dimension,
        "tagger": tagger.name,
    }


def token_budget(settings: Settings, embedder: Embedder) -> TokenBudget:
    return TokenBudget(
        tokens=settings.passage_tokens,
        overlap_tokens=settings.passage_overlap_tokens,
        model_tokens=embedder.max_tokens,
        count_model_tokens=embedder.count_tokens,
    )


def open_index(
    corpus: Corpus,
    store: Store,
    settings: Settings,
    embedder: Embedder,
    tagger: Tagger,
    rebuild: bool = False,
    show_progress: bool = False,
) -> OpenedIndex:
    """The index of `corpus` in `store`, brought up to date first when the corpus changed. An update that
    finds the index changed since it was opened (another process updated it) starts again from the new one."""
    for _ in range(_UPDATE_ATTEMPTS - 1):
        try:
            return _open_index(corpus, store, settings, embedder, tagger, rebuild, show_progress)
        except _IndexChanged as changed:
            log.warning("updating the index again: %s", changed)
    return _open_index(corpus, store, settings, embedder, tagger, rebuild, show_progress)


class _IndexChanged(Exception):
    """The store refused an update: what it holds is no longer what the update was made from."""


def _open_index(
    corpus: Corpus,
    store: Store,
    settings: Settings,
    embedder: Embedder,
    tagger: Tagger,
    rebuild: bool,
    show_progress: bool,
) -> OpenedIndex:
    spec = index_spec(settings, embedder, tagger)
    rebuilt_because = "a rebuild was requested" if rebuild else ""
    stored: Mapping[str, ArticleRecord] = {}
    signatures: Mapping[str, str] = {}
    if not rebuild:
        try:
            index = store.open(spec)
            stored, signatures = index.articles, index.signatures
        except StaleIndex as stale:
            rebuilt_because = str(stale)
    current, refreshed = _compare(corpus, stored, signatures)
    added = tuple(doc_id for doc_id, article in current.items() if article and doc_id not in stored)
    changed = tuple(doc_id for doc_id, article in current.items() if article and doc_id in stored)
    removed = tuple(doc_id for doc_id in stored if doc_id not in current)
    if not (added or changed or removed or refreshed or rebuilt_because):
        return OpenedIndex(index, IndexReport(articles=len(stored), passages=index.passage_count))
    if not current:
        raise CorpusError("the corpus holds no article to index")
    log.warning(
        "updating the index: %s",
        rebuilt_because
        or f"{len(added)} added, {len(changed)} changed, {len(removed)} removed, "
        f"{len(refreshed)} files written again with the same text",
    )
    first_free_slot = 0 if rebuilt_because else index.next_slot
    to_embed = [article for article in current.values() if article]  # the added and the changed, in order
    entries = embed_articles(to_embed, first_free_slot, settings, embedder, tagger, show_progress)
    # Acronyms are corpus-wide; their counts are updated by the articles that change, not found again.
    acronyms = AcronymCounts() if rebuilt_because else index.acronym_counts.copy()
    for doc_id in () if rebuilt_because else changed + removed:
        acronyms.remove(stored_acronym_evidence(index, stored[doc_id]))
    for entry in entries:
        acronyms.add(acronym_evidence_of(entry.record.title, [s.text for s in entry.chunks.sentences]))
    try:
        store.update(spec, changed + removed, entries, acronyms, refreshed, from_scratch=bool(rebuilt_because))
    except StaleIndex as stale:
        raise _IndexChanged(str(stale)) from stale
    index = store.open(spec)
    report = IndexReport(
        added=() if rebuilt_because else added,
        changed=() if rebuilt_because else changed,
        removed=() if rebuilt_because else removed,
        rebuilt_because=rebuilt_because,
        articles=len(index.articles),
        passages=index.passage_count,
    )
    return OpenedIndex(index, report)


def _compare(
    corpus: Corpus, stored: Mapping[str, ArticleRecord], signatures: Mapping[str, str]
) -> tuple[dict[str, Article | None], list[ArticleRecord]]:
    """The corpus's usable articles by id: the article where it must be embedded (new, or its text changed),
    None where the index holds it as it is; and new records of the stored articles whose file was written
    again with the same text. A file is read only when its signature differs from the recorded one."""
    current: dict[str, Article | None] = {}
    refreshed = []
    for doc_id in corpus.doc_ids():
        signature = signatures.get(doc_id)
        if signature and signature == corpus.signature(doc_id):
            current[doc_id] = None
            continue
        record, article = stored.get(doc_id), corpus.article(doc_id)
        if article is None:  # unusable now: skipped (and removed from the index if it was there)
            continue
        if record is None or record.sha256 != article.sha256:
            current[doc_id] = article
        else:
            current[doc_id] = None
            if record.signature != article.signature:
                refreshed.append(replace(record, signature=article.signature))
    return current, refreshed


def embed_articles(
    articles: Sequence[Article],
    first_slot: int,
    settings: Settings,
    embedder: Embedder,
    tagger: Tagger,
    show_progress: bool = False,
) -> list[ArticleEntry]:
    """Chunk, tag and embed `articles`, giving them slots from `first_slot` on."""
    budget = token_budget(settings, embedder)
    chunked = tag_sentences([chunk_article(article, budget) for article in articles], tagger)
    log.info(
        "embedding %d passages and %d sentences",
        sum(len(c.passages) for c in chunked),
        sum(len(c.sentences) for c in chunked),
    )
    # One article per call: its vectors then depend on its text alone, not on what else this update embeds.
    passage_vectors, sentence_vectors = [], []
    for chunks in tqdm(chunked, disable=not show_progress, unit="article"):
        passage_vectors.append(embedder.encode([p.text for p in chunks.passages]))
        sentence_vectors.append(embedder.encode(sentence_texts_in_context(chunks.sentences)))
    return [
        ArticleEntry(
            record=ArticleRecord(
                doc_id=article.doc_id,
                sha256=article.sha256,
                signature=article.signature,
                slot=first_slot + number,
                title=article.title,
                sentences=len(chunks.sentences),
                passages=len(chunks.passages),
                byline=article.facts.byline,
                outlet=article.facts.outlet,
                dateline=article.facts.dateline,
                date=article.facts.date,
                url=article.facts.url,
                source=article.source,
            ),
            chunks=chunks,
            passage_vectors=passages,
            sentence_vectors=sentences,
        )
        for number, (article, chunks, passages, sentences) in enumerate(
            zip(articles, chunked, passage_vectors, sentence_vectors, strict=True)
        )
    ]


def tag_sentences(chunked: list[ArticleChunks], tagger: Tagger, batch: int = 2000) -> list[ArticleChunks]:
    """The chunks with each sentence's typed spans filled in. Tagged in batches, keeping only the spans: a
    corpus's tokens all at once would not fit in memory."""
    texts = [s.text for chunks in chunked for s in chunks.sentences]
    spans = iter([t.spans for start in range(0, len(texts), batch) for t in tagger.tag(texts[start : start + batch])])
    return [
        replace(chunks, sentences=tuple(replace(s, spans=next(spans)) for s in chunks.sentences)) for chunks in chunked
    ]


def sentence_texts_in_context(sentences: Sequence[Sentence]) -> list[str]:
    """What each sentence of an article is embedded as: itself, after the sentence before it when it leans
    on that one, so that "He also visited Belgrade." is found for a question about Sorensen."""
    return [f"{sentences[i - 1].text} {s.text}" if s.leans_on_previous else s.text for i, s in enumerate(sentences)]


def acronym_evidence_of(title: str, sentence_texts: Sequence[str]) -> AcronymEvidence:
    """What an article says about acronyms, read from what the index keeps of it (its title and
    sentences), so that an article's evidence can be taken back when it is removed."""
    return acronym_evidence([title, *sentence_texts])


def stored_acronym_evidence(index: Index, record: ArticleRecord) -> AcronymEvidence:
    first = chunk_id(record.slot, 0)
    sentences = index.chunks.sentences(range(first, first + record.sentences))
    return acronym_evidence_of(record.title, [sentences[i].text for i in sorted(sentences)])
