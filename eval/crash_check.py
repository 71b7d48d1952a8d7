"""Index updates killed (SIGKILL) at random moments: is the index usable and right afterwards?

    .venv/bin/python eval/crash_check.py [--rounds 20] [--work DIR]

A copy of seeds/ is indexed once in the embedded store. Each round changes the corpus (adds an article,
changes one, removes one, in turn) and starts a process that loads the model and updates the index; once
the update starts writing to the store (chunking and embedding write nothing), it is killed with SIGKILL
after a random delay of up to 1.2 times what the writing takes (timed first, uncut). The index is then
opened as the assistant opens it, bringing it up to date, and checked: it holds every article of the
corpus at its current text (records, sentences and passages) and no other, and its acronym counts and
BM25 scores equal those of an index rebuilt from scratch, and the assistant over it answers QUESTIONS
exactly as one over the rebuilt index does (whole answers: quotes, citations in their order, scores,
confidence). Printed: per round, when the kill came and whether the update had switched the index by
then; at the end, how many rounds were recovered and how many answered as a rebuild does.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from askbalkans import Assistant
from askbalkans.config import PROJECT_ROOT, Settings
from askbalkans.corpus import load_corpus
from askbalkans.embedding import load_embedder
from askbalkans.indexer import open_index
from askbalkans.stores import chunk_id
from askbalkans.stores.embedded import CURRENT, EmbeddedStore
from askbalkans.tagging import load_tagger

# The questions whose whole answers an updated index must give as a rebuilt one does: the one the issue saw
# answered otherwise, and gold questions on each seed article (eval/gold.jsonl).
QUESTIONS = (
    "What did Mark Rutte ask Kosovo and Serbia to do?",
    "Who is the Executive Director of the Balkans Group?",
    "How many member states does the European Union have, as cited by the conference speakers?",
    "Where was the 47th PfPC workshop held?",
    "Which countries contribute the most personnel to KFOR?",
    "When did Kosovo declare independence from Serbia?",
    "Who is NATO's Deputy Secretary General?",
)

UPDATER = """
import sys
from pathlib import Path
from askbalkans.config import Settings
from askbalkans.corpus import list_corpus
from askbalkans.embedding import load_embedder
from askbalkans.indexer import open_index
from askbalkans.stores.embedded import EmbeddedStore
from askbalkans.tagging import load_tagger
settings = Settings(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
embedder, tagger = load_embedder(settings.model), load_tagger()
update = EmbeddedStore.update


def say_when_writing(*args, **kwargs):
    print("writing", flush=True)  # what follows is what a kill can damage: the store's writes
    update(*args, **kwargs)
    print("written", flush=True)


EmbeddedStore.update = say_when_writing
open_index(list_corpus(settings.corpus_dir), EmbeddedStore(settings.index_dir), settings, embedder, tagger)
"""


def change_corpus(corpus: Path, round_number: int) -> str:
    """Add an article, change one, or remove one, in turn; what was done."""
    kind = round_number % 3
    if kind == 0:
        path = corpus / f"extra-{round_number}.md"
        path.write_text(f"# Extra {round_number}\n\nThe Ibar bridge opened {round_number} times in 2031.\n", "utf-8")
        return f"added {path.name}"
    if kind == 1:
        path = sorted(corpus.glob("*.txt"))[round_number % 5]
        path.write_text(path.read_text("utf-8") + f"\nRound {round_number} brought news.\n", "utf-8")
        return f"changed {path.name}"
    path = sorted(corpus.glob("extra-*.md"))[0]
    path.unlink()
    return f"removed {path.name}"


def run_updater(corpus: Path, index: Path, kill_after: float | None) -> tuple[float, bool]:
    """Update the index in a new process, killed `kill_after` seconds after it starts writing to the store;
    the seconds from then to the kill or its end, and whether it was killed. Not killed (`kill_after`
    None): the seconds its writing took."""
    process = subprocess.Popen(
        [sys.executable, "-c", UPDATER, str(corpus), str(index)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != b"writing":
        raise RuntimeError("the updating process ended before it wrote to the store")
    started = time.perf_counter()
    if kill_after is None:
        process.stdout.readline()  # "written"
        writing = time.perf_counter() - started
        process.wait()
        return writing, False
    time.sleep(kill_after)  # not process.wait(timeout): it polls in steps of up to 50 ms
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    elapsed = time.perf_counter() - started
    process.wait()
    return elapsed, killed


def answer_difference(updated: Assistant, rebuilt: Assistant, questions: tuple[str, ...] = QUESTIONS) -> str:
    """ "" when both assistants give the same whole answer (`Answer.to_dict()`) to every question; else the
    first question answered otherwise, and what differs."""
    for question in questions:
        mine, theirs = updated.ask(question).to_dict(), rebuilt.ask(question).to_dict()
        if mine != theirs:
            fields = ", ".join(name for name in mine if mine[name] != theirs[name])
            return f"{question!r} is answered otherwise than by a rebuild ({fields} differ)"
    return ""


def check(corpus: Path, index_dir: Path, embedder, tagger) -> str:
    """ "" when the index, opened (and brought up to date) as the assistant does, holds exactly the corpus's
    articles at their current texts; else what is wrong."""
    settings = Settings(corpus_dir=corpus, index_dir=index_dir)
    articles = {a.doc_id: a for a in load_corpus(corpus).articles}
    index = open_index(load_corpus(corpus), EmbeddedStore(index_dir), settings, embedder, tagger).index
    if set(index.articles) != set(articles):
        return f"articles differ: {sorted(set(index.articles) ^ set(articles))}"
    for doc_id, record in index.articles.items():
        article = articles[doc_id]
        if record.sha256 != article.sha256:
            return f"{doc_id}: the record is of another text"
        ids = [chunk_id(record.slot, n) for n in range(record.sentences)]
        sentences = index.chunks.sentences(ids)
        if len(sentences) != record.sentences or any(
            s.doc_id != doc_id or article.text[s.start : s.end] != s.text for s in sentences.values()
        ):
            return f"{doc_id}: its sentences are not those of its text"
        passages = index.chunks.passages([chunk_id(record.slot, n) for n in range(record.passages)])
        if any(p.doc_id != doc_id for p in passages):
            return f"{doc_id}: its passages belong to another article"
    with tempfile.TemporaryDirectory() as folder:  # what was kept article by article, against a rebuild
        rebuilt_assistant = Assistant(corpus_dir=corpus, index_dir=Path(folder), embedder=embedder, tagger=tagger)
        rebuilt = rebuilt_assistant.index
        updated = Assistant(corpus_dir=corpus, index_dir=index_dir, embedder=embedder, tagger=tagger)
        different_answer = answer_difference(updated, rebuilt_assistant)
    if index.acronym_counts != rebuilt.acronym_counts or index.acronyms != rebuilt.acronyms:
        return "the acronyms differ from a rebuild's"
    for terms in (["kfor", "troop"], ["dialogu", "serbia"], ["bridg", "ibar"]):
        ids = [chunk_id(r.slot, n) for r in index.articles.values() for n in range(r.passages)]
        rebuilt_ids = [
            chunk_id(rebuilt.articles[d].slot, n) for d, r in index.articles.items() for n in range(r.passages)
        ]
        if not np.allclose(index.lexical.scores(terms, ids), rebuilt.lexical.scores(terms, rebuilt_ids), rtol=1e-5):
            return f"the BM25 scores of {terms} differ from a rebuild's"
    return different_answer


def run(rounds: int, work: Path, seed: int = 0) -> int:
    """Run `rounds` killed updates; the number recovered (the index right, and answering as a rebuild)."""
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(PROJECT_ROOT / "seeds", corpus)
    embedder, tagger = load_embedder(Settings().model), load_tagger()
    run_updater(corpus, index, None)
    change_corpus(corpus, 0)
    update_seconds, _ = run_updater(corpus, index, None)  # an uncut update, to aim the kills
    print(f"an update writes for {update_seconds:.2f} s; kills come within {1.2 * update_seconds:.2f} s of its start")
    randomly, recovered, cut_short = random.Random(seed), 0, 0
    for round_number in range(1, rounds + 1):
        change = change_corpus(corpus, round_number)
        before = (index / CURRENT).read_text()
        delay = randomly.uniform(0, 1.2 * update_seconds)
        ran, killed = run_updater(corpus, index, delay)
        switched = (index / CURRENT).read_text() != before
        problem = check(corpus, index, embedder, tagger)
        recovered += not problem
        cut_short += killed and not switched
        moment = f"killed at {ran * 1000:.0f} ms" if killed else f"finished in {ran * 1000:.0f} ms"
        state = "after the switch" if switched else "before the switch"
        print(f"round {round_number}: {change}; {moment}, {state}: {problem or 'recovered'}")
    print(
        f"recovered {recovered} of {rounds}, each holding the corpus and answering {len(QUESTIONS)} questions as a "
        f"rebuild does ({cut_short} killed before the update switched the index)"
    )
    return recovered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--work", type=Path, help="a folder for the corpus copy and the index (default: temporary)")
    args = parser.parse_args()
    if args.work:
        run(args.rounds, args.work)
    else:
        with tempfile.TemporaryDirectory() as work:
            run(args.rounds, Path(work))


if __name__ == "__main__":
    main()
