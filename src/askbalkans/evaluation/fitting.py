"""Fitting the composer's weights: the sentence weights, the confidence model and the abstention threshold.

`eval/fit_weights.py` runs these on SQuAD and the dev questions and writes `weights.json`; see
eval/README.md ("How the weights were chosen").
"""

from __future__ import annotations

import hashlib

import numpy as np

from askbalkans.assistant import Assistant
from askbalkans.evaluation.datasets import GoldQuestion
from askbalkans.question import analyse
from askbalkans.scoring import EVIDENCE, SentenceScorer

HELD_OUT_SHARE = 4  # one paragraph in four


def held_out(doc_id: str) -> bool:
    """Whether a SQuAD paragraph is left out of the calibration index (a fixed quarter, by hash of its id)."""
    return int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % HELD_OUT_SHARE == 0


class CandidateEvidence:
    """The evidence for each candidate sentence of a question, as the assistant's composer sees it."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.scorer = SentenceScorer(assistant.index, assistant.settings.sentence_weights, assistant.finder)

    def __call__(self, question: str) -> tuple[np.ndarray, list[str]]:
        """Evidence matrix (one row per candidate sentence, columns EVIDENCE) and the sentences' texts."""
        retrieval = self.assistant.retrieve(question)
        ranked = self.scorer.score(retrieval, analyse(question, self.assistant.tagger.tag([question])[0]))
        sentences = self.assistant.index.chunks.sentences(s.sentence_id for s in ranked)
        matrix = np.array([s.evidence.vector() for s in ranked]).reshape(len(ranked), len(EVIDENCE))
        return matrix, [sentences[s.sentence_id].text for s in ranked]

    def best(self, questions: list[GoldQuestion], weights: np.ndarray) -> np.ndarray:
        """The evidence row of each question's best sentence under `weights`."""
        rows = []
        for question in questions:
            matrix, _ = self(question.question)
            rows.append(matrix[np.argmax(matrix @ weights)] if len(matrix) else np.zeros(len(EVIDENCE)))
        return np.array(rows)


def fit_conditional_logit(
    groups: list[tuple[np.ndarray, np.ndarray]],
    group_weights: np.ndarray | None = None,
    l2: float = 1e-3,
    steps: int = 25,
) -> np.ndarray:
    """Weights maximising the weighted mean log-likelihood of the target distribution over each group's
    rows (a group: candidate evidence rows and a target distribution over them), minus l2 * |weights|^2.
    Newton's method; the objective is concave."""
    shares = np.ones(len(groups)) if group_weights is None else np.asarray(group_weights, dtype=float)
    shares = shares / shares.sum()
    weights = np.zeros(groups[0][0].shape[1])
    for _ in range(steps):
        gradient = -2 * l2 * weights
        hessian = -2 * l2 * np.eye(len(weights))
        for (matrix, target), share in zip(groups, shares, strict=True):
            scores = matrix @ weights
            p = np.exp(scores - scores.max())
            p /= p.sum()
            mean = matrix.T @ p
            gradient += share * (matrix.T @ target - mean)
            hessian -= share * ((matrix * p[:, None]).T @ matrix - np.outer(mean, mean))
        weights -= np.linalg.solve(hessian, gradient)
    return weights


def fit_logistic(
    matrix: np.ndarray,
    labels: np.ndarray,
    sample_weights: np.ndarray | None = None,
    l2: float = 1e-2,
    non_negative: bool = False,
) -> np.ndarray:
    """Bias and weights of an L2-regularised, weighted logistic regression of `labels` on `matrix`.
    `non_negative`: no weight below zero (the bias is free), so that more evidence never lowers the
    confidence: questions written to avoid the articles' words must not teach that overlap is bad."""
    from scipy.optimize import minimize

    x = np.column_stack([np.ones(len(matrix)), matrix])
    sample = np.ones(len(matrix)) if sample_weights is None else np.asarray(sample_weights, dtype=float)

    def loss(weights: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ weights
        likelihood = sample * (np.logaddexp(0, z) - labels * z)
        p = 1 / (1 + np.exp(-z))
        penalty = l2 * np.sum(weights[1:] ** 2) / 2
        gradient = x.T @ (sample * (p - labels)) + l2 * np.concatenate([[0.0], weights[1:]])
        return float(likelihood.sum() + penalty), gradient

    bounds = [(None, None)] + [(0.0 if non_negative else None, None)] * matrix.shape[1]
    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds).x


def balanced(*counts: int) -> list[np.ndarray]:
    """Per-item weights giving each of several sets the same total weight, whatever their sizes."""
    return [np.full(count, 1.0 / count) if count else np.zeros(0) for count in counts]


def threshold_for(confidences: np.ndarray, answerable_abstained: float) -> float:
    """The highest threshold (in hundredths) below which at most `answerable_abstained` of the
    confidences of answerable questions fall."""
    ordered = np.sort(confidences)
    return float(np.floor(ordered[int(answerable_abstained * len(ordered))] * 100) / 100)
