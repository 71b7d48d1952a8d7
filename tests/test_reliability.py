"""A hostile user's inputs, each bounded and answered with a clear message; no outbound connection; the
server exposes only what the page uses; index loads never mix two builds; a bounded load on loopback."""

from __future__ import annotations

import http.client
import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import Status

from askbalkans import Assistant, Settings
from askbalkans.chunker import TokenBudget, chunk_article, count_tokens
from askbalkans.config import PROJECT_ROOT
from askbalkans.conversation import MAX_TURN_CHARS, resolve_follow_up, turns_of
from askbalkans.corpus import load_corpus, make_article
from askbalkans.errors import SettingError
from askbalkans.indexer import index_spec, open_index
from askbalkans.server import free_port
from askbalkans.stores import StaleIndex, chunk_id
from askbalkans.stores.embedded import CURRENT, EmbeddedStore
from conftest import SEEDS, served_page

pytestmark = pytest.mark.reliability


# --- the corpus folder --------------------------------------------------------------------------


def skipped(folder: Path, **options) -> dict[str, str]:
    return {s.path.name: s.reason for s in load_corpus(folder, **options).skipped}


def test_symlinks_that_leave_the_corpus_are_skipped_with_a_message(corpus_copy, caplog):
    (corpus_copy / "passwd.txt").symlink_to("/etc/passwd")
    (corpus_copy / "readme.md").symlink_to(PROJECT_ROOT / "README.md")
    (corpus_copy / "zero.txt").symlink_to("/dev/zero")
    (corpus_copy / "again.txt").symlink_to(corpus_copy / "003_911e190891696f57.txt")  # inside: fine
    reasons = skipped(corpus_copy)
    assert set(reasons) == {"passwd.txt", "readme.md", "zero.txt"}
    assert all("leads out of the corpus folder" in reason for reason in reasons.values())
    assert "passwd.txt" in caplog.text
    assert "again" in {a.doc_id for a in load_corpus(corpus_copy).articles}


def test_symlink_loops_are_skipped_with_a_message_and_the_rest_is_read(corpus_copy, caplog):
    (corpus_copy / "loop.txt").symlink_to("loop.txt")
    (corpus_copy / "ping.txt").symlink_to("pong.txt")
    (corpus_copy / "pong.txt").symlink_to("ping.txt")
    corpus = load_corpus(corpus_copy)
    reasons = {s.path.name: s.reason for s in corpus.skipped}
    assert set(reasons) == {"loop.txt", "ping.txt", "pong.txt"}
    assert all("symlink loop" in reason for reason in reasons.values())
    assert "loop.txt: a symlink loop" in caplog.text
    assert len(corpus.articles) == len(list(SEEDS.iterdir()))


def test_a_hard_link_to_a_file_elsewhere_is_read_as_the_corpus_file_it_is(corpus_copy, tmp_path):
    """The corpus folder's trust boundary (README, "Adding articles"): a hard link is a regular file of the
    folder, indistinguishable from a copy, so it is read; only someone who may write the folder can make one."""
    outside = tmp_path / "outside.txt"
    outside.write_text("Outside\n\nThe Ibar bridge reopened in 2031.\n", "utf-8")
    os.link(outside, corpus_copy / "linked.txt")
    assert "linked" in {a.doc_id for a in load_corpus(corpus_copy).articles}


def test_the_login_shell_of_root_is_not_in_the_corpus(corpus_copy, tmp_path, embedder):
    (corpus_copy / "passwd.txt").symlink_to("/etc/passwd")
    assistant = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index", embedder=embedder)
    answer = assistant.ask("What is the login shell of root?")
    assert "/bin/" not in answer.text and "passwd" not in {c.doc_id for c in answer.citations}


def test_fifos_devices_binary_and_oversized_files_are_skipped(corpus_copy):
    os.mkfifo(corpus_copy / "pipe.txt")  # reading it would block for ever
    (corpus_copy / "nul.txt").write_bytes(b"\0" * 10_000)
    (corpus_copy / "big.txt").write_text("Kosovo and Serbia met again. " * 2_000, "utf-8")
    reasons = skipped(corpus_copy, max_bytes=20_000)
    assert "not a regular file" in reasons["pipe.txt"]
    assert "NUL bytes" in reasons["nul.txt"]
    assert "larger than the limit of 20,000 bytes" in reasons["big.txt"]


def test_the_size_limit_is_a_setting():
    assert Settings.from_env({"ASKBALKANS_MAX_ARTICLE_BYTES": "20000"}).max_article_bytes == 20_000


