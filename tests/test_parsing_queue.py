"""ParserQueue: calls run in the pool, alone when it is idle, in groups while it is busy, each caller gets its own."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import pytest

from connectors.parsing import MAX_GROUP, ParserQueue


class CountingPool(ThreadPoolExecutor):
    """A real thread pool that counts its jobs and the calls in each, and can hold them until released."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.sizes: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.sizes.append(len(args[0]))
        return super().submit(self._held, fn, *args)

    def _held(self, fn: Callable[..., Any], *args: Any) -> Any:
        self.gate.wait(30)
        return fn(*args)


@pytest.fixture
def pool() -> Iterator[CountingPool]:
    executor = CountingPool()
    yield executor
    executor.gate.set()
    executor.shutdown(wait=True)


def test_a_call_goes_out_at_once_when_the_pool_is_idle(pool: CountingPool) -> None:
    async def main() -> tuple[int, int]:
        return await ParserQueue(pool, in_flight=2).run(divmod, 17, 5)

    assert asyncio.run(main()) == (3, 2)
    assert pool.sizes == [1]


def test_calls_that_wait_for_a_busy_pool_leave_together_and_each_gets_its_result(pool: CountingPool) -> None:
    pool.gate.clear()  # the first jobs stay busy until every call has arrived

    async def main() -> list[tuple[int, int]]:
        queue = ParserQueue(pool, in_flight=2)
        calls = [asyncio.ensure_future(queue.run(divmod, n, 7)) for n in range(40)]
        await asyncio.sleep(0.05)
        pool.gate.set()
        return list(await asyncio.gather(*calls))

    assert asyncio.run(main()) == [divmod(n, 7) for n in range(40)]
    assert pool.sizes[:2] == [1, 1]  # the pool was idle for the first two
    assert sorted(pool.sizes[2:], reverse=True) == pool.sizes[2:] == [MAX_GROUP, MAX_GROUP, 40 - 2 - 2 * MAX_GROUP]
    assert sum(pool.sizes) == 40


def test_an_exception_reaches_only_its_own_caller(pool: CountingPool) -> None:
    pool.gate.clear()

    async def main() -> list[Any]:
        queue = ParserQueue(pool, in_flight=1)
        calls = [asyncio.ensure_future(queue.run(divmod, 10, d)) for d in (1, 2, 0, 5)]
        await asyncio.sleep(0.05)
        pool.gate.set()
        return list(await asyncio.gather(*calls, return_exceptions=True))

    results = asyncio.run(main())
    assert results[0] == (10, 0) and results[1] == (5, 0) and results[3] == (2, 0)
    assert isinstance(results[2], ZeroDivisionError)
    assert pool.sizes == [1, 3]  # the failing call shared its job with two others


def test_a_caller_that_gives_up_leaves_the_others_their_results(pool: CountingPool) -> None:
    pool.gate.clear()

    async def main() -> list[Any]:
        queue = ParserQueue(pool, in_flight=1)
        calls = [asyncio.ensure_future(queue.run(divmod, n, 3)) for n in range(5)]
        await asyncio.sleep(0.05)
        calls[1].cancel()  # waiting in the queue: never sent
        calls[0].cancel()  # already in the pool: its result is dropped
        pool.gate.set()
        return list(await asyncio.gather(*calls, return_exceptions=True))

    results = asyncio.run(main())
    assert all(isinstance(r, asyncio.CancelledError) for r in results[:2])
    assert results[2:] == [divmod(n, 3) for n in range(2, 5)]
    assert pool.sizes == [1, 3]


def test_a_broken_pool_fails_every_waiting_call() -> None:
    executor = ThreadPoolExecutor(max_workers=1)
    executor.shutdown()

    async def main() -> list[Any]:
        queue = ParserQueue(executor, in_flight=2)
        return list(await asyncio.gather(*(queue.run(divmod, n, 2) for n in range(3)), return_exceptions=True))

    assert all(isinstance(r, RuntimeError) for r in asyncio.run(main()))  # "cannot schedule new futures"


def test_calls_run_in_other_processes() -> None:
    """As in a run: a process pool, the function and its arguments pickled there, the results pickled back."""
    import os

    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("forkserver")) as processes:

        async def main() -> list[int]:
            queue = ParserQueue(processes, in_flight=4)
            return list(await asyncio.gather(*(queue.run(os.getpid) for _ in range(50))))

        pids = asyncio.run(main())
    assert len(pids) == 50 and os.getpid() not in pids


def burn(seconds: float) -> int:
    """Python-level CPU work for about `seconds` (or until the budget stops it)."""
    import time

    end, n = time.process_time() + seconds, 0
    while time.process_time() < end:
        n += 1
    return n


def test_a_call_past_its_cpu_budget_fails_alone_and_the_process_goes_on() -> None:
    import os

    from connectors.parsing import CpuBudgetExceeded

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("forkserver")) as processes:

        async def main() -> list[Any]:
            queue = ParserQueue(processes, in_flight=1, cpu_budget=0.5)
            first = await asyncio.gather(queue.run(burn, 60.0), queue.run(os.getpid), return_exceptions=True)
            return [*first, await queue.run(divmod, 17, 5)]

        hog, pid, after = asyncio.run(main())
    assert isinstance(hog, CpuBudgetExceeded) and "0.5 s of CPU" in str(hog)
    assert isinstance(pid, int) and pid != os.getpid()  # grouped with the hog, and still answered
    assert after == (3, 2)


def test_a_submit_that_blocks_never_stalls_the_event_loop() -> None:
    """A process pool's first submit starts its processes, waiting for the forkserver: the loop must keep going."""
    import time

    class SlowToStart(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            time.sleep(1.0)
            return super().submit(fn, *args, **kwargs)

    async def main() -> tuple[Any, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        with SlowToStart(max_workers=1) as pool:
            result = await ParserQueue(pool, in_flight=1).run(divmod, 17, 5)
        task.cancel()
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result == (3, 2)
    assert ticks >= 10  # the loop ran meanwhile (a blocked loop would have ticked at most once)
