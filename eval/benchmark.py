"""Speed and memory of AskBalkans on this machine: prints figures, asserts nothing.

    .venv/bin/python eval/benchmark.py [--corpus seeds] [--repeat 5]

Reports the time to import and load the model, to build the index from scratch and to load it again,
the warm latency per question (p50, p95, max over the gold questions, `--repeat` rounds), throughput
with 4 threads asking at once, and the peak resident memory; then, for `app.py` started as a user
starts it (`--serving`, on by default), the time from the start of the process to the first response
on its port, to the chat page, and to the first answer, with the index built fresh and already built.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from askbalkans.config import PROJECT_ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "seeds")
    parser.add_argument("--gold", type=Path, default=PROJECT_ROOT / "eval" / "gold.jsonl")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-serving", dest="serving", action="store_false", help="skip the cold-start figures")
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
    if args.serving:
        with tempfile.TemporaryDirectory() as index_dir:
            for label in ("index built fresh", "index already built"):
                port_open, page, answer = cold_start(args.corpus, Path(index_dir))
                print(
                    f"app.py cold start ({label}): port answers after {port_open:.2f} s, chat page after "
                    f"{page:.2f} s, first answer after {answer:.2f} s"
                )


def cold_start(corpus: Path, index_dir: Path) -> tuple[float, float, float]:
    """Seconds from starting `app.py` to: any HTTP response on its port, the chat page (200), an answer."""
    from gradio_client import Client

    from askbalkans.server import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    environment = {**os.environ, "ASKBALKANS_CORPUS": str(corpus), "ASKBALKANS_INDEX": str(index_dir)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "app.py"), "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port_open = page = 0.0
        while not page:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    page = time.perf_counter() - started if response.status == 200 else 0.0
            except urllib.error.HTTPError:  # the loading page (503)
                pass
            except OSError:
                time.sleep(0.05)
                continue
            port_open = port_open or time.perf_counter() - started
            time.sleep(0.05)
        Client(url, verbose=False).predict("How many troops serve in KFOR?", api_name="/ask")
        return port_open, page, time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
