"""Indexer stage: embed passages and sentences, build the FAISS and BM25 indexes, persist them.

The files live in one folder (see index/README.md). Each file is written beside its final name and
renamed into place, and the manifest, written last, records a SHA-256 of every file: an index left
half-written by a crash fails its checksums and is rebuilt instead of being used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np

from askbalkans.chunker import Chunks, Passage, Sentence, TokenBudget, chunk_corpus
from askbalkans.config import Settings
from askbalkans.corpus import Corpus
from askbalkans.embedding import Embedder
from askbalkans.text import find_acronyms, terms, with_acronyms

log = logging.getLogger(__name__)

FORMAT_VERSION = 4
MANIFEST = "manifest.json"
PASSAGE_VECTORS = "passages.faiss"
SENTENCE_VECTORS = "sentences.npy"
STORE = "store.json"
LEXICAL = "bm25"


@dataclass(frozen=True)
class Index:
    titles: dict[str, str]  # doc_id -> title
    sentences: list[Sentence]
    passages: list[Passage]
    passage_vectors: faiss.Index  # inner product over normalised vectors: cosine similarity
    sentence_vectors: np.ndarray  # (len(sentences), dimension), normalised
    lexical: bm25s.BM25  # over the passages
    acronyms: dict[str, list[str]]  # acronym term -> the terms it stands for (see text.find_acronyms)
    manifest: dict


@dataclass(frozen=True)
class OpenedIndex:
    index: Index
    rebuilt: bool
    reason: str  # why it was rebuilt, or what was loaded


def manifest_for(corpus: Corpus, settings: Settings, dimension: int) -> dict:
    """What an index built now from `corpus` with `settings` would record (files' checksums aside)."""
    return {
        "format_version": FORMAT_VERSION,
        "settings": settings.index_fingerprint(),
        "dimension": dimension,
        "articles": corpus.hashes(),
    }


def build_index(corpus: Corpus, settings: Settings, embedder: Embedder, show_progress: bool = True) -> Index:
    budget = TokenBudget(
        tokens=settings.passage_tokens,
        overlap_tokens=settings.passage_overlap_tokens,
        model_tokens=embedder.max_tokens,
        count_model_tokens=embedder.count_tokens,
    )
    chunks = chunk_corpus(corpus.articles, budget)
    if not chunks.passages:
        raise ValueError("the corpus holds no text to index")
    log.info("embedding %d passages and %d sentences", len(chunks.passages), len(chunks.sentences))
    passage_matrix = embedder.encode([p.text for p in chunks.passages], show_progress_bar=show_progress)
    sentence_vectors = embedder.encode(sentence_texts_in_context(chunks), show_progress_bar=show_progress)
    passage_vectors = faiss.IndexFlatIP(embedder.dimension)
    passage_vectors.add(passage_matrix)
    acronyms = find_acronyms([text for article in corpus.articles for text in (article.title, article.text)])
    lexical = bm25s.BM25()
    lexical.index([lexical_terms(p, acronyms) for p in chunks.passages], show_progress=False)
    return Index(
        titles={article.doc_id: article.title for article in corpus.articles},
        sentences=chunks.sentences,
        passages=chunks.passages,
        passage_vectors=passage_vectors,
        sentence_vectors=sentence_vectors,
        lexical=lexical,
        acronyms=acronyms,
        manifest=manifest_for(corpus, settings, embedder.dimension),
    )


def sentence_texts_in_context(chunks: Chunks) -> list[str]:
    """What each sentence is embedded as: itself, after the sentence before it when it leans on that one,
    so that "He also visited Belgrade." is found for a question about Sorensen."""
    sentences = chunks.sentences
    return [f"{sentences[i - 1].text} {s.text}" if s.leans_on_previous else s.text for i, s in enumerate(sentences)]


def lexical_terms(passage: Passage, acronyms: dict[str, list[str]]) -> list[str]:
    # The title's words count for every passage of the article ("Super Bowl 50" questions find the
    # passages of that article); bm25s needs at least one term per document.
    return with_acronyms(terms(f"{passage.title}\n{passage.text}"), acronyms) or [""]


def save_index(index: Index, folder: Path) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = f".tmp-{os.getpid()}"

    def replace_file(name: str, write) -> None:
        temporary = folder / (name + suffix)
        write(temporary)
        os.replace(temporary, folder / name)

    replace_file(PASSAGE_VECTORS, lambda path: faiss.write_index(index.passage_vectors, str(path)))
    replace_file(SENTENCE_VECTORS, lambda path: _save_array(path, index.sentence_vectors))
    replace_file(STORE, lambda path: path.write_text(json.dumps(_store(index), ensure_ascii=False), "utf-8"))
    _replace_folder(folder / LEXICAL, lambda path: index.lexical.save(str(path), show_progress=False))
    manifest = dict(index.manifest, files=_checksums(folder))
    replace_file(MANIFEST, lambda path: path.write_text(json.dumps(manifest, indent=2), "utf-8"))


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:  # np.save on a path would append ".npy" to the temporary name
        np.save(handle, array, allow_pickle=False)


def _replace_folder(target: Path, write) -> None:
    temporary = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    write(temporary)
    old = target.with_name(target.name + f".old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(temporary, target)
    shutil.rmtree(old, ignore_errors=True)


def _store(index: Index) -> dict:
    return {
        "titles": index.titles,
        "acronyms": index.acronyms,
        "sentences": [[s.doc_id, s.start, s.end, s.leans_on_previous, s.text] for s in index.sentences],
        "passages": [[p.doc_id, p.first_sentence, p.end_sentence] for p in index.passages],
    }


def _index_files(folder: Path) -> list[Path]:
    files = [folder / PASSAGE_VECTORS, folder / SENTENCE_VECTORS, folder / STORE]
    lexical = folder / LEXICAL
    return files + (sorted(p for p in lexical.iterdir() if p.is_file()) if lexical.is_dir() else [])


def _checksums(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in _index_files(folder)
    }


class StaleIndex(Exception):
    """The index on disk cannot be used; the message says why."""


def load_index(folder: Path, expected: dict) -> Index:
    """Load the index in `folder` if its manifest matches `expected` (see `manifest_for`), else raise StaleIndex."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise StaleIndex(f"no index in {folder} yet")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        recorded_files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as error:
        raise StaleIndex(f"the manifest is corrupt ({error})") from error
    mismatch = describe_mismatch({k: v for k, v in manifest.items() if k != "files"}, expected)
    if mismatch:
        raise StaleIndex(mismatch)
    for name, checksum in recorded_files.items():
        path = folder / name
        if not path.is_file():
            raise StaleIndex(f"index file {name} is missing")
        if hashlib.sha256(path.read_bytes()).hexdigest() != checksum:
            raise StaleIndex(f"index file {name} is corrupt (checksum mismatch)")
    try:
        return _read_index(folder, manifest)
    except Exception as error:  # anything unreadable in files that passed their checksums
        raise StaleIndex(f"the index files cannot be read ({error})") from error


def _read_index(folder: Path, manifest: dict) -> Index:
    store = json.loads((folder / STORE).read_text("utf-8"))
    sentences = [
        Sentence(doc_id, start, end, text, leaning) for doc_id, start, end, leaning, text in store["sentences"]
    ]
    titles = store["titles"]
    passages = [
        Passage(doc_id, titles[doc_id], first, end, " ".join(s.text for s in sentences[first:end]))
        for doc_id, first, end in store["passages"]
    ]
    passage_vectors = faiss.read_index(str(folder / PASSAGE_VECTORS))
    sentence_vectors = np.load(folder / SENTENCE_VECTORS, allow_pickle=False)
    lexical = bm25s.BM25.load(str(folder / LEXICAL), show_progress=False)
    dimension = manifest["dimension"]
    if passage_vectors.ntotal != len(passages) or passage_vectors.d != dimension:
        raise ValueError("passage vectors do not match the passage store")
    if sentence_vectors.shape != (len(sentences), dimension):
        raise ValueError("sentence vectors do not match the sentence store")
    return Index(titles, sentences, passages, passage_vectors, sentence_vectors, lexical, store["acronyms"], manifest)


def describe_mismatch(found: dict, expected: dict) -> str:
    """Why an index recorded as `found` does not fit `expected`; "" when it does."""
    if found.get("format_version") != expected["format_version"]:
        return f"the index format changed ({found.get('format_version')} -> {expected['format_version']})"
    reasons = []
    found_settings = found.get("settings", {})
    for name, value in expected["settings"].items():
        if found_settings.get(name) != value:
            reasons.append(f"setting {name} changed ({found_settings.get(name)!r} -> {value!r})")
    if found.get("dimension") != expected["dimension"]:
        reasons.append(f"embedding dimension changed ({found.get('dimension')} -> {expected['dimension']})")
    found_articles, expected_articles = found.get("articles", {}), expected["articles"]
    for label, ids in (
        ("added", expected_articles.keys() - found_articles.keys()),
        ("removed", found_articles.keys() - expected_articles.keys()),
        (
            "changed",
            {i for i in expected_articles.keys() & found_articles.keys() if found_articles[i] != expected_articles[i]},
        ),
    ):
        if ids:
            shown = ", ".join(sorted(ids)[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            reasons.append(f"article{'s' if len(ids) > 1 else ''} {label}: {shown}")
    return "; ".join(reasons)


def open_index(
    corpus: Corpus, settings: Settings, embedder: Embedder, rebuild: bool = False, show_progress: bool = True
) -> OpenedIndex:
    """Load the index for `corpus`, or build and save it (saying why) when it is missing, stale or corrupt."""
    expected = manifest_for(corpus, settings, embedder.dimension)
    if rebuild:
        reason = "a rebuild was requested"
    else:
        try:
            index = load_index(settings.index_dir, expected)
        except StaleIndex as stale:
            reason = str(stale)
        else:
            return OpenedIndex(
                index, False, f"loaded the index of {len(index.titles)} articles, {len(index.passages)} passages"
            )
    log.warning("building the index: %s", reason)
    index = build_index(corpus, settings, embedder, show_progress=show_progress)
    save_index(index, settings.index_dir)
    return OpenedIndex(index, True, f"rebuilt the index ({reason})")
