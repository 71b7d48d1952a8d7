"""Speed and memory of AskBalkans on this machine: prints figures, asserts nothing.

    .venv/bin/python eval/benchmark.py [--corpus seeds] [--repeat 5]

Reports the time to import and load the model, to build the index from scratch and to load it again,
the warm latency per question (p50, p95, max over the gold questions, `--repeat` rounds), throughput
with 4 threads asking at once, and the peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from askbalkans.config import PROJECT_ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "seeds")
    parser.add_argument("--gold", type=Path, default=PROJECT_ROOT / "eval" / "gold.jsonl")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    from askbalkans import Assistant
    from askbalkans.embedding import SentenceTransformerEmbedder
    from askbalkans.evaluation.datasets import load_gold
    from askbalkans.evaluation.metrics import percentile

    SentenceTransformerEmbedder()
    print(f"import and model load: {time.perf_counter() - started:.2f} s")

    with tempfile.TemporaryDirectory() as index_dir:
        started = time.perf_counter()
        assistant = Assistant(corpus_dir=args.corpus, index_dir=index_dir, show_progress=False)
        build = time.perf_counter() - started
        print(
            f"index build ({len(assistant.index.articles)} articles, {assistant.index.passage_count} passages, "
            f"{assistant.index.sentence_count} sentences), model load included: {build:.2f} s"
        )
        started = time.perf_counter()
        Assistant(corpus_dir=args.corpus, index_dir=index_dir, show_progress=False)
        print(f"start with a built index, model load included: {time.perf_counter() - started:.2f} s")

        questions = [q.question for q in load_gold(args.gold)]
        assistant.ask(questions[0])
        latencies = []
        for _ in range(args.repeat):
            for question in questions:
                started = time.perf_counter()
                assistant.ask(question)
                latencies.append((time.perf_counter() - started) * 1000)
        print(
            f"warm latency over {len(latencies)} questions: p50 {percentile(latencies, 0.5):.1f} ms, "
            f"p95 {percentile(latencies, 0.95):.1f} ms, max {max(latencies):.1f} ms, "
            f"mean {statistics.fmean(latencies):.1f} ms"
        )

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(assistant.ask, questions * args.repeat))
        elapsed = time.perf_counter() - started
        print(f"4 threads asking at once: {len(questions) * args.repeat / elapsed:.1f} questions/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
