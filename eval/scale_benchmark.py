"""Large corpora: build, size, memory and per-question latency at 10k, 100k and 1M passages, per store.

    .venv/bin/python eval/scale_benchmark.py ../shared/benchmarks/squad-dev-v1.1.json [--sizes 10000 100000]
        [--stores embedded milvus] [--work DIR]

The corpus is SQuAD v1.1 dev's paragraphs, varied (sentences rotated, a numbered dateline added) until
the index holds the number of passages asked for, and it goes through the project's own corpus, chunker,
indexer, stores, retriever and composer. Embedding a million passages with MiniLM would take days on two
cores, so the encoder is a fast deterministic stand-in (each word's fixed random vector, summed and
normalised), and so is the tagger (numbers and years by pattern); everything else is the product's.

Corpora are indexed in incremental updates of 100,000 passages, as a growing corpus is (one update of a
million passages would hold all their chunks and vectors in the building process at once). Printed per
size and store: build throughput (passages/s), index size on disk, the time to open the index
in a fresh process and its resident memory, warm latency per question without the query embedding (p50,
p95), and for the embedded store the recall@10 of its passage search against exact search.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from askbalkans.config import Settings
from askbalkans.corpus import Corpus, make_article
from askbalkans.evaluation.metrics import percentile
from askbalkans.tagging import Span, Tagged, Token

DIMENSION = 384
QUESTIONS = 200
BUILD_STEP = 100_000


class StandInEmbedder:
    """Each word's fixed random vector (seeded by its hash), summed and normalised: fast, deterministic."""

    name = "stand-in"
    dimension = DIMENSION
    max_tokens = 256

    def __init__(self) -> None:
        self._words: dict[str, np.ndarray] = {}

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 2

    def _word(self, word: str) -> np.ndarray:
        vector = self._words.get(word)
        if vector is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
            self._words[word] = vector
        return vector

    def encode(self, texts: list[str], show_progress_bar: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row] += self._word(word)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)


class StandInTagger:
    """Numbers and years by pattern (spaCy would take hours on millions of sentences)."""

    name = "stand-in"
    _NUMBER = re.compile(r"\b\d[\d,.]*\b")

    def tag(self, texts: list[str]) -> list[Tagged]:
        tagged = []
        for text in texts:
            spans = tuple(
                Span("date" if re.fullmatch(r"(1[5-9]|20)\d\d", m.group()) else "number", m.start(), m.end())
                for m in self._NUMBER.finditer(text)
            )
            tokens = tuple(
                Token(m.group(), m.start(), m.group()[:1].isalpha(), False) for m in re.finditer(r"\S+", text)
            )
            tagged.append(Tagged(spans, tokens))
        return tagged


