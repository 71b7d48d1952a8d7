"""Train the reader (askbalkans.composer.reader) and write src/askbalkans/reader.safetensors and reader.json.

    .venv/bin/python eval/train_reader.py [--squad ../shared/benchmarks/squad-dev-v1.1.json] [--out DIR]
    make reader

Seeded and single-process: the same command on the same machine (2 torch threads) writes the same file,
whose SHA-256 it prints. Training data, all of it allowed by the issue's split:
- SQuAD v1.1 dev, the 32 training articles only (datasets.squad_split): for each question, the sentence
  holding its answer (positive, with the answer's span), and these negatives:
  - same_paragraph: two other sentences of the gold paragraph (same topic, another fact);
  - answer_removed: the sentence after the answer's, read as if the answer sentence were deleted from
    the paragraph (its "previous sentence" is the one before the answer's), and the same sentence read
    with the answer sentence before it: the answer in the context is not an answer;
  - retrieved: the two sentences of other paragraphs that MiniLM ranks closest to the question.
- seeds: eval/dev.jsonl over the seed articles: sentences of a gold article holding a gold answer are
  positives, the closest others negatives (all of the closest, for a question the corpus does not
  answer). Repeated SEED_REPEATS times.
Left out, for fitting the confidence and the threshold (eval/fit_weights.py) on questions the reader has
not seen: the calibration quarter of the training paragraphs (`fitting.calibration_paragraph`) and the
tuning halves of eval/own-words.jsonl and eval/near-miss.jsonl. The 16 held-out SQuAD articles are used
only for the figures printed at the end.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from askbalkans.chunker import TokenBudget, article_sentences
from askbalkans.composer.reader import (
    ReaderShape,
    TrainedReader,
    build_model,
    default_files,
    encode_pairs,
    load_tokenizer,
    write_files,
)
from askbalkans.config import PROJECT_ROOT
from askbalkans.corpus import load_corpus, make_article
from askbalkans.embedding import SentenceTransformerEmbedder
from askbalkans.evaluation.datasets import load_gold, squad_split
from askbalkans.evaluation.fitting import calibration_paragraph
from askbalkans.evaluation.metrics import contains_answer, span_exact_match, span_f1

DEFAULT_SQUAD = PROJECT_ROOT.parent / "shared" / "benchmarks" / "squad-dev-v1.1.json"
SEED_SETS = [("eval/dev.jsonl", None)]
SEED_REPEATS = 3
NEGATIVE_KINDS = ("same_paragraph", "answer_removed", "retrieved", "seeds")
DEFAULT_THREADS = 2


@dataclass(frozen=True)
class Pair:
    question: str
    previous: str
    sentence: str
    label: int  # 1: the sentence answers the question
    span: tuple[int, int] | None  # the answer's characters in `sentence`, for positives
    kind: str  # "positive" or one of NEGATIVE_KINDS


@dataclass(frozen=True)
class Paragraph:
    sentences: list[str]
    starts: list[int]  # each sentence's first character in the paragraph

    def previous(self, number: int) -> str:
        """The sentence before sentence `number` ("" for the first)."""
        return self.sentences[number - 1] if number > 0 else ""


def split_paragraph(text: str, budget: TokenBudget) -> Paragraph:
    """The paragraph's sentences as the indexer cuts them."""
    sentences = article_sentences(make_article("p", text), budget)
    return Paragraph([s.text for s in sentences], [s.start for s in sentences])


def squad_paragraphs(data: list[dict], budget: TokenBudget) -> list[tuple[str, Paragraph, list[dict]]]:
    """(document id as load_squad gives it, paragraph, its questions) for each paragraph of `data`."""
    return [
        (f"{entry['title']}#{number}", split_paragraph(paragraph["context"], budget), paragraph["qas"])
        for entry in data
        for number, paragraph in enumerate(entry["paragraphs"])
    ]


def answer_location(paragraph: Paragraph, answer: dict) -> tuple[int, tuple[int, int]] | None:
    """The sentence holding SQuAD's answer and its span there, or None when it crosses sentences."""
    start = answer["answer_start"]
    for number, (first, text) in enumerate(zip(paragraph.starts, paragraph.sentences, strict=True)):
        if first <= start < first + len(text):
            end = start + len(answer["text"]) - first
            return (number, (start - first, end)) if end <= len(text) else None
    return None


