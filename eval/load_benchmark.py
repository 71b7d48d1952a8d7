"""The chat page under concurrent load, over its client API: prints figures, asserts nothing.

    .venv/bin/python eval/load_benchmark.py [--sessions 50] [--calls 20] [--burst 200]

Starts `app.py` as a user starts it (a subprocess on a free loopback port, the seeds indexed beforehand
in a temporary folder), then, each phase over real `gradio_client` sessions:

- **one session**: one client asking its questions one after the other (the baseline of this run);
- **load**: `--sessions` clients at once, each with its own session, asking `--calls` questions in turn
  through `/ask`: gold questions, every other one followed by a follow-up read against that session's
  conversation;
- **burst**: `--burst` one-question sessions released at the same moment on `/answer`.

For each phase: answered calls per second, latency p50/p95/p99 of the answered calls, errors, "busy"
refusals, and answers that differ from an in-process `Assistant`'s (the same conversation asked in the
same order, rendered as the page renders it), and the CPU seconds the server and the clients used per
answered call. The clients run in `--client-processes` processes (their own CPU is part of the machine's
load: on 2 cores, they compete with the server). `--stages` first prints where an in-process question's
time goes, stage by stage.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askbalkans.config import PROJECT_ROOT

# Follow-ups that lean on the previous turn (a pronoun, an ellipsis): each session's own conversation.
FOLLOW_UPS = ("When did he say that?", "What else did they agree?", "And what about Serbia?", "Where was it?")
BUSY_WORDS = ("busy", "queue is full")


@dataclass(frozen=True)
class Call:
    api: str  # "/ask" (the reply as HTML, with the session's conversation) or "/answer" (JSON)
    question: str
    expected: str  # the reply an in-process Assistant gives (JSON text for "/answer")


@dataclass(frozen=True)
class Outcome:
    seconds: float
    kind: str  # "answered", "differs", "busy" or "error"
    detail: str = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "seeds")
    parser.add_argument("--gold", type=Path, default=PROJECT_ROOT / "eval" / "gold.jsonl")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--calls", type=int, default=20, help="calls per session in the load phase")
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--scripts", type=int, default=10, help="distinct conversations the sessions follow")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--stages", action="store_true", help="first, where an in-process question's time goes")
    parser.add_argument(
        "--client-tls-setup",
        action="store_true",
        help="let gradio_client build a verifying TLS context for every request, as it does by default (about "
        "0.1 s of the clients' CPU per call, though the page is plain HTTP on loopback)",
    )
    args = parser.parse_args()

    from askbalkans import Assistant
    from askbalkans.evaluation.datasets import load_gold

    questions = [q.question for q in load_gold(args.gold)]
    with tempfile.TemporaryDirectory() as index_dir:
        assistant = Assistant(corpus_dir=args.corpus, index_dir=index_dir)
        if args.stages:
            stage_profile(assistant, questions)
        scripts = [conversation(assistant, questions, number, args.calls) for number in range(args.scripts)]
        burst = [
            Call("/answer", q, answer_json(assistant.ask(q).to_dict()))
            for q in (questions * (args.burst // len(questions) + 1))[: args.burst]
        ]
        del assistant
        with served(args.corpus, Path(index_dir)) as (url, server_pid):
            clients = Clients(url, server_pid, args.client_processes, args.client_tls_setup)
            report("one session", clients.run([scripts[0]]))
            sessions = [scripts[number % len(scripts)] for number in range(args.sessions)]
            report(f"load, {args.sessions} sessions", clients.run(sessions))
            report(f"burst of {args.burst}", clients.run([[call] for call in burst]))


def conversation(assistant: Any, questions: list[str], number: int, calls: int) -> list[Call]:
    """Session script `number`: gold questions from its own offset, every other one followed up."""
    from askbalkans.ui import render_answer

    asked: list[str] = []
    for position in range(calls):
        if position % 2:
            asked.append(FOLLOW_UPS[(number + position) % len(FOLLOW_UPS)])
        else:
            asked.append(questions[(number * 7 + position) % len(questions)])
    script, answers = [], []
    for question in asked:
        answer = assistant.ask(question, history=answers)
        script.append(Call("/ask", question, render_answer(answer, len(answers))))
        answers.append(answer)
    return script


def answer_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True)


def stage_profile(assistant: Any, questions: list[str], rounds: int = 2) -> None:
    """Wall time per question of each stage of `Assistant.ask`, one thread, warm."""
    import askbalkans.composer as composer

    for question in questions[:5]:
        assistant.ask(question)
    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*arguments: Any, **options: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*arguments, **options)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    patched = [
        (assistant.embedder, "encode", "embedding (question and new words)"),
        (assistant.reader.tagger, "tag", "tagging the question (spaCy)"),
        (assistant.retriever, "rank", "retrieval (FAISS, BM25, sentence similarities)"),
        (assistant.reader.scorer, "score", "sentence scoring"),
        (assistant.reader, "compose", "composing (scoring, tagging and analysis included)"),
        (composer, "analyse", "question analysis"),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patched]
    for owner, name, label in patched:
        setattr(owner, name, timed(label, getattr(owner, name)))
    started = time.perf_counter()
    asked = 0
    try:
        for _ in range(rounds):
            for question in questions:
                assistant.ask(question)
                asked += 1
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    total = (time.perf_counter() - started) / asked * 1000
    print(f"in process, one thread, {asked} questions: {total:.1f} ms each; by stage (ms per question):")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {label}: {seconds / asked * 1000:.1f}")


class served:
    """`app.py` on a free loopback port over `corpus` and its built index; yields (url, pid)."""

    def __init__(self, corpus: Path, index_dir: Path):
        from askbalkans.server import free_port

        self.port = free_port()
        self.environment = {**os.environ, "ASKBALKANS_CORPUS": str(corpus), "ASKBALKANS_INDEX": str(index_dir)}

    def __enter__(self) -> tuple[str, int]:
        self.process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "app.py"), "--port", str(self.port)],
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + 300
        while not page_is_served(url):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        from gradio_client import Client

        Client(url, verbose=False).predict("How many troops serve in KFOR?", api_name="/answer")  # warm
        return url, self.process.pid

    def __exit__(self, *_: object) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def page_is_served(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.HTTPError, OSError):
        return False


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process `pid` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Phase:
    outcomes: list[Outcome]
    seconds: float
    server_cpu: float
    client_cpu: float


@dataclass(frozen=True)
class Clients:
    url: str
    server_pid: int
    processes: int
    tls_setup: bool

    def run(self, sessions: list[list[Call]]) -> Phase:
        """Every session in its own thread, spread over the client processes, all released at once."""
        context = multiprocessing.get_context("spawn")
        processes = max(1, min(self.processes, len(sessions)))
        ready, go, results = context.Queue(), context.Event(), context.Queue()
        workers = [
            context.Process(
                target=client_process, args=(self.url, self.tls_setup, sessions[number::processes], ready, go, results)
            )
            for number in range(processes)
        ]
        for worker in workers:
            worker.start()
        for _ in workers:
            ready.get()  # every client connected (their page config fetched) before the clock starts
        server_before = cpu_seconds(self.server_pid)
        started = time.perf_counter()
        go.set()
        outcomes: list[Outcome] = []
        client_cpu = 0.0
        for _ in workers:
            done, cpu = results.get()
            outcomes += done
            client_cpu += cpu
        elapsed = time.perf_counter() - started
        server_cpu = cpu_seconds(self.server_pid) - server_before
        for worker in workers:
            worker.join()
        return Phase(outcomes, elapsed, server_cpu, client_cpu)


def client_process(url: str, tls_setup: bool, sessions: list[list[Call]], ready: Any, go: Any, results: Any) -> None:
    import resource

    from gradio_client import Client

    # ssl_verify=False: the page is plain HTTP, so no certificate is ever checked; it only spares the client
    # from loading the CA bundle again for every request.
    clients = [Client(url, verbose=False, ssl_verify=tls_setup) for _ in sessions]
    ready.put(True)
    go.wait()
    before = resource.getrusage(resource.RUSAGE_SELF)
    outcomes: list[list[Outcome]] = [[] for _ in sessions]
    threads = [
        threading.Thread(target=run_session, args=(client, script, outcomes[number]))
        for number, (client, script) in enumerate(zip(clients, sessions, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    results.put(([o for session in outcomes for o in session], cpu))


def run_session(client: Any, script: list[Call], outcomes: list[Outcome]) -> None:
    for call in script:
        started = time.perf_counter()
        try:
            reply = client.predict(call.question, api_name=call.api)
        except Exception as error:  # every failure is counted, by kind
            message = f"{type(error).__name__}: {error}"
            busy = any(word in message.lower() for word in BUSY_WORDS)
            outcomes.append(Outcome(time.perf_counter() - started, "busy" if busy else "error", message[:200]))
            if not busy:
                return  # the session's conversation is broken: the rest would differ anyway
            continue
        seconds = time.perf_counter() - started
        got = answer_json(reply) if call.api == "/answer" else reply
        outcomes.append(Outcome(seconds, "answered" if got == call.expected else "differs", call.question))


def report(label: str, phase: Phase) -> None:
    from askbalkans.evaluation.metrics import percentile

    kinds: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in phase.outcomes:
        kinds[outcome.kind].append(outcome)
    answered = [o.seconds for o in kinds["answered"] + kinds["differs"]]
    figures = (
        f"p50 {percentile(answered, 0.5):.2f} s, p95 {percentile(answered, 0.95):.2f} s, "
        f"p99 {percentile(answered, 0.99):.2f} s, mean {statistics.fmean(answered):.2f} s"
        if answered
        else "no call answered"
    )
    per_call = max(len(answered), 1)
    print(
        f"{label}: {len(phase.outcomes)} calls in {phase.seconds:.1f} s, {len(answered) / phase.seconds:.1f} "
        f"answered calls/s; {figures}; errors {len(kinds['error'])}, busy refusals {len(kinds['busy'])}, "
        f"answers differing from in-process {len(kinds['differs'])}; CPU per answered call: server "
        f"{phase.server_cpu / per_call * 1000:.1f} ms, clients {phase.client_cpu / per_call * 1000:.1f} ms"
    )
    for kind in ("error", "differs", "busy"):
        for example in sorted({o.detail for o in kinds[kind]})[:3]:
            print(f"  {kind}: {example}")


if __name__ == "__main__":
    main()
