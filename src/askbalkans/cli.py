"""The `askbalkans` command: ask, index, serve, eval."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from askbalkans.errors import AskBalkansError

if TYPE_CHECKING:
    from askbalkans.answer import Answer
    from askbalkans.assistant import Assistant


def format_answer(answer: Answer) -> str:
    """An answer for the terminal: notices, the quoted text, then its sources."""
    lines = [f"note: {notice}" for notice in answer.notices]
    lines.append(answer.text)
    if answer.citations:
        lines.append("")
        lines.append(f"Sources (confidence {answer.confidence:.2f}):")
        for citation in answer.citations:
            where = f"{citation.doc_id}, characters {citation.start}-{citation.end}"
            lines.append(f"[{citation.marker}] {citation.title[:100]} — {where}")
    return "\n".join(lines)


def _assistant(args: argparse.Namespace, rebuild: bool = False) -> Assistant:
    from askbalkans.assistant import Assistant  # imports the model and index libraries: only when needed

    return Assistant(corpus_dir=args.corpus, index_dir=args.index, model=args.model, rebuild=rebuild)


def cmd_ask(args: argparse.Namespace) -> int:
    answer = _assistant(args).ask(" ".join(args.question), top_k=args.top_k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    assistant = _assistant(args, rebuild=args.rebuild)
    for skipped in assistant.corpus.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}")
    print(f"{assistant.status}; {assistant.index.sentence_count} sentences, in {assistant.store.description}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from askbalkans.config import Settings
    from askbalkans.server import serve

    settings = Settings.from_env()  # a wrong setting stops here, before anything listens
    serve(
        host=args.host,
        port=args.port,
        extra_hosts=settings.allowed_hosts + tuple(args.allowed_host),
        origins=settings.allowed_origins + tuple(args.allowed_origin),
        settings=settings,
        corpus_dir=args.corpus,
        index_dir=args.index,
        model=args.model,
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from askbalkans.evaluation.cli import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    from askbalkans.evaluation.cli import add_arguments as add_eval_arguments

    parser = argparse.ArgumentParser(prog="askbalkans", description="Cited, extractive answers from a news corpus.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True)

    corpus_options = argparse.ArgumentParser(add_help=False)
    corpus_options.add_argument("--corpus", type=Path, help="folder of .txt/.md articles (default: seeds/)")
    corpus_options.add_argument("--index", type=Path, help="index folder (default: index/)")
    corpus_options.add_argument(
        "--model", help="sentence-transformers model name or path (default: bundled all-MiniLM-L6-v2)"
    )

    ask = commands.add_parser("ask", parents=[corpus_options], help="answer one question")
    ask.add_argument("question", nargs="+", help="the question (quote it, or not)")
    ask.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    ask.add_argument("--top-k", type=int, help="passages to draw the answer from (default 5)")
    ask.set_defaults(run=cmd_ask)

    index = commands.add_parser(
        "index", parents=[corpus_options], help="bring the index up to date: add, re-embed or drop changed articles"
    )
    index.add_argument("--rebuild", action="store_true", help="rebuild everything even if the index is up to date")
    index.set_defaults(run=cmd_index)

    serve = commands.add_parser("serve", parents=[corpus_options], help="serve the chat page")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name (repeatable; see ASKBALKANS_ALLOWED_HOSTS)",
    )
    serve.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages of this origin call the API (repeatable; see ASKBALKANS_ALLOWED_ORIGINS)",
    )
    serve.set_defaults(run=cmd_serve)

    evaluate = commands.add_parser("eval", help="evaluate on gold questions or a SQuAD file")
    add_eval_arguments(evaluate)
    evaluate.set_defaults(run=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.run(args))
    except AskBalkansError as error:  # the user's to fix; anything else is a bug and keeps its traceback
        print(f"askbalkans: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
