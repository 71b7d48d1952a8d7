"""Fit the sentence weights, the confidence calibration and the abstention threshold; print them, and with
`--write` store them in src/askbalkans/weights.json, where the settings read them.

    .venv/bin/python eval/fit_weights.py ../shared/benchmarks/squad-dev-v1.1.json --dev eval/dev.jsonl [--write]

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
import json
import tempfile
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

import numpy as np

from askbalkans.assistant import Assistant
from askbalkans.config import WEIGHTS_FILE, Settings, load_fitted_weights
from askbalkans.corpus import Corpus
from askbalkans.embedding import SentenceTransformerEmbedder
from askbalkans.evaluation.cli import DEFAULT_CACHE
from askbalkans.evaluation.datasets import load_gold, load_squad
from askbalkans.evaluation.fitting import (
    CandidateEvidence,
    fit_conditional_logit,
    fit_logistic,
    held_out,
    threshold_for,
)
from askbalkans.evaluation.metrics import contains_answer
from askbalkans.evaluation.runner import squad_assistant
from askbalkans.scoring import EVIDENCE

ANSWERABLE_ABSTAINED = 0.05


def main(squad: Path, dev: Path, write: bool) -> None:
    settings = Settings()
    embedder = SentenceTransformerEmbedder(settings.model)
    assistant, questions = squad_assistant(squad, settings, DEFAULT_CACHE, embedder)
    articles = sorted({q.doc_ids[0].split("#")[0] for q in questions})
    training_articles = {title for number, title in enumerate(articles) if number % 2 == 0}
    training = np.array([q.doc_ids[0].split("#")[0] in training_articles for q in questions])

    evidence = CandidateEvidence(assistant)
    groups = []
    for question in questions:
        matrix, texts = evidence(question.question)
        groups.append((matrix, np.array([contains_answer(text, question.answers) for text in texts], dtype=float)))
    fitted = fit_conditional_logit(
        [(m, y / y.sum()) for (m, y), t in zip(groups, training, strict=True) if t and y.any()]
    )
    sentence_weights = dict(zip(EVIDENCE, np.round(fitted, 2).tolist(), strict=True))
    leads = np.array([bool(y[np.argmax(m @ fitted)]) if len(m) else False for m, y in groups])
    print(f"sentence_weights = {sentence_weights}")
    print(
        f"  lead hit of the best sentence: {leads[training].mean():.3f} on training articles, "
        f"{leads[~training].mean():.3f} on the others"
    )

    corpus, _ = load_squad(squad)
    kept = Corpus(tuple(a for a in corpus.articles if not held_out(a.doc_id)))
    fitted_settings = replace(settings, sentence_weights=sentence_weights)
    partial = Assistant(
        settings=fitted_settings, corpus=kept, index_dir=DEFAULT_CACHE / "held-out-quarter", embedder=embedder
    )
    best = CandidateEvidence(partial).best(questions, fitted)
    answerable = np.array([not held_out(q.doc_ids[0]) for q in questions])
    coefficients = fit_logistic(best[training], answerable[training].astype(float))
    confidence_weights = dict(zip(EVIDENCE, np.round(coefficients[1:], 2).tolist(), strict=True))
    confidence_bias = round(float(coefficients[0]), 2)
    print(f"confidence_weights = {confidence_weights}")
    print(f"confidence_bias = {confidence_bias}")

    def confidence(matrix: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(coefficients[0] + matrix @ coefficients[1:])))

    dev_questions = load_gold(dev)
    with tempfile.TemporaryDirectory() as index_dir:
        seeds = Assistant(settings=fitted_settings, index_dir=index_dir, embedder=embedder)
        dev_confidence = confidence(CandidateEvidence(seeds).best(dev_questions, fitted))
    dev_answerable = np.array([q.answerable for q in dev_questions])
    threshold = threshold_for(dev_confidence[dev_answerable], ANSWERABLE_ABSTAINED)
    print(f"abstain_threshold = {threshold:.2f}")
    print(
        f"  {dev}: answerable abstained {np.mean(dev_confidence[dev_answerable] < threshold):.3f}, "
        f"unanswerable abstained {np.mean(dev_confidence[~dev_answerable] < threshold):.3f}"
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path, help="a SQuAD-format JSON file")
    parser.add_argument("--dev", type=Path, required=True, help="questions over the seeds, to choose the threshold on")
    parser.add_argument("--write", action="store_true", help="store the fitted values in weights.json")
    arguments = parser.parse_args()
    main(arguments.squad, arguments.dev, arguments.write)
