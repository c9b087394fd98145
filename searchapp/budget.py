"""A time budget per search, so one expensive query answers 503 instead of holding a worker.

gunicorn kills a worker that stays busy past its timeout: every client it serves gets
gunicorn's own bare 500, and the others wait. ``search()`` therefore runs inside
``query_budget(seconds)``; the loops that can take long (reading posting lists, scanning
expansions, checking phrase positions, spelling suggestions) call ``check()``, which raises
``QueryTooExpensive`` once the budget is spent. The web layer answers that with a 503 and
``Retry-After``.

The budget counts the CPU time of the thread answering (``time.thread_time``): what makes a
query expensive, whatever else the machine is doing, so a busy server does not turn ordinary
queries away. The wall-clock time is capped too, at WALL_FACTOR times the budget (20 s by
default, under gunicorn's 30 s timeout), for time spent waiting on the disk.

The same context carries a memo for the length of one search, so the strict pass, its
spelling correction and the relaxed pass share prefix and fuzzy expansions instead of
scanning the vocabulary again. It lives exactly as long as the request: nothing accumulates.
"""

from __future__ import annotations

import contextvars
import math
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

#: Default budget of one search (milliseconds); ``SEARCHAPP_QUERY_BUDGET_MS`` overrides it.
DEFAULT_BUDGET_MS = 2000.0
#: Seconds a client is asked to wait before retrying a query that ran out of budget.
RETRY_AFTER_SECONDS = 5
#: The wall-clock cap of a search, as a multiple of its CPU budget.
WALL_FACTOR = 10

T = TypeVar("T")


class QueryTooExpensive(Exception):
    """The search ran past its time budget (the web layer answers 503 with Retry-After)."""

    def __init__(self, seconds: float):
        super().__init__(f"the query took longer than its budget of {seconds * 1000:g} ms")
        self.seconds = seconds


@dataclass
class _Budget:
    seconds: float
    cpu_deadline: float
    wall_deadline: float
    #: Before this wall-clock time the CPU budget cannot be spent: a thread's CPU time grows
    #: no faster than the clock. ``check`` reads the CPU clock (a system call, about 1 us;
    #: the wall clock costs 0.06) only after it: the same raises, without a system call per
    #: check in a query that ends in time.
    cpu_possible_after: float
    memo: dict = field(default_factory=dict)

    def give(self, cpu: float, wall: float) -> None:
        """``cpu`` more seconds of CPU and ``wall`` of wall-clock time."""
        self.cpu_deadline += cpu
        self.cpu_possible_after += cpu
        self.wall_deadline += wall


_current: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "searchapp_query_budget", default=None
)


@contextmanager
def query_budget(seconds: float | None) -> Iterator[None]:
    """Run the block under a budget of ``seconds`` of CPU (None or <= 0: no limit, memo only)."""
    limited = seconds is not None and seconds > 0
    wall = time.monotonic()  # read before the CPU clock: see _Budget.cpu_possible_after
    budget = _Budget(
        seconds=seconds or 0.0,
        cpu_deadline=time.thread_time() + seconds if limited else math.inf,
        wall_deadline=wall + seconds * WALL_FACTOR if limited else math.inf,
        cpu_possible_after=wall + seconds if limited else math.inf,
    )
    token = _current.set(budget)
    try:
        yield
    finally:
        _current.reset(token)


def check() -> None:
    """Raise QueryTooExpensive when the current budget is spent (cheap: one clock read until
    the CPU budget could be spent, then two)."""
    budget = _current.get()
    if budget is None:
        return
    now = time.monotonic()
    if now > budget.wall_deadline or (
        now > budget.cpu_possible_after and time.thread_time() > budget.cpu_deadline
    ):
        raise QueryTooExpensive(budget.seconds)


def extend(seconds: float) -> None:
    """Give the current search ``seconds`` more (for one-time set-up it happened to trigger,
    such as loading jieba's dictionary)."""
    budget = _current.get()
    if budget is not None:
        budget.give(seconds, seconds)


@contextmanager
def outside_budget() -> Iterator[None]:
    """Run one-time set-up of a searcher (a field's values, a length column) unbudgeted, and
    give the current search the time it took. Cut short, the set-up would be left undone for
    the next search too: on a large archive every search ran out of budget in it, forever."""
    outer = _current.get()
    token = _current.set(None)
    cpu, wall = time.thread_time(), time.monotonic()
    try:
        yield
    finally:
        _current.reset(token)
        if outer is not None:
            outer.give(time.thread_time() - cpu, time.monotonic() - wall)


def checked(items: Iterable[T], every: int = 64) -> Iterator[T]:
    """``items``, checking the budget every ``every`` items (for long Python loops)."""
    for count, item in enumerate(items):
        if count % every == 0:
            check()
        yield item


def memo() -> dict | None:
    """The current search's scratch dict (None outside a search)."""
    budget = _current.get()
    return None if budget is None else budget.memo