def located(paragraph: Paragraph, questions: list[dict]) -> Iterator[tuple[dict, list[str], int, tuple[int, int]]]:
    """Each question whose first answer is found in the paragraph: the question, answers, sentence, span."""
    for qa in questions:
        location = answer_location(paragraph, qa["answers"][0])
        if location is not None:
            yield qa, [a["text"] for a in qa["answers"]], *location


def squad_pairs(
    paragraphs: list[tuple[str, Paragraph, list[dict]]],
    neighbours: dict[str, list[tuple[str, str]]],
    rng: random.Random,
) -> list[Pair]:
    pairs = []
    for _, paragraph, questions in paragraphs:
        sentences, previous = paragraph.sentences, paragraph.previous
        for qa, answers, number, span in located(paragraph, questions):
            question = qa["question"]
            pairs.append(Pair(question, previous(number), sentences[number], 1, span, "positive"))
            others = [n for n in range(len(sentences)) if n != number and not contains_answer(sentences[n], answers)]
            for other in rng.sample(others, min(2, len(others))):
                pairs.append(Pair(question, previous(other), sentences[other], 0, None, "same_paragraph"))
            after = number + 1
            if after < len(sentences) and not contains_answer(sentences[after], answers):
                pairs.append(Pair(question, previous(number), sentences[after], 0, None, "answer_removed"))
                pairs.append(Pair(question, sentences[number], sentences[after], 0, None, "answer_removed"))
            for prior, text in neighbours.get(qa["id"], [])[:2]:
                pairs.append(Pair(question, prior, text, 0, None, "retrieved"))
    return pairs


def retrieved_neighbours(
    paragraphs: list[tuple[str, Paragraph, list[dict]]], embedder: SentenceTransformerEmbedder
) -> dict[str, list[tuple[str, str]]]:
    """For each question, the (previous, sentence) of other paragraphs closest to it, without its answers."""
    texts, owners, priors = [], [], []
    for number, (_, paragraph, _) in enumerate(paragraphs):
        for i, text in enumerate(paragraph.sentences):
            texts.append(text)
            owners.append(number)
            priors.append(paragraph.sentences[i - 1] if i else "")
    questions = [(number, qa) for number, (_, _, qas) in enumerate(paragraphs) for qa in qas]
    sentence_vectors = embedder.encode(texts)
    question_vectors = embedder.encode([qa["question"] for _, qa in questions])
    owner = np.array(owners)
    found: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(questions), 512):
        block = questions[start : start + 512]
        similarities = question_vectors[start : start + 512] @ sentence_vectors.T
        for row, (number, qa) in zip(similarities, block, strict=True):
            row[owner == number] = -2
            answers = [a["text"] for a in qa["answers"]]
            best = [int(i) for i in np.argsort(-row)[:8] if not contains_answer(texts[int(i)], answers)]
            found[qa["id"]] = [(priors[i], texts[i]) for i in best[:2]]
    return found


def locate(sentence: str, answers: list[str]) -> tuple[int, int] | None:
    """Where a gold answer occurs in `sentence` (case-insensitive), if it does as written."""
    for answer in answers:
        match = re.search(re.escape(answer), sentence, re.IGNORECASE)
        if match:
            return match.start(), match.end()
    return None


def seed_pairs(budget: TokenBudget, embedder: SentenceTransformerEmbedder) -> list[Pair]:
    corpus = load_corpus(PROJECT_ROOT / "seeds")
    sentences = [s for article in corpus.articles for s in article_sentences(article, budget)]
    vectors = embedder.encode([s.text for s in sentences])
    questions = [q for path, split in SEED_SETS for q in load_gold(PROJECT_ROOT / path, split)]
    question_vectors = embedder.encode([q.question for q in questions])
    pairs = []
    for gold, vector in zip(questions, question_vectors, strict=True):
        order = np.argsort(-(vectors @ vector))
        negatives = 0
        for i in order:
            sentence = sentences[int(i)]
            previous = sentences[int(i) - 1].text if sentence.number > 0 else ""
            holds = gold.answerable and contains_answer(sentence.text, gold.answers)
            if holds and sentence.doc_id in gold.doc_ids:
                pairs.append(
                    Pair(gold.question, previous, sentence.text, 1, locate(sentence.text, gold.answers), "positive")
                )
            elif not holds and negatives < 5:
                pairs.append(Pair(gold.question, previous, sentence.text, 0, None, "seeds"))
                negatives += 1
    return pairs * SEED_REPEATS


