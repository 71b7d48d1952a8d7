"""Fitting the composer's weights: the sentence weights, the confidence model and the abstention threshold.

`eval/fit_weights.py` runs these on SQuAD and the dev questions and writes `weights.json`; see
eval/README.md ("How the weights were chosen").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from askbalkans.assistant import Assistant
from askbalkans.composer import Composer, ReaderCalibration
from askbalkans.evaluation.datasets import GoldQuestion
from askbalkans.evaluation.metrics import contains_answer
from askbalkans.question import analyse
from askbalkans.scoring import EVIDENCE, SentenceScorer

# The reader's threshold abstains on at most this share of each calibration set's answerable questions.
READER_ANSWERABLE_ABSTAINED = 0.03
NO_CANDIDATE_LOGIT = -20.0  # a question with nothing retrieved: surely not answered
CALIBRATION_SHARE = 4  # one paragraph in four


def calibration_paragraph(doc_id: str) -> bool:
    """Whether a SQuAD training paragraph is kept for calibration (a fixed quarter, by hash of its id): the
    reader is not trained on it, and the confidence is fitted with it left out of the index."""
    return int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % CALIBRATION_SHARE == 0


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


class ReaderEvidence:
    """For each question: the reader's logit for its best candidate sentence, and whether that sentence
    lacks the answer type the question requires, as the assistant's composer (with its reader) sees it."""

    def __init__(self, assistant: Assistant):
        if not isinstance(assistant.reader, Composer) or assistant.reader.sentence_reader is None:
            raise ValueError("ReaderEvidence needs an assistant whose composer has a trained reader")
        self.assistant = assistant
        self.composer = assistant.reader

    def __call__(self, questions: list[GoldQuestion], answerable: bool | None = None) -> CalibrationSet:
        """`answerable`: whether the corpus answers them (default: whether each has gold answers)."""
        logits, scorer_logits, lacks_type = [], [], []
        for question in questions:
            retrieval = self.assistant.retrieve(question.question)
            analysis = analyse(retrieval.question, self.assistant.tagger.tag([retrieval.question])[0])
            scored = self.composer.scorer.score(retrieval, analysis)
            ranked, _ = self.composer.rank(retrieval.question, analysis, scored)
            best = ranked[0] if ranked else None
            logits.append(best.reader_logit if best and best.reader_logit is not None else NO_CANDIDATE_LOGIT)
            scorer_logits.append(self.composer.confidence.logit(best.evidence) if best else NO_CANDIDATE_LOGIT)
            lacks_type.append(best is not None and self.composer.lacks_answer_type(analysis, best))
        flags = [q.answerable if answerable is None else answerable for q in questions]
        return CalibrationSet(
            np.array(logits), np.array(scorer_logits), np.array(lacks_type, dtype=bool), np.array(flags, dtype=bool)
        )


class ReaderCandidates:
    """For each question: its reader candidates' reader logit and first-stage score (one row each), and
    which of them hold a gold answer; the composer must rank by the logit alone (reader_scorer_weight 0)."""

    def __init__(self, assistant: Assistant):
        if not isinstance(assistant.reader, Composer) or assistant.reader.reader_scorer_weight != 0:
            raise ValueError("ReaderCandidates needs a composer with a trained reader and reader_scorer_weight 0")
        self.assistant = assistant
        self.composer = assistant.reader

    def __call__(self, questions: list[GoldQuestion]) -> list[tuple[np.ndarray, np.ndarray]]:
        groups = []
        for question in questions:
            retrieval = self.assistant.retrieve(question.question)
            analysis = analyse(retrieval.question, self.assistant.tagger.tag([retrieval.question])[0])
            scored = self.composer.scorer.score(retrieval, analysis)
            ranked, _ = self.composer.rank(retrieval.question, analysis, scored)
            first_stage = {s.sentence_id: s.score for s in scored}
            texts = self.assistant.index.chunks.sentences(s.sentence_id for s in ranked)
            matrix = np.array([[s.score, first_stage[s.sentence_id]] for s in ranked]).reshape(len(ranked), 2)
            holds = [contains_answer(texts[s.sentence_id].text, question.answers) for s in ranked]
            groups.append((matrix, np.array(holds, dtype=float)))
        return groups


def fit_reader_scorer_weight(sets: list[list[tuple[np.ndarray, np.ndarray]]]) -> float:
    """The weight of the first-stage score beside the reader's logit that best picks a sentence holding the
    answer (a conditional logit over each answerable question's candidates, each set the same weight)."""
    kept = [[(m, y / y.sum()) for m, y in groups if y.any()] for groups in sets]
    logit_weight, scorer_weight = fit_conditional_logit(
        [g for groups in kept for g in groups], np.concatenate(balanced(*(len(groups) for groups in kept)))
    )
    return round(max(float(scorer_weight), 0.0) / float(logit_weight), 3)


def lead_share(groups: list[tuple[np.ndarray, np.ndarray]], weights: tuple[float, float]) -> float:
    """Share of the answerable questions whose best candidate under `weights` holds the answer."""
    answerable = [(m, y) for m, y in groups if y.any()]
    return float(np.mean([y[np.argmax(m @ np.array(weights))] for m, y in answerable]))


@dataclass(frozen=True)
class CalibrationSet:
    """Questions the reader was not trained on: for the chosen sentence of each, the reader's logit, the
    first stage's confidence logit, whether it lacks the required answer type; whether the corpus answers
    the question."""

    logits: np.ndarray
    scorer_logits: np.ndarray
    lacks_type: np.ndarray
    answerable: np.ndarray

    def confidence(self, calibration: ReaderCalibration) -> np.ndarray:
        """As the composer computes it."""
        rows = zip(self.logits, self.scorer_logits, self.lacks_type, strict=True)
        return np.array([calibration.confidence(x, s, g) for x, s, g in rows])

    @staticmethod
    def joined(sets: list[CalibrationSet]) -> CalibrationSet:
        return CalibrationSet(
            *(
                np.concatenate([getattr(s, f) for s in sets])
                for f in ("logits", "scorer_logits", "lacks_type", "answerable")
            )
        )


def fit_reader_confidence(sets: list[CalibrationSet], answerable_abstained: float) -> tuple[ReaderCalibration, float]:
    """The reader's calibration, a logistic regression of "answerable" on the reader's and the first
    stage's logits and the missing answer type, each set given the same total weight; and the highest
    threshold (in hundredths) that abstains on at most `answerable_abstained` of the answerable questions
    of every set."""
    weights = balanced(*(len(s.logits) for s in sets))
    total = sum(len(s.logits) for s in sets)
    joined = CalibrationSet.joined(sets)
    # The missing type enters negated, so that the non-negative fit makes it a penalty.
    bias, scale, scorer_scale, penalty = fit_logistic(
        np.column_stack([joined.logits, joined.scorer_logits, -joined.lacks_type.astype(float)]),
        joined.answerable.astype(float),
        np.concatenate(weights) * total,
        non_negative=True,
    )
    calibration = ReaderCalibration(*(round(float(v), 3) for v in (scale, bias, penalty, scorer_scale)))
    threshold = min(threshold_for(s.confidence(calibration)[s.answerable], answerable_abstained) for s in sets)
    return calibration, threshold


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
