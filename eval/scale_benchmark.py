"""Large corpora: build, size, memory and per-question latency at 10k, 100k and 1M passages, per store.

    .venv/bin/python eval/scale_benchmark.py ../shared/benchmarks/squad-dev-v1.1.json [--sizes 10000 100000]
        [--stores embedded milvus] [--work DIR] [--files]

The corpus is made of SQuAD v1.1 dev's sentences: its paragraphs first, then articles of 3 to 6 sentences
drawn from one Wikipedia article's paragraphs (seeded), each with a numbered dateline, until the index
holds the number of passages asked for. It goes through the project's own corpus, chunker, indexer,
stores, retriever and composer. Embedding a million passages with MiniLM would take days on two cores,
so the encoder is a stand-in: every SQuAD sentence and question is embedded once with the product's
model (about a minute, cached in the work folder), and a text is embedded as the normalised sum of the
vectors of the sentences it is made of (a piece that is no SQuAD sentence, such as a single word, gets a
fixed random vector). Passages thus get vectors like those the model gives them (MiniLM pools its token
vectors by their mean), with the same neighbourhoods, which is what an approximate index's recall depends
on. The tagger is a stand-in too (numbers and years by pattern); everything else is the product's.

Corpora are indexed in incremental updates of 100,000 passages, as a growing corpus is (one update of a
million passages would hold all their chunks and vectors in the building process at once). Printed per
size and store: build throughput (passages/s), index size on disk, the time to open the index
in a fresh process, its peak resident memory and its own (anonymous) part, warm latency per question
without the query embedding (p50, p95), for the embedded store the recall@10 of its passage search
against exact search and the number of segments, and with `--files` (the corpus written as files, the
index built from the folder) the assistant's start without its model: listing the folder, opening the
index and finding that nothing changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
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
PASSAGES_PER_ARTICLE = 1.4  # measured on this corpus with the default passage budget
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_DATELINE = re.compile(r"^Archive, record \d+ - ")


def squad_texts(squad: Path) -> tuple[dict[str, list[str]], list[str]]:
    """SQuAD's sentences, by Wikipedia article (one list per paragraph), and its questions."""
    data = json.loads(squad.read_text("utf-8"))["data"]
    paragraphs: dict[str, list[str]] = {}
    for entry in data:
        for paragraph in entry["paragraphs"]:
            paragraphs.setdefault(entry["title"].replace("_", " "), []).append(paragraph["context"])
    questions = [qa["question"] for e in data for p in e["paragraphs"] for qa in p["qas"]]
    return paragraphs, questions


def sentence_vectors(squad: Path, questions: list[str], work: Path) -> Path:
    """Embed SQuAD's sentences and `questions` with the product's model, once: the stand-in's table."""
    paragraphs, _ = squad_texts(squad)
    texts = sorted(
        {s for contexts in paragraphs.values() for c in contexts for s in _SENTENCE_END.split(c)} | set(questions)
    )
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    table = work / f"stand-in-{key}.npz"
    if not table.exists():
        from askbalkans.embedding import SentenceTransformerEmbedder

        work.mkdir(parents=True, exist_ok=True)
        vectors = SentenceTransformerEmbedder().encode(texts).astype(np.float32)
        np.savez(table, texts=np.array(texts), vectors=vectors)
    return table