def batches(pairs: list[Pair], size: int, rng: random.Random) -> list[list[Pair]]:
    """Shuffled batches of pairs of similar length (less padding), in shuffled order."""
    order = pairs[:]
    rng.shuffle(order)
    chunk = size * 50
    grouped = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda p: len(p.question) + len(p.previous) + len(p.sentence))
        grouped.extend(part[i : i + size] for i in range(0, len(part), size))
    rng.shuffle(grouped)
    return grouped


def token_targets(encoded, pairs: list[Pair]):
    """Start and end token positions of each positive's span (-100 where there is none)."""
    import torch

    starts, ends = [], []
    for offsets, pair in zip(encoded.offsets, pairs, strict=True):
        start = end = -100
        if pair.span is not None:
            inside = [i for i, (a, b) in enumerate(offsets) if b > a and a < pair.span[1] and b > pair.span[0]]
            if inside:
                start, end = inside[0], inside[-1]
        starts.append(start)
        ends.append(end)
    return torch.tensor(starts), torch.tensor(ends)


def train(
    pairs: list[Pair], shape: ReaderShape, epochs: int, seed: int, batch_size: int, learning_rate: float, threads: int
):
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(seed)
    tokenizer = load_tokenizer()
    model = build_model(shape)
    trained = set(model.trained_state())
    heads, layers = [], []
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name in trained
        if name in trained:
            (heads if name.startswith(("answer_head", "span_head")) else layers).append(parameter)
    optimizer = torch.optim.AdamW(
        [{"params": layers, "lr": learning_rate}, {"params": heads, "lr": learning_rate * 10}], weight_decay=0.01
    )
    plan = [batches(pairs, batch_size, rng) for _ in range(epochs)]
    steps = sum(map(len, plan))
    warmup = max(1, steps // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / (steps - warmup + 1)))
    )
    span_loss = torch.nn.CrossEntropyLoss(ignore_index=-100, reduction="sum")
    model.train()
    started, step, running = time.perf_counter(), 0, 0.0
    for epoch in range(epochs):
        for batch in plan[epoch]:
            encoded = encode_pairs_each(tokenizer, shape, batch)
            answer, start, end = model(
                encoded.input_ids, encoded.attention_mask, encoded.token_type_ids, encoded.sentence_mask
            )
            labels = torch.tensor([float(p.label) for p in batch])
            first, last = token_targets(encoded, batch)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(answer, labels)
            spans = int((first >= 0).sum())
            if spans:
                loss = loss + 0.5 * (span_loss(start, first) + span_loss(end, last)) / len(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(layers + heads, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 200 == 0 or step == steps:
                elapsed = time.perf_counter() - started
                print(
                    f"  epoch {epoch + 1}/{epochs} step {step}/{steps} loss {running:.3f} "
                    f"({step * batch_size / elapsed:.0f} pairs/s, {elapsed / 60:.1f} min)",
                    file=sys.stderr,
                    flush=True,
                )
    model.eval()
    return model


def encode_pairs_each(tokenizer, shape: ReaderShape, batch: list[Pair]):
    """encode_pairs for pairs with different questions: one question at a time, then padded together."""
    import torch

    parts = [encode_pairs(tokenizer, shape, p.question, [(p.previous, p.sentence)]) for p in batch]
    length = max(part.input_ids.shape[1] for part in parts)

    def stacked(name: str, fill) -> torch.Tensor:
        tensors = [getattr(part, name) for part in parts]
        return torch.cat([torch.nn.functional.pad(t, (0, length - t.shape[1]), value=fill) for t in tensors])

    first = parts[0]
    return replace(
        first,
        input_ids=stacked("input_ids", tokenizer.pad_token_id),
        attention_mask=stacked("attention_mask", 0),
        token_type_ids=stacked("token_type_ids", 0),
        sentence_mask=stacked("sentence_mask", False),
        offsets=[part.offsets[0] for part in parts],
    )


def held_out_figures(
    reader: TrainedReader, paragraphs: list[tuple[str, Paragraph, list[dict]]], every: int = 1
) -> dict[str, float]:
    """On the held-out articles: does the reader pick the answer sentence among its paragraph's sentences,
    is its span right on that sentence (SQuAD EM / F1), and does it say no once that sentence is removed."""
    picked, exact, f1, positive, removed = [], [], [], [], []
    for position, (_, paragraph, questions) in enumerate(paragraphs):
        if position % every:
            continue
        sentences = paragraph.sentences
        candidates = [(sentences[n - 1] if n else "", s) for n, s in enumerate(sentences)]
        for qa, answers, number, _ in located(paragraph, questions):
            readings = reader.read(qa["question"], candidates)
            best = max(range(len(readings)), key=lambda i: readings[i].logit)
            picked.append(contains_answer(sentences[best], answers))
            span = readings[number].span
            predicted = sentences[number][span[0] : span[1]] if span else ""
            exact.append(span_exact_match(predicted, answers))
            f1.append(span_f1(predicted, answers))
            positive.append(readings[number].logit)
            rest = [
                r.logit for i, r in enumerate(readings) if i != number and not contains_answer(sentences[i], answers)
            ]
            removed.append(max(rest, default=float("-inf")))
    positive_logits, removed_logits = np.array(positive), np.array(removed)
    return {
        "questions": len(picked),
        "answer sentence picked in its paragraph": float(np.mean(picked)),
        "span exact match on the answer sentence": float(np.mean(exact)),
        "span F1 on the answer sentence": float(np.mean(f1)),
        "answer sentence scores above every other sentence": float(np.mean(positive_logits > removed_logits)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 dev (its training articles)")
    parser.add_argument("--out", type=Path, help="folder for reader.safetensors and reader.json (default: the package)")
    parser.add_argument("--layers", type=int, default=ReaderShape.layers, help="base layers kept, from the bottom")
    parser.add_argument("--trained-layers", type=int, default=ReaderShape.trained_layers, help="top layers trained")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the training questions (learning curve)")
    parser.add_argument("--limit", type=int, help="at most this many training paragraphs (a smoke test)")
    parser.add_argument(
        "--without", choices=NEGATIVE_KINDS, action="append", default=[], help="leave out a negative kind"
    )
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="torch threads (the committed weights: the default)"
    )
    parser.add_argument("--no-report", action="store_true", help="skip the held-out figures")
    parser.add_argument("--report-every", type=int, default=1, help="held-out figures on every n-th paragraph")
    arguments = parser.parse_args()

    started = time.perf_counter()
    shape = replace(ReaderShape(), layers=arguments.layers, trained_layers=arguments.trained_layers)
    rng = random.Random(arguments.seed)
    training_data, held_out_data = squad_split(arguments.squad)
    tokenizer = load_tokenizer()
    budget = TokenBudget(160, 40, 256, lambda text: len(tokenizer(text, verbose=False)["input_ids"]))
    paragraphs = [p for p in squad_paragraphs(training_data, budget) if not calibration_paragraph(p[0])]
    if arguments.limit:
        paragraphs = paragraphs[: arguments.limit]
    if arguments.fraction < 1:
        paragraphs = [(t, p, [q for q in qas if rng.random() < arguments.fraction]) for t, p, qas in paragraphs]
    embedder = SentenceTransformerEmbedder()
    pairs = squad_pairs(paragraphs, retrieved_neighbours(paragraphs, embedder), rng)
    if "seeds" not in arguments.without:
        pairs += seed_pairs(budget, embedder)
    pairs = [p for p in pairs if p.kind not in arguments.without]
    counts = {kind: sum(p.kind == kind for p in pairs) for kind in ("positive", *NEGATIVE_KINDS)}
    print(f"{len(pairs)} training pairs: {counts}", file=sys.stderr, flush=True)

    model = train(
        pairs, shape, arguments.epochs, arguments.seed, arguments.batch_size, arguments.learning_rate, arguments.threads
    )
    weights, manifest = default_files()
    if arguments.out:
        arguments.out.mkdir(parents=True, exist_ok=True)
        weights, manifest = arguments.out / weights.name, arguments.out / manifest.name
    about = {
        "about": "Trained by eval/train_reader.py (see eval/README.md, 'The reader'); read by "
        "askbalkans.composer.reader. Do not edit by hand: rerun `make reader`.",
        "training": {
            "pairs": counts,
            "epochs": arguments.epochs,
            "batch_size": arguments.batch_size,
            "learning_rate": arguments.learning_rate,
            "seed": arguments.seed,
            "fraction": arguments.fraction,
            "without": sorted(arguments.without),
        },
    }
    digest = write_files(model, weights, manifest, about)
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB, sha256 {digest}) and {manifest}")
    if not arguments.no_report:
        reader = TrainedReader(weights, manifest)
        figures = held_out_figures(reader, squad_paragraphs(held_out_data, budget), arguments.report_every)
        print("held-out SQuAD articles (never trained on):")
        for name, value in figures.items():
            print(f"  {name}: {value:.3f}" if isinstance(value, float) else f"  {name}: {value}")
    print(f"done in {(time.perf_counter() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
