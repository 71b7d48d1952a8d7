"""Damaged index files: is each one found, named in one line, and rebuilt (or refused with exit 2), and
are the answers afterwards those of a fresh rebuild?

    .venv/bin/python eval/corruption_check.py [--quick] [--work DIR]

A copy of seeds/ is indexed once in the embedded store, and its answers to QUESTIONS are the reference.
Each case copies that index, damages one thing the store owns (the pointer, the lock, a manifest, a
generation's or a segment's file, a whole folder: truncated, a byte flipped, emptied, binary junk, replaced
by a directory, by a symlink to an identical copy elsewhere, removed, unreadable, or the folder made
read-only) and runs the real `askbalkans index`, and on a second copy `askbalkans ask --json`, as
processes (`--quick`: five cases, `askbalkans index` only, in this process through the same
`cli.main`, except those that need a process without root's permission override). Each must end
without a traceback, with exit status 0 and a one-line message that names the damaged file (the index
rebuilt, or the foreign thing moved to lost/), or with exit status 2 and a one-line message where the
index cannot be repaired (a read-only folder); a harmless
change (junk in the lock file, which holds nothing) may load as it is. Then the index is opened as the
assistant opens it: it must load without another rebuild, and its answers (`Answer.to_dict()`) to every
question must equal the reference; nothing outside the index may change (the corpus, the targets of the
symlinks). Printed: one row per case, and how many passed; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askbalkans import Assistant
from askbalkans.cli import main as cli_main
from askbalkans.config import PROJECT_ROOT
from askbalkans.stores.embedded import CURRENT, LOCK, LOST, MANIFEST

QUESTIONS = [
    "How many troops serve in KFOR?",
    "Who is NATO's Deputy Secretary General?",
    "What did Mark Rutte ask Kosovo and Serbia to do?",
    "When did the attack in Banjska take place?",
]
# Root reads and writes whatever the permissions say: the cases of permission run without that override.
UNPRIVILEGED = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


# --- damage ------------------------------------------------------------------------------------


def truncated(path: Path, outside: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flipped(path: Path, outside: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def emptied(path: Path, outside: Path) -> None:
    path.write_bytes(b"")


def junk(path: Path, outside: Path) -> None:
    path.write_bytes(random.Random(path.name).randbytes(max(path.stat().st_size, 16)))


def directory(path: Path, outside: Path) -> None:
    removed(path, outside)
    path.mkdir()
    (path / "notes.txt").write_text("not the store's")


def symlinked(path: Path, outside: Path) -> None:
    """Replaced by a symlink to an identical copy elsewhere: the bytes would pass every checksum."""
    copy = outside / path.name
    (shutil.copytree if path.is_dir() else shutil.copy2)(path, copy)
    removed(path, outside)
    path.symlink_to(copy)


def removed(path: Path, outside: Path) -> None:
    (shutil.rmtree if path.is_dir() and not path.is_symlink() else os.unlink)(path)


def a_file(path: Path, outside: Path) -> None:
    removed(path, outside)
    path.write_text("not the store's")


def unreadable(path: Path, outside: Path) -> None:
    path.chmod(0)


def read_only_folder(path: Path, outside: Path) -> None:
    """The index folder made read-only, and its pointer junk: a rebuild is needed and impossible."""
    junk(path / CURRENT, outside)
    path.chmod(0o555)


def read_only_intact(path: Path, outside: Path) -> None:
    path.chmod(0o555)


@dataclass(frozen=True)
class Case:
    target: str  # relative to the index folder; {gen} and {seg} stand for the generation and segment in use
    damage: Callable[[Path, Path], None]
    expected: str  # rebuilt, repaired (moved away, the index kept), loaded (harmless), refused (exit 2)
    quick: bool = False  # in the subset `--quick` runs
    unprivileged: bool = False  # needs a process without root's permission override

    @property
    def name(self) -> str:
        return f"{self.target}: {self.damage.__name__.replace('_', ' ')}"


CASES = [
    Case(CURRENT, junk, "rebuilt", quick=True),
    Case(CURRENT, directory, "rebuilt", quick=True),
    Case(CURRENT, emptied, "rebuilt"),
    Case(CURRENT, truncated, "rebuilt"),
    Case(CURRENT, flipped, "rebuilt"),
    Case(CURRENT, symlinked, "rebuilt"),
    Case(CURRENT, removed, "rebuilt"),
    Case(CURRENT, unreadable, "rebuilt", unprivileged=True),
    Case(LOCK, directory, "repaired", quick=True),
    Case(LOCK, symlinked, "repaired"),
    Case(LOCK, junk, "loaded"),
    Case(f"{{gen}}/{MANIFEST}", flipped, "rebuilt"),
    Case(f"{{gen}}/{MANIFEST}", truncated, "rebuilt"),
    Case(f"{{gen}}/{MANIFEST}", emptied, "rebuilt"),
    Case(f"{{gen}}/{MANIFEST}", directory, "rebuilt"),
    Case("{gen}/acronym_counts.json", flipped, "rebuilt"),
    Case("{gen}/signatures.json", removed, "rebuilt"),
    Case(f"{{seg}}/{MANIFEST}", flipped, "rebuilt"),
    Case(f"{{seg}}/{MANIFEST}", symlinked, "rebuilt"),
    Case("{seg}/passages.faiss", truncated, "rebuilt"),
    Case("{seg}/sentence_vectors.npy", flipped, "rebuilt"),
    Case("{seg}/text.npy", junk, "rebuilt", quick=True),
    Case("{seg}/articles.json", emptied, "rebuilt"),
    Case("{seg}/postings_rows.npy", directory, "rebuilt"),
    Case("{seg}/vocabulary.json", symlinked, "rebuilt"),
    Case("{seg}/text.npy", unreadable, "rebuilt", unprivileged=True),
    Case("{seg}", symlinked, "rebuilt"),
    Case("{seg}", removed, "rebuilt"),
    Case("{gen}", a_file, "rebuilt"),
    Case(".", read_only_folder, "refused", quick=True, unprivileged=True),
    Case(".", read_only_intact, "loaded", unprivileged=True),
]


# --- running -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    status: int | str  # the exit status, or "crashed" (an exception escaped cli.main in this process)
    stdout: str
    stderr: str


def run_cli(arguments: list[str], in_process: bool, unprivileged: bool) -> Run:
    """`askbalkans <arguments>`, as a process or through `cli.main` here; its status and output."""
    if not in_process or unprivileged:
        prefix = UNPRIVILEGED if unprivileged and os.geteuid() == 0 else []
        command = [*prefix, sys.executable, "-m", "askbalkans.cli", *arguments]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        return Run(done.returncode, done.stdout, done.stderr)
    stdout, stderr = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)  # cli.main's logging.basicConfig then adds none of its own
    root.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status: int | str = cli_main(arguments)
    except BaseException as error:  # noqa: BLE001 (what a process would print as a traceback)
        status = "crashed"
        stderr.write(f"Traceback (in process): {error!r}\n")
    finally:
        root.removeHandler(handler)
    return Run(status, stdout.getvalue(), stderr.getvalue())


def outcome(run: Run) -> tuple[str, str]:
    """What a run did (rebuilt, repaired, loaded, refused, crashed) and the message that said so."""
    lines = run.stderr.splitlines()
    if "Traceback" in run.stderr or run.status not in (0, 2):
        return "crashed", next((line for line in reversed(lines) if line.strip()), f"exit status {run.status}")
    if run.status == 2:
        return "refused", next((line for line in lines if line.startswith("askbalkans: ")), "")
    rebuilt = [line.split("updating the index: ", 1)[1] for line in lines if "updating the index: " in line]
    if rebuilt:
        return "rebuilt", rebuilt[0]
    moved = [line for line in lines if line.startswith("WARNING askbalkans.stores.embedded: ")]
    return ("repaired", moved[0].split(": ", 1)[1]) if moved else ("loaded", "")


def digest(folder: Path) -> str:
    """What a folder holds (names and bytes, symlinks as their targets), to check it did not change."""
    parts = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        parts.update(str(path.relative_to(folder)).encode())
        parts.update(os.readlink(path).encode() if path.is_symlink() else path.read_bytes() if path.is_file() else b"/")
    return parts.hexdigest()


def answers(corpus: Path, index: Path) -> tuple[str, list[dict[str, Any]]]:
    """The index opened as the assistant opens it: its status, and its answers to QUESTIONS as JSON data."""
    assistant = Assistant(corpus_dir=corpus, index_dir=index)
    return assistant.status, [json.loads(json.dumps(assistant.ask(q).to_dict())) for q in QUESTIONS]


@dataclass(frozen=True)
class Result:
    case: Case
    index: str
    ask: str
    message: str
    problem: str  # "" when the case passed


def check(
    case: Case, base: Path, corpus: Path, work: Path, reference: list[dict[str, Any]], in_process: bool
) -> Result:
    names = {"gen": (base / CURRENT).read_text()}
    names["seg"] = json.loads((base / names["gen"] / MANIFEST).read_text())["segments"][0]
    target = case.target.format(**names)
    corpus_before = digest(corpus)
    runs: dict[str, tuple[str, str]] = {"ask": ("-", "")}
    outside: dict[Path, str] = {}  # the symlinks' targets: never written through
    for command in ("index",) if in_process else ("index", "ask"):
        index, elsewhere = work / command, work / "outside" / command
        shutil.copytree(base, index, symlinks=True)
        elsewhere.mkdir(parents=True)
        case.damage(index / target, elsewhere)
        outside[elsewhere] = digest(elsewhere)
        arguments = ["--corpus", str(corpus), "--index", str(index)]
        arguments = [command, *arguments] + (["--json", QUESTIONS[0]] if command == "ask" else [])
        run = run_cli(arguments, in_process, case.unprivileged)
        runs[command] = outcome(run)
        if command == "ask" and runs[command][0] != "refused" and json.loads(run.stdout) != reference[0]:
            return Result(case, runs["index"][0], "differs", runs[command][1], "ask's answer differs")
    index_outcome, message = runs["index"]
    result = Result(case, index_outcome, runs["ask"][0], message, "")

    def failed(problem: str) -> Result:
        return Result(case, index_outcome, runs["ask"][0], message, problem)

    if index_outcome != case.expected or runs["ask"][0] not in (case.expected, "-"):
        return failed(f"expected {case.expected}")
    shown = str(work / "index" / target) if target != "." else str(work / "index")
    if case.expected != "loaded" and shown not in message:
        return failed(f"the message does not name {shown}")
    if digest(corpus) != corpus_before or any(digest(folder) != found for folder, found in outside.items()):
        return failed("something outside the index changed")
    lost = work / "index" / LOST
    if case.damage in (directory, symlinked) and case.expected != "refused" and not lost.is_dir():
        return failed("what the store did not write was not moved to lost/")
    if case.expected == "refused":
        return result
    status, found = answers(corpus, work / "index")
    if not status.startswith("loaded"):
        return failed(f"the next start did not load the repaired index ({status})")
    if found != reference:
        return failed("the answers differ from a fresh rebuild's")
    return result


def run(work: Path, quick: bool = False) -> list[Result]:
    """Every case (or the quick ones); their results, printed as a table."""
    corpus, base = work / "corpus", work / "base"
    shutil.copytree(PROJECT_ROOT / "seeds", corpus)
    reference = answers(corpus, base)[1]
    results = []
    print(f"{'case':<40} {'index':<9} {'ask':<9} {'result':<6} message")
    for number, case in enumerate(c for c in CASES if c.quick or not quick):
        if case.unprivileged and os.geteuid() == 0 and not shutil.which(UNPRIVILEGED[0]):
            print(f"{case.name:<40} skipped: needs {UNPRIVILEGED[0]} to run without root's permission override")
            continue
        folder = work / f"case-{number}"
        result = check(case, base, corpus, folder, reference, in_process=quick)
        for copy in ("index", "ask"):  # writable again, to be removed
            with contextlib.suppress(OSError):
                (folder / copy).chmod(0o755)
        results.append(result)
        verdict = "FAIL: " + result.problem if result.problem else "pass"
        print(f"{case.name:<40} {result.index:<9} {result.ask:<9} {verdict:<6} {result.message}", flush=True)
    failed = [r for r in results if r.problem]
    print(f"{len(results) - len(failed)} of {len(results)} cases passed")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the subset `make test` runs, mostly in this process")
    parser.add_argument("--work", type=Path, help="a folder for the copies (default: temporary)")
    args = parser.parse_args()
    if args.work:
        results = run(args.work, args.quick)
    else:
        with tempfile.TemporaryDirectory() as work:
            results = run(Path(work), args.quick)
    sys.exit(1 if any(r.problem for r in results) else 0)


if __name__ == "__main__":
    main()
