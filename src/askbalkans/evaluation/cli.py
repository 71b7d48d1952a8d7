"""`askbalkans eval` (also `python -m askbalkans.evaluation`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from askbalkans.config import PROJECT_ROOT, SQUAD_PARTS, Settings

DEFAULT_CACHE = PROJECT_ROOT / "eval" / "cache"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--gold", type=Path, help="gold questions, JSONL (see eval/README.md)")
    source.add_argument("--squad", type=Path, help="a SQuAD-format JSON file: its paragraphs become the corpus")
    parser.add_argument("--split", help="--gold: only the questions of this split (tune or test)")
    parser.add_argument("--corpus", type=Path, help="articles folder for --gold (default: seeds/)")
    parser.add_argument("--index", type=Path, help="index folder for --gold (default: index/)")
    parser.add_argument(
        "--part",
        choices=SQUAD_PARTS,
        default="held-out",
        help="--squad: held-out (its held-out articles, the default), unanswerable (the held-out questions over "
        "the training articles alone) or all",
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="--squad: index cache (default eval/cache/)")
    parser.add_argument("--k", type=int, default=5, help="k of Recall@k (default 5)")
    parser.add_argument("--limit", type=int, help="--squad: evaluate this many questions, sampled")
    parser.add_argument("--seed", type=int, default=0, help="--squad: seed of the sample (default 0)")
    parser.add_argument("--json", type=Path, help="write every record and the aggregates here")
    parser.add_argument("--plot", type=Path, help="draw the Recall@k curve and latency histogram to this PNG")


def run(args: argparse.Namespace) -> int:
    from askbalkans.assistant import Assistant
    from askbalkans.evaluation.datasets import load_gold, sample
    from askbalkans.evaluation.report import format_misses, markdown, plot, write_json
    from askbalkans.evaluation.runner import evaluate, squad_assistant

    settings = Settings.from_env()
    if args.squad:
        assistant, questions = squad_assistant(args.squad, settings, args.cache, part=args.part)
        questions = sample(questions, args.limit, args.seed)
        source = f"SQuAD file {args.squad} ({args.part})"
    else:
        assistant = Assistant(corpus_dir=args.corpus, index_dir=args.index, settings=settings)
        questions = load_gold(args.gold, args.split)
        source = f"gold file {args.gold}" + (f", split {args.split}" if args.split else "")
    if not questions:
        print(f"no questions in {source}", file=sys.stderr)
        return 1
    print(f"{assistant.status}; evaluating {len(questions)} questions from {source}", file=sys.stderr)
    report = evaluate(assistant, questions, k=args.k, progress=True)
    print(markdown(report))
    print()
    print(format_misses(report.records))
    if args.json:
        write_json(report, str(args.gold or args.squad), args.json)
    if args.plot:
        plot(report, args.plot)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m askbalkans.evaluation", description="Evaluate AskBalkans.")
    add_arguments(parser)
    return run(parser.parse_args(argv))
