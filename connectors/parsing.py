"""The run's parser processes as connectors use them: jobs go out at once, or in groups while the processes are busy.

A pool job per feed costs the polling process CPU for every job and every result: pickling, the pool's manager
thread waking, the event loop waking. Feeds that arrive while every process has work queued wait, and then leave
together as one job: in bench/ingest.py's cold run (10,000 feeds) the polling process used 25 s of CPU instead of
30 s. A feed is never held back to make a group: with fewer than `in_flight` jobs out, it goes at once, alone.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")
MAX_GROUP = 16  # calls per job at most: bounds one message's size and the wait of the group's first feed
# CPU seconds one call may use in a parser process (a 10 MB feed parses in about one): past it, that call fails
# alone and its process goes on with the next. Checked between Python steps, so C code runs to its end first:
# the size and nesting caps of the parsers bound that part.
CPU_BUDGET = 10.0

Call = tuple[Callable[..., Any], tuple[Any, ...]]


class CpuBudgetExceeded(Exception):
    """A call in a parser process used more than its CPU budget."""


def run_calls(calls: Sequence[Call], budget: float = CPU_BUDGET) -> list[tuple[bool, Any]]:
    """In a parser process: each call's (True, result), or (False, the exception it raised) for that call alone."""
    if threading.current_thread() is not threading.main_thread():  # a thread pool (tests): no signals there
        return [_call(function, args, None) for function, args in calls]

    def over_budget(signum: int, frame: FrameType | None) -> None:
        raise CpuBudgetExceeded(f"parsing took more than {budget:g} s of CPU")

    previous = signal.signal(signal.SIGPROF, over_budget)  # a parser process runs its jobs in its main thread
    try:
        return [_call(function, args, budget) for function, args in calls]
    finally:
        signal.signal(signal.SIGPROF, previous)


def _call(function: Callable[..., Any], args: tuple[Any, ...], budget: float | None) -> tuple[bool, Any]:
    try:
        if budget:
            signal.setitimer(signal.ITIMER_PROF, budget)
        try:
            return True, function(*args)
        finally:
            if budget:
                signal.setitimer(signal.ITIMER_PROF, 0)
    except Exception as exc:
        return False, exc


class ParserQueue:
    """Runs functions in an executor's processes, grouping the calls that wait while `in_flight` jobs are out.

    Used from one event loop. `in_flight` is best a little above the number of processes (twice is enough): each then
    has a job running and one waiting, and what arrives meanwhile forms the next group.
    """

    def __init__(self, pool: Executor, in_flight: int, cpu_budget: float = CPU_BUDGET) -> None:
        self._pool = pool
        self._cpu_budget = cpu_budget
        self._in_flight_limit = max(1, in_flight)
        self._in_flight = 0
        self._waiting: list[tuple[Call, asyncio.Future[Any]]] = []
        self._jobs: set[asyncio.Task[None]] = set()  # a reference to each running job's task

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """function(*args) in a parser process; its exception, if it raises one, is raised here."""
        result: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(((function, args), result))
        self._send()
        return await result

    def _send(self) -> None:
        while self._waiting and self._in_flight < self._in_flight_limit:
            group = [item for item in self._waiting[:MAX_GROUP] if not item[1].done()]  # a cancelled caller: skip
            del self._waiting[:MAX_GROUP]
            if group:
                self._in_flight += 1
                job = asyncio.ensure_future(self._job(group))
                self._jobs.add(job)
                job.add_done_callback(self._jobs.discard)

    async def _job(self, group: list[tuple[Call, asyncio.Future[Any]]]) -> None:
        try:
            # Submitted from a thread: a submit can block (a process pool starts its processes there, and the
            # first waits for the forkserver to load the classifier), and the event loop must not.
            calls = [call for call, _ in group]
            submitted = await asyncio.to_thread(self._pool.submit, run_calls, calls, self._cpu_budget)
            results = await asyncio.wrap_future(submitted)
        except asyncio.CancelledError:
            for _, waiter in group:
                waiter.cancel()
            raise
        except Exception as exc:  # the pool broke or is shut down, or the job could not be pickled: every caller
            for _, waiter in group:
                if not waiter.done():
                    waiter.set_exception(exc)
        else:
            for (_, waiter), (ok, value) in zip(group, results, strict=True):
                if waiter.done():  # its caller gave up (time limit)
                    continue
                if ok:
                    waiter.set_result(value)
                else:
                    waiter.set_exception(value)
        finally:
            self._in_flight -= 1
        self._send()
