"""Question files: our gold format (JSON Lines) and SQuAD's (a corpus of paragraphs and their questions)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from askbalkans.config import SQUAD_PARTS
from askbalkans.corpus import Corpus, make_article


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: list[str]  # any one counts; empty: the corpus does not answer it
    doc_ids: list[str]  # the articles that answer it
    split: str = ""  # "tune" or "test" in sets kept apart for tuning; "" elsewhere

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_gold(path: Path, split: str | None = None) -> list[GoldQuestion]:
    """The questions of a gold file (one JSON object per line), only those of `split` if given."""
    questions = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            question = GoldQuestion(
                str(item["id"]),
                item["question"],
                list(item["answers"]),
                list(item["doc_ids"]),
                str(item.get("split", "")),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a gold question ({error})") from error
        if split is None or question.split == split:
            questions.append(question)
    return questions


def load_squad(path: Path, part: str = "all") -> tuple[Corpus, list[GoldQuestion]]:
    """One article per paragraph (id `<title>#<paragraph index from 0>`) and the questions on them.

    `part`: "all" the whole file; "held-out" the held-out articles' paragraphs and questions (squad_split);
    "unanswerable" the training articles' paragraphs, asked the held-out questions, which none of them
    answers; "training" the training articles and their questions (for fitting)."""
    if part not in SQUAD_PARTS:
        raise ValueError(f"part must be one of {', '.join(SQUAD_PARTS)}, got {part!r}")
    if part == "all":
        corpus_entries = question_entries = json.loads(Path(path).read_text("utf-8"))["data"]
    else:
        training, held_out = squad_split(path)
        corpus_entries = held_out if part == "held-out" else training
        question_entries = training if part == "training" else held_out
    articles = [
        make_article(f"{entry['title']}#{number}", paragraph["context"], title=entry["title"].replace("_", " "))
        for entry in corpus_entries
        for number, paragraph in enumerate(entry["paragraphs"])
    ]
    questions = []
    for entry in question_entries:
        for number, paragraph in enumerate(entry["paragraphs"]):
            for qa in paragraph["qas"]:
                answerable = part != "unanswerable" and not qa.get("is_impossible", False)
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"])) if answerable else []
                doc_ids = [f"{entry['title']}#{number}"] if answerable else []
                questions.append(GoldQuestion(qa["id"], qa["question"], answers, doc_ids))
    return Corpus(tuple(articles)), questions


SQUAD_HELD_OUT_EVERY = 3  # sorted by title, the articles at positions 0, 3, 6, ... are held out


def squad_split(path: Path) -> tuple[list[dict], list[dict]]:
    """SQuAD's articles (its "data" entries) for training and held out (shared/benchmarks/README.md).

    Sorted by title, the articles at positions 0, 3, 6, ... are held out: evaluation only, never trained,
    fitted or tuned on; the others may be."""
    data = sorted(json.loads(Path(path).read_text("utf-8"))["data"], key=lambda entry: entry["title"])
    held_out = [entry for number, entry in enumerate(data) if number % SQUAD_HELD_OUT_EVERY == 0]
    training = [entry for number, entry in enumerate(data) if number % SQUAD_HELD_OUT_EVERY]
    return training, held_out


def sample(questions: list[GoldQuestion], limit: int | None, seed: int) -> list[GoldQuestion]:
    """`limit` questions drawn with `seed` (the same every run), in file order."""
    if not limit or limit >= len(questions):
        return questions
    chosen = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in chosen]