@pytest.mark.parametrize("line", ["x" * 80_000, "Kosovo-Serbia-" * 6_000, "word " * 16_000])
def test_one_long_line_is_chunked_whole_and_in_budget(line):
    budget = TokenBudget(160, 40, 256, lambda text: len(text) // 4 + 2)
    chunks = chunk_article(make_article("long", f"Title\n\n{line}\n"), budget)
    assert "".join(s.text for s in chunks.sentences[1:]).replace(" ", "") == line.replace(" ", "")
    assert all(count_tokens(s.text) <= 160 for s in chunks.sentences)


# --- follow-ups -------------------------------------------------------------------------------


def test_a_follow_up_after_a_one_megabyte_message_reads_a_bounded_history():
    huge = "In Brussels, Mark Rutte met Peter Sorensen. " * 24_000  # about 1 MB
    history = [{"role": "user", "content": huge}, {"role": "assistant", "content": huge}]
    turns = turns_of(history)
    assert all(len(t.question) <= MAX_TURN_CHARS and len(t.answer) <= MAX_TURN_CHARS for t in turns)
    assert resolve_follow_up("What happened there?", turns) == "What happened in Brussels?"


# --- the index on disk ------------------------------------------------------------------------


def test_readers_never_load_a_mix_of_two_builds(corpus_copy, tmp_path, embedder, seeds_assistant):
    """One thread keeps changing an article and updating the index; others keep opening it. Every index
    opened holds one version of the article, consistently in its chunks and its record."""
    settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index")
    tagger = seeds_assistant.tagger
    store = EmbeddedStore(settings.index_dir)
    open_index(load_corpus(corpus_copy), store, settings, embedder, tagger)
    article = corpus_copy / "004_e76711d46be13724.txt"
    original = article.read_text("utf-8")
    versions = {}
    for version in range(6):
        text = f"{original}\nUpdate number {version} of the envoy's travels.\n"
        versions[make_article("004_e76711d46be13724", text).sha256] = f"Update number {version} "
    stop, problems, loads = threading.Event(), [], []

    def writer() -> None:
        for version in range(6):
            article.write_text(f"{original}\nUpdate number {version} of the envoy's travels.\n", "utf-8")
            open_index(load_corpus(corpus_copy), store, settings, embedder, tagger)
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            try:
                index = store.open(index_spec(settings, embedder, tagger))
            except StaleIndex as error:
                problems.append(str(error))
                continue
            record = index.articles["004_e76711d46be13724"]
            last_id = chunk_id(record.slot, record.sentences - 1)
            text = index.chunks.sentences([last_id])[last_id].text
            # The record (its hash) and the chunks are of the same version of the article.
            loads.append(record.sha256 not in versions or text.startswith(versions[record.sha256]))

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not problems, problems
    assert len(loads) > 5 and all(loads)


def test_leftovers_of_a_crashed_update_are_removed_by_the_next(corpus_copy, tmp_path, embedder, seeds_assistant):
    settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index")
    store = EmbeddedStore(settings.index_dir)
    open_index(load_corpus(corpus_copy), store, settings, embedder, seeds_assistant.tagger)
    for leftover in ("gen-000099", "seg-000099"):
        (settings.index_dir / leftover).mkdir()
        (settings.index_dir / leftover / "passages.faiss").write_bytes(b"half written")
    (settings.index_dir / f"{CURRENT}.tmp-12345").write_text("gen-000099")
    (corpus_copy / "extra.md").write_text("# Extra\n\nA new bridge opened in Mitrovica in 2031.\n", "utf-8")
    open_index(load_corpus(corpus_copy), store, settings, embedder, seeds_assistant.tagger)
    current = (settings.index_dir / CURRENT).read_text()
    in_use = json.loads((settings.index_dir / current / "manifest.json").read_text())["segments"]
    assert sorted(p.name for p in settings.index_dir.iterdir()) == sorted([CURRENT, "LOCK", current, *in_use])


def eval_script(name: str):
    """The module of eval/<name>.py."""
    sys.path.insert(0, str(PROJECT_ROOT / "eval"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(PROJECT_ROOT / "eval"))


def test_updates_killed_at_random_moments_leave_the_index_usable_and_right(tmp_path):
    """eval/crash_check.py, in a few rounds: each update is killed with SIGKILL at a random moment."""
    assert eval_script("crash_check").run(3, tmp_path) == 3


def test_damaged_index_files_are_named_and_rebuilt_or_refused_with_the_answers_of_a_rebuild(tmp_path):
    """eval/corruption_check.py --quick: a pointer of binary junk, and one that is a directory, a lock that is
    a directory, a segment's file of junk, and a read-only folder that needs a rebuild (exit 2, in a process
    without root's permission override)."""
    results = eval_script("corruption_check").run(tmp_path, quick=True)
    assert len(results) == 5 and not [(r.case.name, r.problem) for r in results if r.problem]


# --- the server -------------------------------------------------------------------------------


def request(url: str, method: str = "GET", headers: dict | None = None, data: bytes | None = None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers or {}, method=method), timeout=10) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_the_server_exposes_only_what_the_page_uses(seeds_assistant):
    with served_page(lambda: seeds_assistant) as url:
        boundary = "x"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\n'
            f"hi\r\n--{boundary}--\r\n"
        )
        upload = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        assert request(url + "gradio_api/upload", "POST", upload, body.encode())[0] == 403
        assert request(url + "upload", "POST", upload, body.encode())[0] == 403
        assert request(url, headers={"Host": "attacker.example"})[0] == 400  # DNS rebinding
        status, headers = request(url, headers={"Origin": "https://attacker.example"})
        assert status == 200 and "access-control-allow-origin" not in {k.lower() for k in headers}
        assert request(url + "docs")[0] == 404 and request(url + "monitoring")[0] in (403, 404)


