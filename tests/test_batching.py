"""Questions asked at once by several threads: their taggings micro-batched (one model call, each its own
result), and every answer the same as asked alone."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from askbalkans.batching import MicroBatcher
from askbalkans.tagging import BatchedTagger

QUESTIONS = [
    "How many troops serve in KFOR?",
    "Who is NATO's Deputy Secretary General?",
    "When did the attack in Banjska take place?",
    "What did Mark Rutte ask Kosovo and Serbia to do?",
    "Where did Kurti and Vučić meet in September 2023?",
    "Who is the EU special representative for the Kosovo-Serbia dialogue?",
    # Embedded in one batch with others, its vector differed in the last digits, and a score of its answer
    # in the fourth decimal (8.3866 against 8.3865).
    "With which organisation did the Balkans Group announce a new partnership?",
] * 3


class CountedCalls:
    """A real function, and the size of every batch it was called with."""

    def __init__(self, function):
        self.function = function
        self.batches: list[int] = []

    def __call__(self, items):
        self.batches.append(len(items))
        return self.function(items)


def asked_at_once(function, items: list) -> list:
    """`function([item])[0]` (or the error it raised) for every item, from as many threads released
    together."""
    barrier = threading.Barrier(len(items))

    def ask(item):
        barrier.wait()
        try:
            return function([item])[0]
        except ValueError as error:
            return error

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(ask, items))


def test_questions_asked_at_once_get_the_answers_they_get_alone(seeds_assistant):
    alone = {question: seeds_assistant.ask(question).to_dict() for question in QUESTIONS}
    at_once = asked_at_once(lambda questions: [seeds_assistant.ask(questions[0]).to_dict()], QUESTIONS)
    assert at_once == [alone[question] for question in QUESTIONS]


def test_questions_tagged_at_once_get_their_own_tags(tagger):
    assert asked_at_once(BatchedTagger(tagger, window=0.01).tag, QUESTIONS) == tagger.tag(QUESTIONS)


def test_a_batch_holds_at_most_max_items_and_every_thread_of_a_failed_batch_raises():
    counted = CountedCalls(lambda items: [item * 2 for item in items])
    doubled = asked_at_once(MicroBatcher(counted, window=0.01, max_items=4), list(range(12)))
    assert doubled == [item * 2 for item in range(12)] and max(counted.batches) <= 4

    def fails(items):
        raise ValueError(f"cannot do {len(items)}")

    failing = MicroBatcher(fails, window=0.01, max_items=64)
    assert all(isinstance(outcome, ValueError) for outcome in asked_at_once(failing, list(range(4))))
    with pytest.raises(ValueError, match="cannot do 1"):  # and the next call runs (nothing left locked)
        failing([1])
