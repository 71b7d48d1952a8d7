"""Fit the sentence weights, the confidence models and the abstention thresholds; print them, and with
`--write` store them in src/askbalkans/weights.json, where the settings read them.

    .venv/bin/python eval/fit_weights.py ../shared/benchmarks/squad-dev-v1.1.json [--write]

Only the 32 SQuAD training articles (datasets.squad_split) and the seeds' tuning questions are read;
the held-out SQuAD articles and the test halves never are.

1. Sentence weights (the first stage, which picks the reader's candidates): a conditional logit over
   the candidate sentences of each answerable question (those of its top_k retrieved passages), the
   target spread over the sentences that hold a gold answer. Fitted on the SQuAD training articles'
   questions over their paragraphs, and the answerable tuning questions of the seeds (own-words tuning
   half, dev), each source given the same total weight.
2. Scorer confidence (reader "none"): a logistic regression of "the corpus answers the question" on the
   evidence for the best sentence, weights kept non-negative. SQuAD's unanswerable questions are those
   of the calibration quarter of the paragraphs (fitting.calibration_paragraph), asked of an index
   without them; the seeds' are near-miss and dev's unanswerable ones. Its threshold
   (scorer_abstain_threshold) abstains on at most 5% of the seeds' answerable tuning questions.
3. The reader's ranking: its logit plus reader_scorer_weight times the first-stage score, the weight
   a conditional logit over the reader's candidates of the answerable questions below. Then the reader
   confidence: sigmoid(scale * best reader logit + bias - penalty if the best sentence lacks the
   answer type the question requires), a logistic regression on questions the
   reader was not trained on: the calibration quarter's questions, asked of the training paragraphs
   (answerable) and of them without the calibration quarter (unanswerable), and the tuning halves of
   own-words (answerable) and near-miss (unanswerable); SQuAD and the seeds given the same weight.
   Its threshold (abstain_threshold) is the highest that abstains on at most READER_ANSWERABLE_ABSTAINED
   of each set's answerable questions (SQuAD's calibration quarter, own-words' tuning half).
Without the reader, a question asking for a required answer type abstains whatever its confidence when
its best sentence holds nothing of that type (Settings.required_answer_types); with it, that is the
penalty's feature, so that no fixed share of answerable questions is lost to the tagger's misses.
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
from askbalkans.composer import Composer, ReaderCalibration
from askbalkans.config import PROJECT_ROOT, WEIGHTS_FILE, Settings, load_fitted_weights
from askbalkans.corpus import Corpus
from askbalkans.embedding import SentenceTransformerEmbedder
from askbalkans.evaluation.cli import DEFAULT_CACHE
from askbalkans.evaluation.datasets import GoldQuestion, load_gold
from askbalkans.evaluation.fitting import (
    READER_ANSWERABLE_ABSTAINED,
    CalibrationSet,
    CandidateEvidence,
    ReaderCandidates,
    ReaderEvidence,
    balanced,
    calibration_paragraph,
    fit_conditional_logit,
    fit_logistic,
    fit_reader_confidence,
    fit_reader_scorer_weight,
    lead_share,
    threshold_for,
)
from askbalkans.evaluation.metrics import contains_answer
from askbalkans.evaluation.runner import squad_assistant
from askbalkans.question import analyse
from askbalkans.scoring import EVIDENCE

SCORER_ANSWERABLE_ABSTAINED = 0.05

TUNING = [("eval/own-words.jsonl", "tune"), ("eval/near-miss.jsonl", "tune"), ("eval/dev.jsonl", None)]
# The reader was trained on dev.jsonl (eval/train_reader.py): its confidence is fitted on the others.
READER_TUNING = [("eval/own-words.jsonl", "tune"), ("eval/near-miss.jsonl", "tune")]


def main(squad: Path, write: bool, reader_only: bool) -> None:
    settings = Settings(reader="none")
    embedder = SentenceTransformerEmbedder(settings.model)
    assistant, questions = squad_assistant(squad, settings, DEFAULT_CACHE, embedder, part="training")
    kept = Corpus(tuple(a for a in assistant.corpus.articles if not calibration_paragraph(a.doc_id)))
    fitted = {} if reader_only else fit_first_stage(assistant, questions, kept, embedder)
    reader_settings = replace(settings, reader="int8", **fitted)
    scorer_weight, calibration, threshold = fit_reader(squad, questions, kept, reader_settings, embedder)
    if write:
        weights = load_fitted_weights()
        weights.update(
            fitted,
            reader_scorer_weight=scorer_weight,
            reader_confidence_scale=calibration.scale,
            reader_confidence_bias=calibration.bias,
            reader_missing_type_penalty=calibration.missing_type_penalty,
            reader_scorer_confidence_scale=calibration.scorer_scale,
            abstain_threshold=threshold,
        )
        target = Path(str(files("askbalkans").joinpath(WEIGHTS_FILE)))
        target.write_text(json.dumps(weights, indent=2) + "\n", "utf-8")
        print(f"wrote {target}")


def fit_first_stage(
    assistant: Assistant, questions: list[GoldQuestion], kept: Corpus, embedder: SentenceTransformerEmbedder
) -> dict[str, object]:
    """Steps 1 and 2: the fitted settings of the scorer."""
    settings = assistant.settings
    with tempfile.TemporaryDirectory() as index_dir:
        seeds = Assistant(settings=settings, index_dir=index_dir, embedder=embedder)
        seed_questions = [q for path, split in TUNING for q in load_gold(PROJECT_ROOT / path, split)]
        seed_groups = [labelled(CandidateEvidence(seeds), q) for q in seed_questions]
    squad_groups = [labelled(CandidateEvidence(assistant), q) for q in questions]
    # 1. Sentence weights.
    fitting = [g for g in squad_groups if g[1].any()]
    seed_fitting = [g for g in seed_groups if g[1].any()]
    squad_weight, seed_weight = balanced(len(fitting), len(seed_fitting))
    fitted = fit_conditional_logit(
        [(m, y / y.sum()) for m, y in fitting + seed_fitting], np.concatenate([squad_weight, seed_weight])
    )
    sentence_weights = dict(zip(EVIDENCE, np.round(fitted, 2).tolist(), strict=True))
    leads = [bool(y[np.argmax(m @ fitted)]) if len(m) else False for m, y in squad_groups]
    seed_leads = [bool(y[np.argmax(m @ fitted)]) for m, y in seed_groups if len(m) and y.any()]
    print(f"sentence_weights = {sentence_weights}")
    print(
        f"  the best sentence holds the answer (fitted questions): SQuAD training articles {np.mean(leads):.3f}, "
        f"seeds tuning questions {np.mean(seed_leads):.3f}"
    )

    # 2. Scorer confidence and threshold.
    fitted_settings = replace(settings, sentence_weights=sentence_weights)
    partial = Assistant(
        settings=fitted_settings,
        corpus=kept,
        index_dir=DEFAULT_CACHE / "training-without-calibration",
        embedder=embedder,
    )
    best = CandidateEvidence(partial).best(questions, fitted)
    answerable = np.array([not calibration_paragraph(q.doc_ids[0]) for q in questions])
    seed_best = np.array([m[np.argmax(m @ fitted)] for m, _ in seed_groups])
    seed_answerable = np.array([q.answerable for q in seed_questions])
    squad_weight, seed_weight = balanced(len(questions), len(seed_questions))
    coefficients = fit_logistic(
        np.vstack([best, seed_best]),
        np.concatenate([answerable, seed_answerable]).astype(float),
        np.concatenate([squad_weight, seed_weight]) * (len(questions) + len(seed_questions)),
        non_negative=True,
    )
    confidence_weights = dict(zip(EVIDENCE, np.round(coefficients[1:], 2).tolist(), strict=True))
    confidence_bias = round(float(coefficients[0]), 2)
    print(f"confidence_weights = {confidence_weights}")
    print(f"confidence_bias = {confidence_bias}")
    gated = np.array([analyse(q.question).answer_type in settings.required_answer_types for q in seed_questions])
    gated &= seed_best[:, EVIDENCE.index("answer_type")] == 0
    seed_confidence = np.where(gated, 0.0, 1 / (1 + np.exp(-(coefficients[0] + seed_best @ coefficients[1:]))))
    scorer_threshold = threshold_for(seed_confidence[seed_answerable], SCORER_ANSWERABLE_ABSTAINED)
    print(f"scorer_abstain_threshold = {scorer_threshold:.2f}")
    report("  seeds tuning questions", seed_confidence, seed_answerable, scorer_threshold)
    return dict(
        sentence_weights=sentence_weights,
        confidence_weights=confidence_weights,
        confidence_bias=confidence_bias,
        scorer_abstain_threshold=scorer_threshold,
    )


def fit_reader(
    squad: Path,
    questions: list[GoldQuestion],
    kept: Corpus,
    reader_settings: Settings,
    embedder: SentenceTransformerEmbedder,
) -> tuple[float, ReaderCalibration, float]:
    """Step 3: the weight of the first-stage score in the reader's ranking, its calibration, its threshold."""
    reader_settings = replace(reader_settings, reader_scorer_weight=0.0)
    calibration_questions = [q for q in questions if calibration_paragraph(q.doc_ids[0])]
    with_answer = squad_assistant(squad, reader_settings, DEFAULT_CACHE, embedder, part="training")[0]
    without = Assistant(
        settings=reader_settings,
        corpus=kept,
        index_dir=DEFAULT_CACHE / "training-without-calibration",
        embedder=embedder,
    )
    tuning = [q for path, split in READER_TUNING for q in load_gold(PROJECT_ROOT / path, split)]
    with tempfile.TemporaryDirectory() as index_dir:
        reader_seeds = Assistant(settings=reader_settings, index_dir=index_dir, embedder=embedder)
        candidates = {
            "SQuAD calibration quarter": ReaderCandidates(with_answer)(calibration_questions),
            "seeds tuning halves": ReaderCandidates(reader_seeds)(tuning),
        }
        scorer_weight = fit_reader_scorer_weight(list(candidates.values()))
        print(f"reader_scorer_weight = {scorer_weight}")
        for name, groups in candidates.items():
            shares = [lead_share(groups, w) for w in ((0.0, 1.0), (1.0, 0.0), (1.0, scorer_weight))]
            print(f"  {name}, best candidate holds the answer: scorer %.3f, reader %.3f, both %.3f" % tuple(shares))
        for assistant in (with_answer, without, reader_seeds):
            assert isinstance(assistant.reader, Composer)
            assistant.reader.reader_scorer_weight = scorer_weight
        seeds_set = ReaderEvidence(reader_seeds)(tuning)
    squad_set = CalibrationSet.joined(
        [
            ReaderEvidence(with_answer)(calibration_questions, answerable=True),
            ReaderEvidence(without)(calibration_questions, answerable=False),
        ]
    )
    calibration, threshold = fit_reader_confidence([squad_set, seeds_set], READER_ANSWERABLE_ABSTAINED)
    print(f"{calibration}")
    print(f"abstain_threshold = {threshold:.2f}")
    for name, calibrated in (("  SQuAD calibration quarter", squad_set), ("  seeds tuning halves", seeds_set)):
        report(name, calibrated.confidence(calibration), calibrated.answerable, threshold)
    return scorer_weight, calibration, threshold


def report(name: str, confidences: np.ndarray, answerable: np.ndarray, threshold: float) -> None:
    abstains = confidences < threshold
    print(
        f"{name}: answerable abstained {np.mean(abstains[answerable]):.3f}, "
        f"unanswerable abstained {np.mean(abstains[~answerable]):.3f}"
    )


def labelled(evidence: CandidateEvidence, question: GoldQuestion) -> tuple[np.ndarray, np.ndarray]:
    """The evidence for each candidate sentence of `question`, and which of them hold a gold answer."""
    matrix, texts = evidence(question.question)
    return matrix, np.array([contains_answer(text, question.answers) for text in texts], dtype=float)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path, help="a SQuAD-format JSON file")
    parser.add_argument("--write", action="store_true", help="store the fitted values in weights.json")
    parser.add_argument(
        "--reader-only", action="store_true", help="step 3 only, over the scorer settings in weights.json"
    )
    arguments = parser.parse_args()
    main(arguments.squad, arguments.write, arguments.reader_only)
