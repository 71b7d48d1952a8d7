"""Fit the sentence weights, the confidence calibration and the abstention threshold; print them, and with
`--write` store them in src/askbalkans/weights.json, where the settings read them.

    .venv/bin/python eval/fit_weights.py ../shared/benchmarks/squad-dev-v1.1.json [--write]

Two kinds of question are fitted on, each set given the same total weight:
- SQuAD v1.1 dev, its questions written with the paragraph in view (they reuse its words). Fitted on
  the questions of even-numbered articles; figures are reported on the others.
- Questions over the seeds, phrased as a reader would: the tuning halves of eval/own-words.jsonl
  (answerable, in other words than the articles') and eval/near-miss.jsonl (about the articles' people
  and events, asking for a fact none of them gives), and eval/dev.jsonl. The test halves are never read.

1. Sentence weights: a conditional logit over the candidate sentences of each answerable question (those
   of its top_k retrieved passages), the target spread over the sentences that hold a gold answer.
2. Confidence: a logistic regression of "the corpus answers the question" on the evidence for the best
   sentence, its weights kept non-negative (more evidence never lowers the confidence). SQuAD's
   unanswerable questions are those on a held-out quarter of the paragraphs, asked of an index without
   them (hard: the rest of their article is still there); the seeds' are near-miss and the unanswerable
   questions of dev.jsonl.
3. Threshold: the highest that abstains on at most 5% of the seeds' answerable tuning questions, counting
   those that abstain because their best sentence lacks the type of answer asked for.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

import numpy as np

from askbalkans.assistant import Assistant
from askbalkans.config import PROJECT_ROOT, WEIGHTS_FILE, Settings, load_fitted_weights
from askbalkans.corpus import Corpus
from askbalkans.embedding import SentenceTransformerEmbedder
from askbalkans.evaluation.cli import DEFAULT_CACHE
from askbalkans.evaluation.datasets import GoldQuestion, load_gold, load_squad
from askbalkans.evaluation.fitting import (
    CandidateEvidence,
    balanced,
    fit_conditional_logit,
    fit_logistic,
    held_out,
    threshold_for,
)
from askbalkans.evaluation.metrics import contains_answer
from askbalkans.evaluation.runner import squad_assistant
from askbalkans.question import analyse
from askbalkans.scoring import EVIDENCE

ANSWERABLE_ABSTAINED = 0.05


TUNING = [("eval/own-words.jsonl", "tune"), ("eval/near-miss.jsonl", "tune"), ("eval/dev.jsonl", None)]


def main(squad: Path, write: bool) -> None:
    settings = Settings()
    embedder = SentenceTransformerEmbedder(settings.model)
    assistant, questions = squad_assistant(squad, settings, DEFAULT_CACHE, embedder)
    articles = sorted({q.doc_ids[0].split("#")[0] for q in questions})
    training_articles = {title for number, title in enumerate(articles) if number % 2 == 0}
    training = np.array([q.doc_ids[0].split("#")[0] in training_articles for q in questions])
    with tempfile.TemporaryDirectory() as index_dir:
        seeds = Assistant(settings=settings, index_dir=index_dir, embedder=embedder)
        seed_questions = [q for path, split in TUNING for q in load_gold(PROJECT_ROOT / path, split)]
        seed_evidence = CandidateEvidence(seeds)
        seed_groups = [labelled(seed_evidence, q) for q in seed_questions]

    evidence = CandidateEvidence(assistant)
    squad_groups = [labelled(evidence, q) for q in questions]
    fitting = [g for g, t in zip(squad_groups, training, strict=True) if t and g[1].any()]
    seed_fitting = [g for g in seed_groups if g[1].any()]
    squad_weight, seed_weight = balanced(len(fitting), len(seed_fitting))
    fitted = fit_conditional_logit(
        [(m, y / y.sum()) for m, y in fitting + seed_fitting], np.concatenate([squad_weight, seed_weight])
    )
    sentence_weights = dict(zip(EVIDENCE, np.round(fitted, 2).tolist(), strict=True))
    leads = np.array([bool(y[np.argmax(m @ fitted)]) if len(m) else False for m, y in squad_groups])
    seed_leads = [bool(y[np.argmax(m @ fitted)]) for m, y in seed_groups if len(m) and y.any()]
    print(f"sentence_weights = {sentence_weights}")
    print(
        f"  the best sentence holds the answer: SQuAD {leads[training].mean():.3f} on fitted articles, "
        f"{leads[~training].mean():.3f} on the others; seeds tuning questions {np.mean(seed_leads):.3f}"
    )

    corpus, _ = load_squad(squad)
    kept = Corpus(tuple(a for a in corpus.articles if not held_out(a.doc_id)))
    fitted_settings = replace(settings, sentence_weights=sentence_weights)
    partial = Assistant(
        settings=fitted_settings, corpus=kept, index_dir=DEFAULT_CACHE / "held-out-quarter", embedder=embedder
    )
    best = CandidateEvidence(partial).best(questions, fitted)
    answerable = np.array([not held_out(q.doc_ids[0]) for q in questions])
    seed_best = np.array([m[np.argmax(m @ fitted)] for m, _ in seed_groups])
    seed_answerable = np.array([q.answerable for q in seed_questions])
    squad_weight, seed_weight = balanced(int(training.sum()), len(seed_questions))
    coefficients = fit_logistic(
        np.vstack([best[training], seed_best]),
        np.concatenate([answerable[training], seed_answerable]).astype(float),
        np.concatenate([squad_weight, seed_weight]) * (int(training.sum()) + len(seed_questions)),
        non_negative=True,
    )
    confidence_weights = dict(zip(EVIDENCE, np.round(coefficients[1:], 2).tolist(), strict=True))
    confidence_bias = round(float(coefficients[0]), 2)
    print(f"confidence_weights = {confidence_weights}")
    print(f"confidence_bias = {confidence_bias}")

    def confidence(matrix: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(coefficients[0] + matrix @ coefficients[1:])))

    # A question asking for a required answer type abstains whatever its confidence when its best sentence
    # holds nothing of that type (Settings.required_answer_types): count it as abstaining at any threshold.
    gated = np.array([analyse(q.question).answer_type in settings.required_answer_types for q in seed_questions])
    gated &= seed_best[:, EVIDENCE.index("answer_type")] == 0
    seed_confidence = np.where(gated, 0.0, confidence(seed_best))
    threshold = threshold_for(seed_confidence[seed_answerable], ANSWERABLE_ABSTAINED)
    print(f"abstain_threshold = {threshold:.2f}")
    print(
        f"  seeds tuning questions: answerable abstained {np.mean(seed_confidence[seed_answerable] < threshold):.3f}, "
        f"unanswerable abstained {np.mean(seed_confidence[~seed_answerable] < threshold):.3f}"
    )
    abstains, test = confidence(best) < threshold, ~training
    print(
        f"  SQuAD, other articles: answerable abstained {np.mean(abstains[test & answerable]):.3f}, "
        f"unanswerable abstained {np.mean(abstains[test & ~answerable]):.3f}"
    )
    if write:
        weights = load_fitted_weights()
        weights.update(
            sentence_weights=sentence_weights,
            confidence_weights=confidence_weights,
            confidence_bias=confidence_bias,
            abstain_threshold=threshold,
        )
        target = Path(str(files("askbalkans").joinpath(WEIGHTS_FILE)))
        target.write_text(json.dumps(weights, indent=2) + "\n", "utf-8")
        print(f"wrote {target}")


def labelled(evidence: CandidateEvidence, question: GoldQuestion) -> tuple[np.ndarray, np.ndarray]:
    """The evidence for each candidate sentence of `question`, and which of them hold a gold answer."""
    matrix, texts = evidence(question.question)
    return matrix, np.array([contains_answer(text, question.answers) for text in texts], dtype=float)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path, help="a SQuAD-format JSON file")
    parser.add_argument("--write", action="store_true", help="store the fitted values in weights.json")
    arguments = parser.parse_args()
    main(arguments.squad, arguments.write)