def varied_corpus(squad: Path, passages: int) -> tuple[Corpus, list[str]]:
    """SQuAD paragraphs, varied, as articles (about 1.3 passages each), and SQuAD's questions."""
    data = json.loads(squad.read_text("utf-8"))["data"]
    paragraphs = [(e["title"].replace("_", " "), p["context"]) for e in data for p in e["paragraphs"]]
    questions = [qa["question"] for e in data for p in e["paragraphs"] for qa in p["qas"]]
    articles = []
    for number in range(int(passages / 1.3)):
        title, text = paragraphs[number % len(paragraphs)]
        sentences = re.split(r"(?<=[.!?])\s+", text)
        turn = (number // len(paragraphs)) % max(1, len(sentences))
        body = " ".join(sentences[turn:] + sentences[:turn])
        articles.append(make_article(f"a{number:07d}", f"{title}\n\nArchive, record {number} - {body}\n"))
    return Corpus(tuple(articles)), questions


def build(corpus: Corpus, settings: Settings) -> tuple[float, int]:
    """Index `corpus` from scratch, as a growing corpus is: in incremental updates of BUILD_STEP passages
    (about BUILD_STEP / 1.3 articles), so that the building process holds one step in memory, not all."""
    from askbalkans.indexer import open_index
    from askbalkans.stores import open_store

    store = open_store(settings)
    embedder, tagger = StandInEmbedder(), StandInTagger()
    articles = corpus.articles
    started = time.perf_counter()
    step = int(BUILD_STEP / 1.3)
    for end in range(step, len(articles) + step, step):
        opened = open_index(Corpus(articles[:end]), store, settings, embedder, tagger, rebuild=end == step)
    return time.perf_counter() - started, opened.index.passage_count


def measure_in_fresh_process(settings_json: str, questions: list[str]) -> dict:
    """Open the index and ask the questions in a new process: its start-up, memory and latency."""
    script = f"""
import json, sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from scale_benchmark import StandInEmbedder, StandInTagger, measure_open_and_ask
print(json.dumps(measure_open_and_ask(json.loads(sys.argv[1]), json.loads(sys.stdin.read()))))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, settings_json], input=json.dumps(questions), capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"measuring failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_open_and_ask(settings_values: dict, questions: list[str]) -> dict:
    """Open the index (timed), then answer `questions` as the assistant does, without the query embedding."""
    from askbalkans.composer import Composer
    from askbalkans.embedding import WordSimilarity
    from askbalkans.indexer import index_spec
    from askbalkans.question import AnswerFinder
    from askbalkans.retriever import Retrieval, Retriever, WeightedFusion
    from askbalkans.scoring import Confidence, SentenceScorer
    from askbalkans.stores import open_store
    from askbalkans.text import terms

    settings = Settings(**settings_values)
    embedder, tagger = StandInEmbedder(), StandInTagger()
    started = time.perf_counter()
    index = open_store(settings).open(index_spec(settings, embedder, tagger))
    opened = time.perf_counter() - started
    finder = AnswerFinder(WordSimilarity(embedder))
    retriever = Retriever(index, embedder, WeightedFusion(0.25, 0.5, 0.75), settings.candidate_k)
    composer = Composer(
        index,
        SentenceScorer(index, settings.sentence_weights, finder),
        Confidence(settings.confidence_weights, settings.confidence_bias),
        tagger,
        abstain_threshold=settings.abstain_threshold,
        answer_margin=settings.answer_margin,
        max_answer_sentences=settings.max_answer_sentences,
        duplicate_similarity=settings.duplicate_similarity,
    )
    vectors = embedder.encode(questions)  # the query embedding is left out of the latency
    latencies = []
    for round_number in range(2):  # the first round warms caches up; the second is measured
        for question, vector in zip(questions, vectors, strict=True):
            began = time.perf_counter()
            query_terms = tuple(terms(question))
            hits = retriever.rank(vector, query_terms)[: settings.top_k]
            composer.compose(Retrieval(question, vector, query_terms, tuple(hits)), question)
            if round_number:
                latencies.append((time.perf_counter() - began) * 1000)
    recall = None
    if settings.store == "embedded":
        recall = hnsw_recall(index, vectors[:100])
    return {
        "open_s": opened,
        "rss_mb": peak_resident_mb(),
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "recall10": recall,
    }


def peak_resident_mb() -> float:
    """This process's peak resident memory since it started its program. (`ru_maxrss` would not do: after
    fork and exec it starts from the parent's resident size, which here is the large building process.)"""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def hnsw_recall(index, queries: np.ndarray) -> float:
    """Share of the exact top 10 passages that the store's passage search finds. A passage found that scores
    as high as the exact tenth counts: the varied corpus holds near-copies of each paragraph that tie."""
    ids = np.array(sorted(chunk for record in index.articles.values() for chunk in _passage_ids(record)))
    found = 0
    for query in queries:
        best: list[tuple[float, int]] = []
        for start in range(0, len(ids), 200_000):
            batch = ids[start : start + 200_000]
            scores = index.passage_vectors.similarities(query, batch)
            top = np.argpartition(-scores, min(10, len(scores) - 1))[:10]
            best += [(float(scores[i]), int(batch[i])) for i in top]
        tenth = sorted(best, reverse=True)[9][0]
        approximate, _ = index.passage_vectors.search(query, 10)
        found += int(np.sum(index.passage_vectors.similarities(query, approximate) >= tenth - 1e-5))
    return found / (10 * len(queries))


def _passage_ids(record) -> list[int]:
    from askbalkans.stores import chunk_id

    return [chunk_id(record.slot, n) for n in range(record.passages)]


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--stores", nargs="+", default=["embedded", "milvus"], choices=["embedded", "milvus"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/askbalkans-scale"))
    args = parser.parse_args()
    from askbalkans.stores.milvus_lite import MilvusLiteServer

    print("| passages | store | build (passages/s) | on disk | open (s) | memory (MB) | p50 / p95 (ms) | recall@10 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        corpus, questions = varied_corpus(args.squad, size)
        sample = random.Random(0).sample(questions, QUESTIONS)
        for store in args.stores:
            folder = args.work / f"{store}-{size}"
            if store == "milvus":
                server = MilvusLiteServer(folder / "milvus")
                uri = server.__enter__()
            else:
                server, uri = None, ""
            try:
                settings = Settings(
                    store=store,
                    index_dir=folder / "index",
                    milvus_uri=uri or Settings().milvus_uri,
                    milvus_collection=f"scale{size}",
                )
                seconds, passages = build(corpus, settings)
                values = {
                    "store": store,
                    "index_dir": str(folder / "index"),
                    "milvus_uri": settings.milvus_uri,
                    "milvus_collection": settings.milvus_collection,
                }
                measured = measure_in_fresh_process(json.dumps(values), sample)
                disk = folder_size(folder) / 1e6
                recall = f"{measured['recall10']:.3f}" if measured["recall10"] is not None else "-"
                print(
                    f"| {passages:,} | {store} | {passages / seconds:,.0f} ({seconds:,.0f} s) | {disk:,.0f} MB | "
                    f"{measured['open_s']:.1f} | {measured['rss_mb']:,.0f} | {measured['p50_ms']:.1f} / "
                    f"{measured['p95_ms']:.1f} | {recall} |",
                    flush=True,
                )
            finally:
                if server is not None:
                    server.__exit__(None, None, None)
    print(f"peak memory of the building process: {peak_resident_mb():,.0f} MB")


if __name__ == "__main__":
    main()
