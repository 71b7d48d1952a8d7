"""The fitters recover known weights from synthetic data; the evidence they fit on is the composer's."""

import numpy as np
import pytest

from askbalkans.evaluation.fitting import (
    CalibrationSet,
    CandidateEvidence,
    calibration_paragraph,
    fit_conditional_logit,
    fit_logistic,
    fit_reader_confidence,
    threshold_for,
)
from askbalkans.scoring import EVIDENCE


def test_the_conditional_logit_recovers_the_weights_that_chose_the_answers():
    rng = np.random.default_rng(0)
    true = np.array([2.0, -1.0, 0.5])
    groups = []
    for _ in range(400):
        matrix = rng.normal(size=(6, 3))
        p = np.exp(matrix @ true)
        chosen = rng.choice(6, p=p / p.sum())
        groups.append((matrix, np.eye(6)[chosen]))
    np.testing.assert_allclose(fit_conditional_logit(groups, l2=0), true, atol=0.35)


def test_the_logistic_regression_recovers_bias_and_weights():
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(4000, 2))
    labels = (rng.random(4000) < 1 / (1 + np.exp(-(-1.0 + matrix @ [1.5, -0.5])))).astype(float)
    np.testing.assert_allclose(fit_logistic(matrix, labels, l2=0), [-1.0, 1.5, -0.5], atol=0.15)


def test_the_threshold_abstains_on_at_most_the_allowed_share():
    confidences = np.linspace(0.05, 0.95, 100)
    threshold = threshold_for(confidences, 0.05)
    assert np.mean(confidences < threshold) <= 0.05
    assert threshold == pytest.approx(0.09)


def test_the_calibration_quarter_is_fixed_and_about_a_quarter():
    ids = [f"Article#{n}" for n in range(2000)]
    share = np.mean([calibration_paragraph(i) for i in ids])
    assert 0.2 < share < 0.3 and [calibration_paragraph(i) for i in ids] == [calibration_paragraph(i) for i in ids]


def synthetic_calibration_set(rng: np.random.Generator, size: int) -> CalibrationSet:
    """Answerable questions have higher logits and rarely lack the asked type; a few do (tagger misses)."""
    answerable = rng.random(size) < 0.5
    logits = np.where(answerable, rng.normal(3.0, 2.0, size), rng.normal(-1.0, 2.0, size))
    scorer_logits = np.where(answerable, rng.normal(1.0, 1.0, size), rng.normal(-1.0, 1.0, size))
    lacks_type = rng.random(size) < np.where(answerable, 0.05, 0.5)
    return CalibrationSet(logits, scorer_logits, lacks_type, answerable)


def test_the_reader_calibration_penalises_a_missing_type_and_keeps_the_answerable_budget():
    rng = np.random.default_rng(2)
    sets = [synthetic_calibration_set(rng, 2000), synthetic_calibration_set(rng, 300)]
    calibration, threshold = fit_reader_confidence(sets, 0.03)
    assert calibration.scale > 0 and calibration.scorer_scale > 0 and calibration.missing_type_penalty > 1.0
    for calibrated in sets:
        confidence = calibrated.confidence(calibration)
        assert np.mean(confidence[calibrated.answerable] < threshold) <= 0.03
        # A soft penalty: a confident reader still answers a question whose type the tagger missed.
        missed = calibrated.answerable & calibrated.lacks_type
        assert np.mean(confidence[missed] >= threshold) > 0.5
        assert np.mean(confidence[~calibrated.answerable] < threshold) > 0.4


@pytest.mark.e2e
def test_candidate_evidence_is_what_the_composer_ranks(seeds_assistant):
    evidence = CandidateEvidence(seeds_assistant)
    matrix, texts = evidence("When did Peter Sorensen visit Pristina?")
    assert matrix.shape == (len(texts), len(EVIDENCE)) and len(texts) > 5
    weights = np.array([seeds_assistant.settings.sentence_weights[name] for name in EVIDENCE])
    answer = seeds_assistant.ask("When did Peter Sorensen visit Pristina?")
    assert texts[int(np.argmax(matrix @ weights))] == answer.lead.text