def test_the_page_makes_no_outbound_connection(tmp_path):
    """`app.py` served and asked a question, with every socket connection and name look-up of the
    process recorded (Python's audit hooks): none leaves loopback."""
    log = tmp_path / "outbound.jsonl"
    hook = textwrap.dedent(
        f"""
        import ipaddress, json, runpy, sys
        LOG = open({str(log)!r}, "a")
        def outbound(host):
            try:
                return not ipaddress.ip_address(host).is_loopback
            except ValueError:
                return host not in ("localhost",)
        def audit(event, args):
            if event == "socket.connect" and isinstance(args[1], tuple) and outbound(str(args[1][0])):
                LOG.write(json.dumps([event, str(args[1])]) + "\\n"); LOG.flush()
            elif event == "socket.getaddrinfo" and args[0] and outbound(str(args[0])):
                LOG.write(json.dumps([event, str(args[0])]) + "\\n"); LOG.flush()
        sys.addaudithook(audit)
        import socket
        try:  # a canary: the hook must record this look-up, or it would record nothing at all
            socket.getaddrinfo("hook-check.invalid", 80)
        except OSError:
            pass
        sys.argv = ["app.py"] + sys.argv[1:]
        runpy.run_path({str(PROJECT_ROOT / "app.py")!r}, run_name="__main__")
        """
    )
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GRADIO_", "HF_", "TRANSFORMERS_"))  # the product must disable them itself
    }
    environment["ASKBALKANS_INDEX"] = str(tmp_path / "index")
    process = subprocess.Popen(
        [sys.executable, "-c", hook, "--port", str(port)],
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 300
        while request_status(url) != 200:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        reply = Client(url, verbose=False).predict("How many troops serve in KFOR?", api_name="/ask")
        assert "KFOR" in reply
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    attempts = [json.loads(line) for line in log.read_text().splitlines()]
    assert attempts[0] == ["socket.getaddrinfo", "hook-check.invalid"]
    assert not attempts[1:], attempts[1:]


def request_status(url: str) -> int:
    try:
        return request(url)[0]
    except OSError:
        return 0


def test_a_bounded_load_on_loopback_is_answered_without_errors(seeds_assistant):
    """16 clients, each with its own session, ask 5 questions each at once."""
    questions = [
        "How many troops serve in KFOR?",
        "Who is NATO's Deputy Secretary General?",
        "When did the attack in Banjska take place?",
        "What did Mark Rutte ask Kosovo and Serbia to do?",
        "Where did Kurti and Vučić meet in September 2023?",
    ]
    expected = {q: seeds_assistant.ask(q).text for q in questions}
    with served_page(lambda: seeds_assistant) as url:

        def client_session(_: int) -> list[bool]:
            client = Client(url, verbose=False)
            return [client.predict(q, api_name="/answer")["text"] == expected[q] for q in questions]

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = [ok for session in pool.map(client_session, range(16)) for ok in session]
        elapsed = time.perf_counter() - started
    assert len(results) == 80 and all(results)
    print(f"80 questions from 16 sessions in {elapsed:.1f} s")


def test_settings_for_the_server_are_validated():
    settings = Settings.from_env({"ASKBALKANS_ALLOWED_HOSTS": "team.example.org, 10.0.0.5"})
    assert settings.allowed_hosts == ("team.example.org", "10.0.0.5")
    assert replace(settings, allowed_origins=("https://intranet.example.org",)).allowed_origins
    limits = Settings.from_env({"ASKBALKANS_MAX_REQUEST_BYTES": "50000", "ASKBALKANS_MAX_WAITING_QUESTIONS": "8"})
    assert (limits.max_request_bytes, limits.max_waiting_questions) == (50_000, 8)
    with pytest.raises(SettingError, match="ASKBALKANS_MAX_WAITING_QUESTIONS"):
        Settings.from_env({"ASKBALKANS_MAX_WAITING_QUESTIONS": "0"})


def test_the_api_schemas_are_not_served_but_what_the_page_and_its_client_read_is(seeds_assistant):
    with served_page(lambda: seeds_assistant) as url:
        for schema in ("openapi.json", "gradio_api/openapi.json", "docs", "redoc"):
            assert request(url + schema)[0] == 404, schema
        assert request(url + "config")[0] == 200 and request(url + "gradio_api/info")[0] == 200
        assert "KFOR" in Client(url, verbose=False).predict(KFOR, api_name="/answer")["text"]


KFOR = "How many troops serve in KFOR?"
RUTTE = "What did Mark Rutte ask Kosovo and Serbia to do?"


def refusal(url: str, body: bytes, chunked: bool = False) -> tuple[int, str]:
    """Status and text of the server's reply to a POST of `body` to the queue, with a Content-Length or
    in chunks."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/gradio_api/queue/join")
    connection.putheader("Content-Type", "application/json")
    connection.putheader(*(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(len(body)))))
    connection.endheaders()
    try:
        for start in range(0, len(body), 4_000):
            piece = body[start : start + 4_000]
            connection.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):  # the server answered first: its answer is still read
        pass
    response = connection.getresponse()
    reply = response.status, response.read().decode()
    connection.close()
    return reply


def test_a_request_over_the_size_limit_is_refused_before_it_is_read(seeds_assistant):
    settings = Settings(max_request_bytes=10_000)
    question = json.dumps({"data": ["x" * 12_000], "fn_index": 0, "session_hash": "s"}).encode()
    with served_page(lambda: seeds_assistant, settings) as url:
        for chunked in (False, True):
            status, text = refusal(url, question, chunked)
            assert status == 413 and "up to 10,000 bytes" in text, (chunked, status, text)
        assert "KFOR" in Client(url, verbose=False).predict(KFOR, api_name="/answer")["text"]


def test_the_page_keeps_answering_while_huge_questions_arrive(seeds_assistant):
    """Four 10 MB questions at once, among sessions asking ordinary ones: the huge ones are refused at the
    door, the others answered as in process."""
    expected = {q: seeds_assistant.ask(q).text for q in (KFOR, RUTTE)}
    huge = "Please read this. " * 600_000 + KFOR  # 10.8 MB
    with served_page(lambda: seeds_assistant) as url:

        def session(number: int) -> str:
            client = Client(url, verbose=False)
            if number < 4:
                try:
                    client.predict(huge, api_name="/answer")
                except Exception as error:  # a 413, or the connection closed on the rest of the body
                    return type(error).__name__
                return "answered"
            return (
                "right" if all(client.predict(q, api_name="/answer")["text"] == expected[q] for q in expected) else ""
            )

        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = list(pool.map(session, range(12)))
    assert "answered" not in outcomes[:4], outcomes
    assert outcomes[4:] == ["right"] * 8, outcomes


def test_past_the_waiting_limit_a_question_is_refused_as_busy_at_once(seeds_assistant):
    """While the assistant loads, questions wait for it. With `max_waiting_questions` of them waiting, one
    more is told at once that the assistant is busy (a Gradio error over the API); those waiting are
    answered once it is there, and then questions are taken again."""
    loaded = threading.Event()

    def slow_start() -> Assistant:
        loaded.wait(timeout=120)
        return seeds_assistant

    with served_page(slow_start, Settings(max_waiting_questions=2, answer_threads=1)) as url:
        waiting = [Client(url, verbose=False).submit(q, api_name="/answer") for q in (KFOR, RUTTE)]
        deadline = time.monotonic() + 30
        while not all(job.status().code == Status.PROCESSING for job in waiting):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        refused = Client(url, verbose=False).submit("Who leads KFOR?", api_name="/answer")
        with pytest.raises(AppError, match="busy: 2 questions are being answered or waiting"):
            refused.result(timeout=20)  # at once: the assistant is still loading
        loaded.set()
        assert [job.result(timeout=60)["text"] for job in waiting] == [
            seeds_assistant.ask(q).text for q in (KFOR, RUTTE)
        ]
        assert "KFOR" in Client(url, verbose=False).predict(KFOR, api_name="/answer")["text"]
