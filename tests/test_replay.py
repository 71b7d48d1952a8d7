"""Incremental updates answer as a rebuild does: a fixed history of adds, changes, removals and rewrites
of the seed copies, and after every step the whole answers of the updated index against a fresh rebuild's
(the questions and the comparison are eval/crash_check.py's, which does the same after killed updates)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from askbalkans import Assistant
from askbalkans.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "eval"))
try:
    from crash_check import QUESTIONS, answer_difference
finally:
    sys.path.remove(str(PROJECT_ROOT / "eval"))

pytestmark = pytest.mark.reliability

ENVOY, FORUM, PFPC, KFOR = (
    "004_e76711d46be13724",
    "000_c156d69eb00ff29e",
    "001_f3301d7d56d1fe05",
    "002_3b03215c86b7af87",
)


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text("utf-8") + text, "utf-8")


def _rewrite(path: Path) -> None:
    path.write_text(path.read_text("utf-8"), "utf-8")


# (what is done, how), on a copy of seeds/: copies tie with their originals everywhere, a changed
# article brings a new acronym, a removed one comes back, a rewritten one only gets a new signature.
STEPS: tuple[tuple[str, Callable[[Path], object]], ...] = (
    ("add a copy of an article", lambda c: shutil.copy(c / f"{ENVOY}.txt", c / "copy-of-envoy.txt")),
    ("change an article", lambda c: _append(c / f"{KFOR}.txt", "\nThe Kosovo Force (KFOR) grew again in 2031.\n")),
    ("remove an article", lambda c: (c / f"{PFPC}.txt").unlink()),
    ("rewrite an article with its own text", lambda c: _rewrite(c / f"{FORUM}.txt")),
    ("add the removed article back", lambda c: shutil.copy(PROJECT_ROOT / "seeds" / f"{PFPC}.txt", c / f"{PFPC}.txt")),
    ("change the copy", lambda c: _append(c / "copy-of-envoy.txt", "\nMark Rutte asked both sides to talk.\n")),
)  # fmt: skip


def replay(corpus: Path, updated: Callable[[], Assistant], rebuilt: Callable[[int], Assistant], steps=STEPS) -> None:
    """Apply `steps` to `corpus` one by one; after each, `updated()` (the index kept up to date) must answer
    every question exactly as `rebuilt(step)` (one rebuilt from scratch) does."""
    updated()
    for number, (what, change) in enumerate(steps):
        change(corpus)
        difference = answer_difference(updated(), rebuilt(number))
        assert not difference, f"after step {number + 1} ({what}): {difference}"


def test_an_updated_index_answers_as_a_rebuild_after_every_step(corpus_copy, tmp_path, embedder, tagger):
    def assistant(index: str) -> Assistant:
        return Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / index, embedder=embedder, tagger=tagger)

    replay(corpus_copy, lambda: assistant("updated"), lambda step: assistant(f"rebuilt-{step}"))
    assert len(QUESTIONS) >= 5
