"""The reader's ablation table: the assistant over the seeds with other readers and settings, on the test
halves and the gold file. Prints a Markdown table; asserts nothing.

    .venv/bin/python eval/ablation.py [--reader NAME=DIR ...] [--candidates 4 8 16]

Rows: the sentence scorer alone (reader "none", its own fitted threshold); the shipped reader in int8 and
in fp32; the shipped reader reading 4, 8, 16... candidates; and each `--reader NAME=DIR`, a folder that
`eval/train_reader.py --out DIR` wrote (another shape, data left out, a share of the questions). A reader
from a folder gets its confidence and threshold refitted on the seeds' tuning halves by the rule of
eval/fit_weights.py (fitting.fit_reader_confidence), so that the rows compare readers, not thresholds;
the shipped reader keeps the fitted values in weights.json.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from askbalkans import Assistant, Settings
from askbalkans.composer import Composer
from askbalkans.composer.reader import MANIFEST_FILE, WEIGHTS_FILE, TrainedReader
from askbalkans.config import PROJECT_ROOT
from askbalkans.embedding import SentenceTransformerEmbedder
from askbalkans.evaluation.datasets import load_gold
from askbalkans.evaluation.fitting import READER_ANSWERABLE_ABSTAINED, ReaderEvidence, fit_reader_confidence
from askbalkans.evaluation.runner import evaluate

TUNING = [("eval/own-words.jsonl", "tune"), ("eval/near-miss.jsonl", "tune")]
SETS = {
    "own-words test": ("eval/own-words.jsonl", "test", ("lead_hit", "answer_hit", "answerable_abstained")),
    "near-miss test": ("eval/near-miss.jsonl", "test", ("unanswerable_abstained",)),
    "gold": (
        "eval/gold.jsonl",
        None,
        ("lead_hit", "answer_hit", "citation_precision", "answerable_abstained", "unanswerable_abstained"),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", action="append", default=[], help="NAME=DIR: a reader train_reader.py wrote")
    parser.add_argument("--candidates", type=int, nargs="*", default=[4, 16], help="other reader_candidates to try")
    arguments = parser.parse_args()

    embedder = SentenceTransformerEmbedder()
    shipped = Settings.from_env()
    rows: list[tuple[str, Settings, Path | None]] = [
        ("scorer alone (reader none)", replace(shipped, reader="none"), None),
        (f"reader int8, {shipped.reader_candidates} candidates (shipped)", replace(shipped, reader="int8"), None),
        ("reader fp32", replace(shipped, reader="fp32"), None),
        *(
            (f"reader int8, {n} candidates", replace(shipped, reader="int8", reader_candidates=n), None)
            for n in arguments.candidates
        ),
        *(
            (name, replace(shipped, reader="int8"), Path(folder))
            for name, _, folder in (r.partition("=") for r in arguments.reader)
        ),
    ]
    header = [f"{set_name} {metric}" for set_name, (_, _, metrics) in SETS.items() for metric in metrics]
    print("| variant | " + " | ".join(header) + " |")
    print("|" + " --- |" * (len(header) + 1))
    with tempfile.TemporaryDirectory() as index_dir:
        for name, settings, folder in rows:
            assistant = Assistant(settings=settings, index_dir=index_dir, embedder=embedder)
            if folder is not None:
                use_reader(assistant, folder)
            figures = []
            for path, split, metrics in SETS.values():
                report = evaluate(assistant, load_gold(PROJECT_ROOT / path, split))
                figures += [f"{report.aggregates[m]:.3f}" for m in metrics]
            print(f"| {name} | " + " | ".join(figures) + " |", flush=True)


def use_reader(assistant: Assistant, folder: Path) -> None:
    """Put the reader in `folder` into the assistant's composer, its confidence refitted on the tuning halves."""
    composer = assistant.reader
    assert isinstance(composer, Composer)
    composer.sentence_reader = TrainedReader(folder / WEIGHTS_FILE, folder / MANIFEST_FILE)
    tuning = [q for path, split in TUNING for q in load_gold(PROJECT_ROOT / path, split)]
    calibration, threshold = fit_reader_confidence([ReaderEvidence(assistant)(tuning)], READER_ANSWERABLE_ABSTAINED)
    composer.reader_calibration = calibration
    composer.abstain_threshold = threshold


if __name__ == "__main__":
    main()
