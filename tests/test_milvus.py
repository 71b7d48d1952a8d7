"""The Milvus store against a real server process (Milvus Lite's, or ASKBALKANS_MILVUS_URI's)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time

import pytest
from gradio_client import Client

from askbalkans import Assistant, Settings
from askbalkans.errors import StoreError
from askbalkans.evaluation.metrics import contains_answer
from askbalkans.server import free_port
from askbalkans.stores import open_store
from askbalkans.stores.milvus import MilvusStore
from askbalkans.stores.milvus_lite import MilvusLiteServer
from conftest import served_page
from test_assistant import KNOWN
from test_composer import assert_each_date_is_quoted_and_flagged, with_bridge_notes
from test_indexer import acronyms_follow_the_articles
from test_replay import STEPS, replay

pytestmark = pytest.mark.e2e

_names = itertools.count()


@pytest.fixture
def milvus_store(milvus_uri) -> MilvusStore:
    """A store in collections of their own, so that tests do not see each other's articles."""
    return MilvusStore(milvus_uri, f"test{next(_names)}")


@pytest.fixture(scope="module")
def milvus_assistant(milvus_uri, embedder, seeds_assistant) -> Assistant:
    store = MilvusStore(milvus_uri, "seeds")
    return Assistant(store=store, embedder=embedder, tagger=seeds_assistant.tagger, rebuild=True)


@pytest.mark.parametrize(("question", "answers", "doc_ids"), KNOWN)
def test_both_stores_give_the_same_answers_on_clear_cut_questions(
    milvus_assistant, seeds_assistant, question, answers, doc_ids
):
    milvus, embedded = milvus_assistant.ask(question), seeds_assistant.ask(question)
    assert not milvus.abstained and contains_answer(milvus.lead.text, answers)
    assert milvus.lead.text == embedded.lead.text
    assert {c.doc_id for c in milvus.citations} & doc_ids


def test_the_store_setting_chooses_milvus(milvus_uri):
    settings = Settings(store="milvus", milvus_uri=milvus_uri, milvus_collection="chosen")
    assert isinstance(open_store(settings), MilvusStore)
    assert Settings.from_env({"ASKBALKANS_STORE": "milvus"}).store == "milvus"


def test_only_changed_articles_are_rewritten_and_removed_ones_are_never_cited(
    milvus_store, corpus_copy, embedder, seeds_assistant
):
    def assistant() -> Assistant:
        return Assistant(corpus_dir=corpus_copy, store=milvus_store, embedder=embedder, tagger=seeds_assistant.tagger)

    first = assistant()
    assert first.report.rebuilt_because.startswith("no index")
    assert not assistant().report.updated  # loaded as it is
    (corpus_copy / "bridge.md").write_text(
        "# Ibar bridge\n\nThe Ibar bridge in Mitrovica reopened to cars on 3 March 2031, officials said.\n", "utf-8"
    )
    (corpus_copy / "004_e76711d46be13724.txt").unlink()
    updated = assistant()
    assert (updated.report.added, updated.report.removed) == (("bridge",), ("004_e76711d46be13724",))
    assert "3 March 2031" in updated.ask("When did the Ibar bridge reopen to cars?").text
    answer = updated.ask("Who is the EU special representative for the Kosovo-Serbia dialogue?")
    assert "004_e76711d46be13724" not in {c.doc_id for c in answer.citations}
    rows = milvus_store.client.query(milvus_store.names["sentences"], filter='doc_id == "004_e76711d46be13724"')
    assert rows == []


def indexed_then_changed(store, corpus, embedder, tagger):
    """Index `corpus` in `store`, then change one article; a function that opens the assistant again."""

    def assistant() -> Assistant:
        return Assistant(corpus_dir=corpus, store=store, embedder=embedder, tagger=tagger)

    assistant()
    article = corpus / "003_911e190891696f57.txt"
    article.write_text(article.read_text("utf-8") + "\nRutte will return in 2031.\n", "utf-8")
    return assistant


def test_an_update_stopped_half_way_leaves_the_index_usable(
    milvus_store, corpus_copy, embedder, seeds_assistant, monkeypatch
):
    assistant = indexed_then_changed(milvus_store, corpus_copy, embedder, seeds_assistant.tagger)

    put_meta = MilvusStore._put_meta

    def cut_before_the_records(self, values):
        if any(key.startswith("article:") for key in values):
            raise KeyboardInterrupt("power cut")
        put_meta(self, values)

    monkeypatch.setattr(MilvusStore, "_put_meta", cut_before_the_records)
    with pytest.raises(KeyboardInterrupt):
        assistant()  # the new rows are in, the article's record still points to the old ones
    monkeypatch.undo()
    again = assistant()
    assert again.report.changed == ("003_911e190891696f57",)
    assert "2031" in again.ask("When will Rutte return?").text
    slots = {
        r["slot"]
        for r in milvus_store.client.query(milvus_store.names["passages"], filter='doc_id == "003_911e190891696f57"')
    }
    assert slots == {again.index.articles["003_911e190891696f57"].slot}  # the stopped update's rows are gone


def test_acronyms_follow_the_articles(milvus_store, small_settings, embedder, tagger):
    acronyms_follow_the_articles(lambda: milvus_store, small_settings, embedder, tagger)