class StandInEmbedder:
    """A text's vector is the normalised sum of the model's vectors of the SQuAD sentences it is made of,
    looked up in a table; a piece that is none of them gets its own fixed random vector."""

    name = "stand-in"
    dimension = DIMENSION
    max_tokens = 256

    def __init__(self, table: Path) -> None:
        with np.load(table) as loaded:
            self._vectors = loaded["vectors"]
            self._row = {text: row for row, text in enumerate(loaded["texts"].tolist())}
        self.looked_up = self.pieces = 0

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 2

    def _piece(self, piece: str) -> np.ndarray:
        row = self._row.get(_DATELINE.sub("", piece))
        self.pieces += 1
        if row is not None:
            self.looked_up += 1
            return self._vectors[row]
        seed = int.from_bytes(hashlib.blake2b(piece.encode(), digest_size=8).digest(), "little")
        vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def encode(self, texts: list[str], show_progress_bar: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for piece in _SENTENCE_END.split(text.strip()):
                vectors[row] += self._piece(piece)
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
    """SQuAD's paragraphs, then articles of 3 to 6 sentences of one Wikipedia article's paragraphs (the
    n-th article's drawn with seed n), and SQuAD's questions."""
    paragraphs, questions = squad_texts(squad)
    titles = sorted(paragraphs)
    pools = {title: [s for c in paragraphs[title] for s in _SENTENCE_END.split(c)] for title in titles}
    originals = [(title, context) for title in titles for context in paragraphs[title]]
    articles = []
    for number in range(int(passages / PASSAGES_PER_ARTICLE)):
        if number < len(originals):
            title, body = originals[number]
        else:
            draw = random.Random(number)
            title = titles[number % len(titles)]
            pool = pools[title]
            body = " ".join(pool[i] for i in sorted(draw.sample(range(len(pool)), min(len(pool), draw.randint(3, 6)))))
        articles.append(make_article(f"a{number:07d}", f"{title}\n\nArchive, record {number} - {body}\n"))
    return Corpus(tuple(articles)), questions


def build(corpus: Corpus, settings: Settings, embedder: StandInEmbedder, files: Path | None) -> tuple[float, int]:
    """Index `corpus` from scratch, as a growing corpus is: in incremental updates of BUILD_STEP passages
    (about BUILD_STEP / PASSAGES_PER_ARTICLE articles), so that the building process holds one step in memory,
    not all. With `files`, each step's articles are first written there as files, and the index is brought up
    to date from that folder, as the assistant does it."""
    from askbalkans.corpus import list_corpus
    from askbalkans.indexer import open_index
    from askbalkans.stores import open_store

    store = open_store(settings)
    tagger = StandInTagger()
    articles = corpus.articles
    started = time.perf_counter()
    step = int(BUILD_STEP / PASSAGES_PER_ARTICLE)
    if files:
        shutil.rmtree(files, ignore_errors=True)
        files.mkdir(parents=True)
    for end in range(step, len(articles) + step, step):
        if files:
            for article in articles[end - step : end]:
                (files / f"{article.doc_id}.txt").write_text(article.text, "utf-8")
        step_corpus = list_corpus(files) if files else Corpus(articles[:end])
        opened = open_index(step_corpus, store, settings, embedder, tagger, rebuild=end == step)
    return time.perf_counter() - started, opened.index.passage_count


def measure_in_fresh_process(settings_json: str, questions: list[str], table: Path, files: Path | None) -> dict:
    """Open the index and ask the questions in a new process: its start-up, memory and latency."""
    script = f"""
import json, sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from pathlib import Path
from scale_benchmark import measure_open_and_ask
files = Path(sys.argv[3]) if sys.argv[3] else None
print(json.dumps(measure_open_and_ask(json.loads(sys.argv[1]), json.loads(sys.stdin.read()), Path(sys.argv[2]), files)))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, settings_json, str(table), str(files or "")],
        input=json.dumps(questions),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"measuring failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_open_and_ask(settings_values: dict, questions: list[str], table: Path, files: Path | None) -> dict:
    """Open the index (timed), then answer `questions` as the assistant does, without the query embedding.
    With `files` (the corpus folder), also time the assistant's start without its model: listing the folder,
    opening the index and finding that nothing changed."""
    from askbalkans.composer import Composer
    from askbalkans.embedding import WordSimilarity
    from askbalkans.indexer import index_spec
    from askbalkans.question import AnswerFinder
    from askbalkans.retriever import Retrieval, Retriever, WeightedFusion
    from askbalkans.scoring import Confidence, SentenceScorer
    from askbalkans.stores import open_store
    from askbalkans.text import terms

    settings = Settings(**settings_values)
    embedder, tagger = StandInEmbedder(table), StandInTagger()
    started = time.perf_counter()
    index = open_store(settings).open(index_spec(settings, embedder, tagger))
    opened = time.perf_counter() - started
    start = None
    if files:
        from askbalkans.corpus import list_corpus
        from askbalkans.indexer import open_index

        started = time.perf_counter()
        report = open_index(list_corpus(files), open_store(settings), settings, embedder, tagger).report
        start = time.perf_counter() - started
        assert not report.updated, report.summary()
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
    serving_mb, own_mb = peak_resident_mb(), anonymous_mb()  # before the recall check, which reads every vector
    recall = None
    if settings.store == "embedded":
        recall = hnsw_recall(index, vectors[:100])
    return {
        "open_s": opened,
        "start_s": start,
        "rss_mb": serving_mb,
        "anon_mb": own_mb,
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "recall10": recall,
    }


def peak_resident_mb() -> float:
    """This process's peak resident memory since it started its program. (`ru_maxrss` would not do: after
    fork and exec it starts from the parent's resident size, which here is the large building process.)"""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def anonymous_mb() -> float:
    """This process's own resident memory: without the pages of mapped index files, which belong to the
    page cache (shared with other readers, and dropped by the system when memory runs short)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("RssAnon:")[1].split()[0]) / 1024


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
    parser.add_argument(
        "--files", action="store_true", help="write the corpus as files and build and start from the folder"
    )
    args = parser.parse_args()
    from askbalkans.stores.milvus_lite import MilvusLiteServer

    table = sentence_vectors(args.squad, squad_texts(args.squad)[1], args.work)
    embedder = StandInEmbedder(table)
    print(
        "| passages | store | build (passages/s) | on disk | open (s) | start (s) | peak memory / own (MB) "
        "| p50 / p95 (ms) | recall@10 | segments |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
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
                files = folder / "corpus" if args.files else None
                seconds, passages = build(corpus, settings, embedder, files)
                values = {
                    "store": store,
                    "index_dir": str(folder / "index"),
                    "milvus_uri": settings.milvus_uri,
                    "milvus_collection": settings.milvus_collection,
                }
                measured = measure_in_fresh_process(json.dumps(values), sample, table, files)
                disk = (folder_size(folder) - (folder_size(files) if files else 0)) / 1e6  # the index's
                segments = (
                    len(json.loads((folder / "index" / (folder / "index" / "CURRENT").read_text() / "manifest.json")
                                   .read_text())["segments"]) if store == "embedded" else "-"
                )  # fmt: skip
                start = f"{measured['start_s']:.1f}" if measured["start_s"] is not None else "-"
                recall = f"{measured['recall10']:.3f}" if measured["recall10"] is not None else "-"
                print(
                    f"| {passages:,} | {store} | {passages / seconds:,.0f} ({seconds:,.0f} s) | {disk:,.0f} MB | "
                    f"{measured['open_s']:.1f} | {start} | {measured['rss_mb']:,.0f} / {measured['anon_mb']:,.0f} | "
                    f"{measured['p50_ms']:.1f} / {measured['p95_ms']:.1f} | {recall} | {segments} |",
                    flush=True,
                )
            finally:
                if server is not None:
                    server.__exit__(None, None, None)
    print(f"peak memory of the building process: {peak_resident_mb():,.0f} MB")
    print(f"pieces of text the stand-in found in its table: {embedder.looked_up / max(embedder.pieces, 1):.3f}")


if __name__ == "__main__":
    main()
