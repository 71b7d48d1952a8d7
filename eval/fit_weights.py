"""Fit the sentence weights, the confidence calibration and the abstention threshold, and print them.

    .venv/bin/python eval/fit_weights.py ../shared/benchmarks/squad-dev-v1.1.json --dev eval/dev.jsonl

The printed values are SENTENCE_WEIGHTS, CONFIDENCE_WEIGHTS, CONFIDENCE_BIAS and the default of
`abstain_threshold` in src/askbalkans/config.py.

1. Sentence weights: a conditional logit over the candidate sentences of each SQuAD question (the
   sentences of its top_k retrieved passages), the target spread over the sentences that hold a gold
   answer. Fitted on the questions of even-numbered articles; the lead hit is reported on the others.
2. Calibration: an index over all SQuAD paragraphs but a held-out quarter (chosen by hash of the
   paragraph id). Questions on held-out paragraphs are unanswerable by construction, and hard: their
   article's other paragraphs are still there. A logistic regression of "answerable" on the evidence for
   the best sentence, fitted on even-numbered articles.
3. Threshold: SQuAD's questions were written with the paragraph in view and share far more words with it
   than a user's question does, so the threshold is chosen on questions over the seeds: those of `--dev`
   (gold format, kept apart from eval/gold.jsonl), abstaining on at most 5% of its answerable questions.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from askbalkans.assistant import Assistant
from askbalkans.composer import EVIDENCE, question_focus
from askbalkans.config import EvidenceWeights, Settings
from askbalkans.corpus import Corpus
from askbalkans.eval import SQUAD_CACHE, GoldQuestion, contains_answer, load_gold, load_squad, squad_assistant

HELD_OUT_SHARE = 4  # one paragraph in four
ANSWERABLE_ABSTAINED = 0.05


def held_out(doc_id: str) -> bool:
    return int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % HELD_OUT_SHARE == 0


def candidates(assistant: Assistant, question: str) -> tuple[np.ndarray, list[str]]:
    """Evidence matrix (one row per candidate sentence, columns EVIDENCE) and the sentences' texts."""
    retrieval = assistant.retriever.retrieve(question)
    ranked = assistant.composer.scorer.score(retrieval, question_focus(question))
    matrix = np.array([[getattr(s.evidence, name) for name in EVIDENCE] for s in ranked])
    return matrix, [assistant.index.sentences[s.sentence_id].text for s in ranked]


def best_evidence(assistant: Assistant, questions: list[GoldQuestion], weights: np.ndarray) -> np.ndarray:
    """The evidence row of each question's best sentence under `weights`."""
    rows = []
    for question in questions:
        matrix, _ = candidates(assistant, question.question)
        rows.append(matrix[np.argmax(matrix @ weights)])
    return np.array(rows)


def fit_conditional_logit(groups: list[tuple[np.ndarray, np.ndarray]], l2: float = 1e-3, steps: int = 25) -> np.ndarray:
    """Weights maximising the mean log-likelihood of the answer-holding sentences of each group, minus
    l2 * |weights|^2 (Newton's method; the objective is concave)."""
    weights = np.zeros(groups[0][0].shape[1])
    for _ in range(steps):
        gradient = -2 * l2 * weights
        hessian = -2 * l2 * np.eye(len(weights))
        for matrix, target in groups:
            scores = matrix @ weights
            p = np.exp(scores - scores.max())
            p /= p.sum()
            mean = matrix.T @ p
            gradient += (matrix.T @ target - mean) / len(groups)
            hessian -= ((matrix * p[:, None]).T @ matrix - np.outer(mean, mean)) / len(groups)
        weights -= np.linalg.solve(hessian, gradient)
    return weights


def fit_logistic(matrix: np.ndarray, labels: np.ndarray, l2: float = 1e-2, steps: int = 30) -> np.ndarray:
    """Bias and weights of a logistic regression (Newton's method)."""
    x = np.column_stack([np.ones(len(matrix)), matrix])
    weights = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ weights))
        gradient = x.T @ (p - labels) + l2 * weights
        hessian = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(weights))
        weights -= np.linalg.solve(hessian, gradient)
    return weights


def main(squad: Path, dev: Path) -> None:
    settings = Settings()
    assistant, questions = squad_assistant(squad, settings)
    articles = sorted({q.doc_ids[0].split("#")[0] for q in questions})
    training_articles = {title for number, title in enumerate(articles) if number % 2 == 0}
    training = np.array([q.doc_ids[0].split("#")[0] in training_articles for q in questions])

    groups = []
    for question in questions:
        matrix, texts = candidates(assistant, question.question)
        groups.append((matrix, np.array([contains_answer(text, question.answers) for text in texts], dtype=float)))
    fitted = fit_conditional_logit(
        [(m, y / y.sum()) for (m, y), t in zip(groups, training, strict=True) if t and y.any()]
    )
    weights = EvidenceWeights(**dict(zip(EVIDENCE, np.round(fitted, 2).tolist(), strict=True)))
    leads = np.array([bool(y[np.argmax(m @ fitted)]) for m, y in groups])
    print(f"SENTENCE_WEIGHTS = {weights}")
    print(
        f"  lead hit of the best sentence: {leads[training].mean():.3f} on training articles, "
        f"{leads[~training].mean():.3f} on the others"
    )

    corpus, _ = load_squad(squad)
    kept = Corpus(tuple(a for a in corpus.articles if not held_out(a.doc_id)))
    fitted_settings = replace(settings, sentence_weights=weights)
    partial = Assistant(settings=fitted_settings, corpus=kept, index_dir=Path(SQUAD_CACHE) / "held-out-quarter")
    best = best_evidence(partial, questions, fitted)
    answerable = np.array([not held_out(q.doc_ids[0]) for q in questions])
    coefficients = fit_logistic(best[training], answerable[training].astype(float))
    confidence_weights = EvidenceWeights(**dict(zip(EVIDENCE, np.round(coefficients[1:], 2).tolist(), strict=True)))
    print(f"CONFIDENCE_WEIGHTS = {confidence_weights}")
    print(f"CONFIDENCE_BIAS = {coefficients[0]:.2f}")

    def confidence(matrix: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(coefficients[0] + matrix @ coefficients[1:])))

    dev_questions = load_gold(dev)
    with tempfile.TemporaryDirectory() as index_dir:
        seeds = Assistant(settings=fitted_settings, index_dir=index_dir)
        dev_confidence = confidence(best_evidence(seeds, dev_questions, fitted))
    dev_answerable = np.array([q.answerable for q in dev_questions])
    # The highest threshold below which at most 5% of the answerable questions fall.
    ordered = np.sort(dev_confidence[dev_answerable])
    threshold = float(np.floor(ordered[int(ANSWERABLE_ABSTAINED * len(ordered))] * 100) / 100)
    print(f"abstain_threshold: {threshold:.2f}")
    print(
        f"  {dev}: answerable abstained {np.mean(dev_confidence[dev_answerable] < threshold):.3f}, "
        f"unanswerable abstained {np.mean(dev_confidence[~dev_answerable] < threshold):.3f}"
    )
    abstains, test = confidence(best) < threshold, ~training
    print(
        f"  SQuAD, other articles: answerable abstained {np.mean(abstains[test & answerable]):.3f}, "
        f"unanswerable abstained {np.mean(abstains[test & ~answerable]):.3f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path, help="a SQuAD-format JSON file")
    parser.add_argument("--dev", type=Path, required=True, help="questions over the seeds, to choose the threshold on")
    arguments = parser.parse_args()
    main(arguments.squad, arguments.dev)
