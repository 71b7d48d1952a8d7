"""Question files: our gold format (JSON Lines) and SQuAD's (a corpus of paragraphs and their questions)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

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


def load_squad(path: Path) -> tuple[Corpus, list[GoldQuestion]]:
    """One article per paragraph (id `<title>#<paragraph index from 0>`) and the questions on them."""
    data = json.loads(Path(path).read_text("utf-8"))["data"]
    articles, questions = [], []
    for entry in data:
        title = entry["title"].replace("_", " ")
        for number, paragraph in enumerate(entry["paragraphs"]):
            doc_id = f"{entry['title']}#{number}"
            articles.append(make_article(doc_id, paragraph["context"], title=title))
            for qa in paragraph["qas"]:
                impossible = qa.get("is_impossible", False)
                answers = [] if impossible else list(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(GoldQuestion(qa["id"], qa["question"], answers, [] if impossible else [doc_id]))
    return Corpus(tuple(articles)), questions


def sample(questions: list[GoldQuestion], limit: int | None, seed: int) -> list[GoldQuestion]:
    """`limit` questions drawn with `seed` (the same every run), in file order."""
    if not limit or limit >= len(questions):
        return questions
    chosen = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in chosen]
