"""Speed and memory of AskBalkans on this machine: prints figures, asserts nothing.

    .venv/bin/python eval/benchmark.py [--corpus seeds] [--repeat 5] [--serving-only] [--starts 3]

Reports the time to import and load the model, to build the index from scratch and to load it again,
the warm latency per question (p50, p95, max over the gold questions, `--repeat` rounds), throughput
with 4 threads asking at once, and the peak resident memory; then, for `app.py` started as a user
starts it (`--serving`, on by default), the time from the start of the process to the first response
on its port, to the chat page, and to the first answer, with the index built fresh and already built
(`--starts` times: the machine's load varies).
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
    parser.add_argument("--serving-only", action="store_true", help="only the cold-start figures")
    parser.add_argument("--starts", type=int, default=1, help="cold starts with the index already built (default 1)")
    parser.add_argument(
        "--squad", type=Path, help="also time adding one article to an index of 2,000 of this file's paragraphs"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/askbalkans-benchmark"), help="--squad: its index")
    args = parser.parse_args()
    if not args.serving_only:
        in_process(args)
    if args.serving:
        with tempfile.TemporaryDirectory() as index_dir:
            labels = ["index built fresh"] + ["index already built"] * args.starts
            for number, label in enumerate(labels):
                port_open, page, answer = cold_start(args.corpus, Path(index_dir), number == len(labels) - 1)
                print(
                    f"app.py cold start ({label}): port answers after {port_open:.2f} s, chat page after "
                    f"{page:.2f} s, first answer after {answer:.2f} s"
                )


def in_process(args: argparse.Namespace) -> None:
    """Model load, index build and load, warm latency, throughput and memory, in this process."""
    started = time.perf_counter()
    from askbalkans import Assistant
    from askbalkans.embedding import SentenceTransformerEmbedder
    from askbalkans.evaluation.datasets import load_gold

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
        warm_latency(args.corpus, Path(index_dir), questions, args.repeat)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(assistant.ask, questions * args.repeat))
        elapsed = time.perf_counter() - started
        print(f"4 threads asking at once: {len(questions) * args.repeat / elapsed:.1f} questions/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB")
    if args.squad:
        incremental(args.squad, args.work)


class TimedReader:
    """A sentence reader that adds up the time its inner reader takes (the reader's own share)."""

    def __init__(self, inner):
        self.inner = inner
        self.seconds = 0.0

    def read(self, question, candidates):
        started = time.perf_counter()
        try:
            return self.inner.read(question, candidates)
        finally:
            self.seconds += time.perf_counter() - started


def warm_latency(corpus: Path, index_dir: Path, questions: list[str], repeat: int) -> None:
    """Warm latency per question of the pipeline without the reader (as before issue 16) and with it, in
    int8 and fp32, measured back to back: each round asks every question of each pipeline in turn."""
    from dataclasses import replace

    from askbalkans import Assistant, Settings
    from askbalkans.evaluation.metrics import percentile

    base = Settings.from_env()
    pipelines = {
        "scorer alone (reader none)": replace(base, reader="none"),
        "reader int8": replace(base, reader="int8"),
        "reader fp32": replace(base, reader="fp32"),
    }
    assistants, timers = {}, {}
    for name, settings in pipelines.items():
        assistants[name] = Assistant(corpus_dir=corpus, index_dir=index_dir, settings=settings)
        composer = assistants[name].reader
        if getattr(composer, "sentence_reader", None) is not None:
            timers[name] = composer.sentence_reader = TimedReader(composer.sentence_reader)
        assistants[name].ask(questions[0])
    latencies: dict[str, list[float]] = {name: [] for name in pipelines}
    reading: dict[str, list[float]] = {name: [] for name in pipelines}
    for _ in range(repeat):
        for name, assistant in assistants.items():
            timer = timers.get(name)
            for question in questions:
                before = timer.seconds if timer else 0.0
                started = time.perf_counter()
                assistant.ask(question)
                latencies[name].append((time.perf_counter() - started) * 1000)
                reading[name].append(((timer.seconds if timer else 0.0) - before) * 1000)
    baseline = percentile(latencies["scorer alone (reader none)"], 0.5)
    for name, values in latencies.items():
        print(
            f"warm latency, {name}, over {len(values)} questions: p50 {percentile(values, 0.5):.1f} ms "
            f"({percentile(values, 0.5) / baseline:.2f}x the scorer alone), p95 {percentile(values, 0.95):.1f} ms, "
            f"max {max(values):.1f} ms, mean {statistics.fmean(values):.1f} ms; the reader's own share: p50 "
            f"{percentile(reading[name], 0.5):.1f} ms, {sum(reading[name]) / sum(values):.0%} of the total"
        )


def incremental(squad: Path, work: Path, paragraphs: int = 2000, rounds: int = 5) -> None:
    """Adding one article to an index of `paragraphs` articles, against embedding that article alone."""
    from dataclasses import replace

    from askbalkans.chunker import chunk_article
    from askbalkans.config import Settings
    from askbalkans.corpus import Corpus
    from askbalkans.embedding import load_embedder
    from askbalkans.evaluation.datasets import load_squad
    from askbalkans.indexer import open_index, sentence_texts_in_context, token_budget
    from askbalkans.stores.embedded import EmbeddedStore
    from askbalkans.tagging import load_tagger

    corpus, _ = load_squad(squad)
    kept, extra = corpus.articles[:paragraphs], corpus.articles[paragraphs]
    settings = replace(Settings(), index_dir=work / "incremental")
    embedder, tagger, store = load_embedder(settings.model), load_tagger(), EmbeddedStore(settings.index_dir)
    started = time.perf_counter()
    opened = open_index(Corpus(kept), store, settings, embedder, tagger)
    print(f"index of {paragraphs} paragraphs ({opened.report.summary()}): {time.perf_counter() - started:.1f} s")
    open_index(Corpus(kept), store, settings, embedder, tagger)  # the index is up to date: nothing to do
    chunks = chunk_article(extra, token_budget(settings, embedder))
    embedding, adding, removing = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        embedder.encode([p.text for p in chunks.passages])
        embedder.encode(sentence_texts_in_context(chunks.sentences))
        embedding.append(time.perf_counter() - started)
        started = time.perf_counter()
        report = open_index(Corpus((*kept, extra)), store, settings, embedder, tagger).report
        adding.append(time.perf_counter() - started)
        started = time.perf_counter()
        open_index(Corpus(kept), store, settings, embedder, tagger)  # back as it was
        removing.append(time.perf_counter() - started)
    print(
        f"adding one article ({len(chunks.passages)} passages, {len(chunks.sentences)} sentences) to it, median of "
        f"{rounds}: {statistics.median(adding):.2f} s ({report.summary()}); removing it again: "
        f"{statistics.median(removing):.2f} s; embedding that article alone: {statistics.median(embedding):.2f} s"
    )


def enter_to_answer(url: str, questions: int = 10) -> None:
    """Time from pressing Enter in headless Chromium to the reply on screen, for the gold questions."""
    from playwright.sync_api import sync_playwright

    from askbalkans.evaluation.datasets import load_gold
    from askbalkans.evaluation.metrics import percentile

    asked = [q.question for q in load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")][:questions]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url)
        page.wait_for_function("document.querySelector('#askb-status')?.innerText.includes('Ready')")
        box = page.locator("#askb-input textarea")
        timings = []
        for number, question in enumerate(asked, 1):
            box.fill(question)
            started = time.perf_counter()
            box.press("Enter")
            page.wait_for_function(f"document.querySelectorAll('#askb-chat .bot-row .askb-answer').length >= {number}")
            timings.append((time.perf_counter() - started) * 1000)
        browser.close()
    print(
        f"the page, Enter to reply on screen over {len(timings)} questions: p50 {percentile(timings, 0.5):.0f} ms, "
        f"max {max(timings):.0f} ms"
    )


def cold_start(corpus: Path, index_dir: Path, measure_page: bool = False) -> tuple[float, float, float]:
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
        answered = time.perf_counter() - started
        if measure_page:
            enter_to_answer(url)
        return port_open, page, answered
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