def test_an_update_stopped_after_the_switch_keeps_the_new_rows(
    milvus_store, corpus_copy, embedder, seeds_assistant, monkeypatch
):
    assistant = indexed_then_changed(milvus_store, corpus_copy, embedder, seeds_assistant.tagger)

    def cut_after_the_switch(self, slots):
        raise KeyboardInterrupt("power cut")  # the records name the new rows; the old ones are not deleted yet

    monkeypatch.setattr(MilvusStore, "_passage_terms", cut_after_the_switch)
    with pytest.raises(KeyboardInterrupt):
        assistant()
    monkeypatch.undo()
    (corpus_copy / "bridge.md").write_text("# Ibar bridge\n\nThe Ibar bridge reopened in 2031.\n", "utf-8")
    again = assistant()  # its update cleans up after the stopped one
    assert again.report.added == ("bridge",) and not again.report.changed
    assert "2031" in again.ask("When will Rutte return?").text
    slot = again.index.articles["003_911e190891696f57"].slot
    rows = milvus_store.client.query(milvus_store.names["passages"], filter='doc_id == "003_911e190891696f57"')
    assert {row["slot"] for row in rows} == {slot}  # the old rows are gone, the new ones kept


def test_sentences_that_differ_only_in_a_date_are_each_quoted_and_flagged(milvus_store, corpus_copy, embedder, tagger):
    with_bridge_notes(corpus_copy)
    assistant = Assistant(corpus_dir=corpus_copy, store=milvus_store, embedder=embedder, tagger=tagger)
    assert_each_date_is_quoted_and_flagged(assistant.ask("When did the Ibar bridge reopen?"))


def test_an_updated_index_answers_as_a_rebuild_after_every_step(milvus_uri, corpus_copy, embedder, tagger):
    """test_replay's history, shortened: an add of a copy, a change bringing an acronym, a removal."""
    updated = MilvusStore(milvus_uri, f"test{next(_names)}")

    def assistant(store: MilvusStore, rebuild: bool = False) -> Assistant:
        return Assistant(corpus_dir=corpus_copy, store=store, embedder=embedder, tagger=tagger, rebuild=rebuild)

    def rebuilt(step: int) -> Assistant:
        return assistant(MilvusStore(milvus_uri, f"test{next(_names)}"), rebuild=True)

    replay(corpus_copy, lambda: assistant(updated), rebuilt, STEPS[:3])


def test_a_server_that_is_down_is_a_clear_error():
    with pytest.raises(StoreError, match="cannot reach the Milvus server at http://127.0.0.1:"):
        MilvusStore(f"http://127.0.0.1:{free_port()}", "nowhere")


def test_a_server_busy_for_a_moment_after_a_quiet_spell_still_accepts_a_new_store(tmp_path):
    """pymilvus shares one connection per server and re-dials one idle for over 30 s within the timeout of
    whoever opened it first (here the 2 s readiness probe): CI's first store after a long test module was
    refused while the machine was busy. A store's connection is now its own, with CONNECT_SECONDS."""
    server = MilvusLiteServer(tmp_path / "milvus")
    with server as uri:
        MilvusStore(uri, "quiet")
        time.sleep(31)
        server.pause()
        resumed = threading.Timer(6, server.resume)
        resumed.start()
        try:
            MilvusStore(uri, "quiet")
        finally:
            resumed.cancel()
            server.resume()


def test_a_server_that_dies_mid_operation_is_a_clear_error_and_a_restart_recovers(
    tmp_path, corpus_copy, embedder, seeds_assistant
):
    """A Milvus Lite server of its own, killed (SIGKILL) under a running assistant, then started again."""
    question = "How many troops serve in KFOR?"

    def assistant(uri: str) -> Assistant:
        store = MilvusStore(uri, "dying")
        return Assistant(corpus_dir=corpus_copy, store=store, embedder=embedder, tagger=seeds_assistant.tagger)

    server = MilvusLiteServer(tmp_path / "milvus")
    with server as uri:
        running = assistant(uri)
        expected = running.ask(question).to_dict()
        reached = MilvusStore(uri, "dying")
        server.kill()
        with pytest.raises(StoreError, match=rf"^the Milvus server at {uri} failed during search on dying_\w+ \("):
            running.ask(question)
        with served_page(lambda: running) as url:  # the page says what failed, not a generic error
            reply = Client(url, verbose=False).predict(question, api_name="/ask")
        assert f"the Milvus server at {uri} failed during search" in reply
        with pytest.raises(StoreError, match=rf"^the Milvus server at {uri} failed during has_collection on dying_"):
            Assistant(corpus_dir=corpus_copy, store=reached, embedder=embedder, tagger=seeds_assistant.tagger)
    with MilvusLiteServer(tmp_path / "milvus", port=server.port) as uri:
        again = assistant(uri)
        assert not again.report.updated
        assert again.ask(question).to_dict() == expected


def test_the_index_command_exits_2_with_one_line_when_the_server_dies_while_it_writes(tmp_path, corpus_copy):
    """`askbalkans index`, as a process; the server is killed once the update has begun (it then embeds for
    seconds before its first write)."""
    server = MilvusLiteServer(tmp_path / "milvus")
    with server as uri:
        environment = {**os.environ, "ASKBALKANS_STORE": "milvus", "ASKBALKANS_MILVUS_URI": uri}
        command = [sys.executable, "-m", "askbalkans.cli", "index", "--rebuild", "--corpus", str(corpus_copy)]
        process = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        for line in process.stderr:
            if "updating the index" in line:
                server.kill()
                break
        errors = process.stderr.read()
        assert process.wait(timeout=120) == 2
    assert "Traceback" not in errors
    [message] = [line for line in errors.splitlines() if line.startswith("askbalkans: ")]
    assert message.startswith(f"askbalkans: the Milvus server at {uri} failed during ")
