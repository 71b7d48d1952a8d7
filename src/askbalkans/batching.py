"""Micro-batching: the small calls that several threads make at about the same moment, run as one call.

The chat page answers questions in several threads at once. Each question is tagged on its own (one
short text), and spaCy's run over one text costs almost as much as over ten (17 ms for one, 6 for each of
sixteen). `MicroBatcher` lets the threads arriving within `window` seconds share one call, which also
makes the model run by one thread at a time (spaCy objects shared between threads need that). Questions
are not embedded this way: MiniLM's vector of a text batched with others differs from its vector alone
in the last digits (1e-7), enough to change an answer's scores in the fourth decimal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Job(Generic[Item, Result]):
    items: list[Item]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[Result] = field(default_factory=list)
    error: BaseException | None = None


class MicroBatcher(Generic[Item, Result]):
    """Calls `function` (a list of items -> one result per item) on the items of every thread waiting,
    at most `max_items` at a time. One batch runs at a time; the thread that starts it waits `window`
    seconds first when other threads are calling too, so that those arriving meanwhile join it. The
    results are those `function` gives for the batch (a model's output for a text may differ from its
    output for the text alone by float rounding: about 1e-7 for MiniLM's embeddings)."""

    def __init__(self, function: Callable[[list[Item]], Sequence[Result]], window: float, max_items: int):
        self.function = function
        self.window = window
        self.max_items = max_items
        self._pending: list[_Job[Item, Result]] = []
        self._callers = 0  # threads in __call__
        self._pending_lock = threading.Lock()
        self._running = threading.Lock()

    def __call__(self, items: Sequence[Item]) -> list[Result]:
        job: _Job[Item, Result] = _Job(list(items))
        with self._pending_lock:
            self._pending.append(job)
            self._callers += 1
        try:
            with self._running:  # whoever holds it runs every job waiting; the others find theirs done
                if not job.done.is_set():
                    # Waiting for others only pays when others are calling: a lone caller is not delayed.
                    if self.window and self._callers > 1:
                        time.sleep(self.window)
                    self._run(self._take())
        finally:
            with self._pending_lock:
                self._callers -= 1
        if job.error is not None:
            raise job.error
        return job.results

    def _take(self) -> list[_Job[Item, Result]]:
        """The oldest jobs waiting, up to `max_items` items (at least one job, whatever its size)."""
        with self._pending_lock:
            taken, count = 0, 0
            for job in self._pending:
                if taken and count + len(job.items) > self.max_items:
                    break
                count += len(job.items)
                taken += 1
            batch, self._pending = self._pending[:taken], self._pending[taken:]
        return batch

    def _run(self, batch: list[_Job[Item, Result]]) -> None:
        try:
            results = list(self.function([item for job in batch for item in job.items]))
        except BaseException as error:  # every thread of the batch raises it
            for job in batch:
                job.error = error
        else:
            start = 0
            for job in batch:
                job.results = results[start : start + len(job.items)]
                start += len(job.items)
        for job in batch:
            job.done.set()
