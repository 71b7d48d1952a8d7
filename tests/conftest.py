"""Shared fixtures: the real bundled model and the real seed articles, loaded once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from askbalkans import Assistant
from askbalkans.config import DEFAULT_MODEL, PROJECT_ROOT
from askbalkans.embedding import Embedder

SEEDS = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def seeds_assistant(tmp_path_factory) -> Assistant:
    """An assistant over seeds/, with its index built in a temporary folder."""
    return Assistant(corpus_dir=SEEDS, index_dir=tmp_path_factory.mktemp("index"), show_progress=False)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of seeds/."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder
