"""The `askbalkans` command: ask, index, add, serve, eval."""

from __future__ import annotations

import argparse
import datetime as dt
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
    answer = _assistant(args).ask(
        " ".join(args.question), top_k=args.top_k, since=args.since, until=args.until, outlet=args.outlet
    )
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    print_index_report(_assistant(args, rebuild=args.rebuild))
    return 0


def print_index_report(assistant: Assistant) -> None:
    """Every file the index did not take and why, every article added, changed or removed, then a summary."""
    for skipped in assistant.corpus.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}")
    report = assistant.report
    for label, doc_ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        for doc_id in doc_ids:
            print(f"{label} {doc_id}")
    print(f"{assistant.status}; {assistant.index.sentence_count} sentences, in {assistant.store.description}")


def cmd_add(args: argparse.Namespace) -> int:
    from askbalkans.config import Settings
    from askbalkans.corpus import FileLimits
    from askbalkans.ingest import add_article

    settings = Settings.from_env()
    folder = args.corpus or settings.corpus_dir
    limits = FileLimits(settings.max_article_bytes, settings.max_document_bytes)
    added = add_article(args.source, folder, limits, settings.fetch_timeout_s, replace=args.replace)
    if added.unchanged:
        print(f"{added.path} is already in the corpus, unchanged")
    else:
        print(f"{'replaced' if added.replaced else 'added'} {added.path}: “{added.title}”")
    print_index_report(_assistant(args))
    return 0


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {text!r}") from None


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
    corpus_options.add_argument(
        "--corpus", type=Path, help="folder of articles: .txt, .md, .html, .pdf, .docx (default: seeds/)"
    )
    corpus_options.add_argument("--index", type=Path, help="index folder (default: index/)")
    corpus_options.add_argument(
        "--model", help="sentence-transformers model name or path (default: bundled all-MiniLM-L6-v2)"
    )

    ask = commands.add_parser("ask", parents=[corpus_options], help="answer one question")
    ask.add_argument("question", nargs="+", help="the question (quote it, or not)")
    ask.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    ask.add_argument("--top-k", type=int, help="passages to draw the answer from (default 5)")
    ask.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="only articles published on or after this day")
    ask.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="only articles published on or before it")
    ask.add_argument("--outlet", default="", help="only articles of an outlet whose name contains this (any case)")
    ask.set_defaults(run=cmd_ask)

    index = commands.add_parser(
        "index", parents=[corpus_options], help="bring the index up to date: add, re-embed or drop changed articles"
    )
    index.add_argument("--rebuild", action="store_true", help="rebuild everything even if the index is up to date")
    index.set_defaults(run=cmd_index)

    add = commands.add_parser(
        "add", parents=[corpus_options], help="add an article file or web page to the corpus, and index it"
    )
    add.add_argument("source", metavar="PATH_OR_URL", help="a .txt, .md, .html, .pdf or .docx file, or an http(s) URL")
    add.add_argument("--replace", action="store_true", help="replace the article of the same name if there is one")
    add.set_defaults(run=cmd_add)

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
