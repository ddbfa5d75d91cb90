"""Polling on one event loop: hundreds of fetches in flight, results handed to one storing thread in batches."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import zip_longest
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from connectors.base import Connector, ConnectorContext
from connectors.http import SafeFetcher
from connectors.parsing import CpuBudgetExceeded, ParserQueue
from listener.errors import FetchError, LocalError
from listener.ingest.leases import Claim
from listener.ingest.prepare import Prepare, Prepared, parse_and_prepare
from listener.models import FetchResult
from listener.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

POOL_THRESHOLD = 40  # below this many sources, starting worker processes costs more than parsing inline
BATCH = 100  # outcomes stored per transaction, at most
# How long a batch waits for more outcomes before it is stored. A transaction has a fixed cost (reading the sources'
# rows, writing back the index pages it touched, committing) that a batch of one or two outcomes pays for each: storing
# whatever had arrived at the moment made 5,000 transactions of 10,000 feeds, and cost twice the CPU.
BATCH_WAIT = 0.25
SLACK_SECONDS = 60.0  # beyond the fetch limit, for parsing: a connector stuck longer than this is abandoned
# A poll's wait for a parser process is not counted against its time limit (the processes may still be starting on
# a busy machine, or busy with other sources), up to this long; the parse itself has a CPU budget there.
MAX_PARSE_WAIT = 600.0


@dataclass(frozen=True)
class Outcome:
    """One source's poll: a result, or the error that explains why there is none."""

    claim: Claim
    result: FetchResult | None = None
    error: FetchError | None = None
    prepared: Prepared | None = None  # the prepare stage's work on the posts, when they were parsed by the ingest


def make_pool(settings: Settings, sources: int) -> Executor | None:
    """Worker processes for parsing and classifying, when the run is big enough to gain from them."""
    if sources < POOL_THRESHOLD:
        return None
    workers = parser_processes(settings)
    # forkserver: children never inherit the event loop, its sockets or the database connections. The forkserver
    # loads the classifier before it forks them, so they share it (listener/ingest/preload.py).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["listener.ingest.preload"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    # The processes start now, in the background. The first one waits for the forkserver to load the classifier
    # (two seconds), and it would otherwise start at the first submit: in the event loop, which stalled that long.
    threading.Thread(target=_start_processes, args=(pool, workers), name="start-parsers", daemon=True).start()
    return pool


def parser_processes(settings: Settings) -> int:
    """How many parser processes a run's pool has."""
    return settings.ingest.workers or os.cpu_count() or 1


def _start_processes(pool: ProcessPoolExecutor, count: int) -> None:
    """Start the pool's processes (a process starts when a job finds none idle): one trivial job for each."""
    try:
        for started in [pool.submit(os.getpid) for _ in range(count)]:
            started.result()
    except Exception:  # shut down already, or broken: the run's own jobs report that
        log.debug("starting the parser processes failed", exc_info=True)


def interleave_hosts(claims: Sequence[Claim]) -> list[Claim]:
    """The claims round-robin by host (API sources by kind), so many feeds on one platform never fill the window."""
    by_host: dict[str, list[Claim]] = {}
    for claim in claims:
        host = urlsplit(claim.ref.locator).hostname if "://" in claim.ref.locator else None
        by_host.setdefault(host or claim.ref.kind, []).append(claim)
    rounds = zip_longest(*by_host.values())
    return [claim for batch in rounds for claim in batch if claim is not None]


class SourceParse:
    """A poll's ctx.parse: the connector's parse function, then the prepare stage, as one job for the parser
    processes (or right here without them). The ingest keeps what the prepare stage made (`prepared`); the wait
    for a parser process is not counted against the poll's time limit."""

    def __init__(self, parsers: ParserQueue | None, prepare: Prepare | None, limit: asyncio.Timeout) -> None:
        self._parsers = parsers
        self._prepare = prepare
        self._limit = limit
        self.prepared: Prepared | None = None

    async def __call__(self, function: Callable[..., T], *args: Any) -> T:
        if self._parsers is None:
            parsed, self.prepared = parse_and_prepare(self._prepare, function, *args)
            return cast(T, parsed)
        loop = asyncio.get_running_loop()
        started, deadline = loop.time(), self._limit.when()
        if deadline is not None:
            self._limit.reschedule(deadline + MAX_PARSE_WAIT)
        try:
            parsed, self.prepared = await self._parsers.run(parse_and_prepare, self._prepare, function, *args)
        finally:
            if deadline is not None:
                self._limit.reschedule(deadline + min(loop.time() - started, MAX_PARSE_WAIT))
        return cast(T, parsed)


async def _poll_one(
    connector: Connector, claim: Claim, ctx: _RunContext, limit: float, prepare: Prepare | None
) -> Outcome:
    try:
        async with asyncio.timeout(limit) as timeout:
            parse = SourceParse(ctx.parsers, prepare, timeout)
            result = await connector.fetch(claim.ref, replace(ctx.base, parse=parse))
            prepared = parse.prepared
            if prepared is not None:  # the next poll drops the posts this one saw unchanged
                result = replace(result, state={**result.state, **prepared.state})
            return Outcome(claim, result=result, prepared=prepared)
    except FetchError as exc:
        return Outcome(claim, error=exc)
    except TimeoutError:
        return Outcome(claim, error=FetchError(f"gave up after {limit:g} s"))
    except CpuBudgetExceeded as exc:
        return Outcome(claim, error=FetchError(str(exc)))
    except Exception as exc:  # one broken source or connector bug never stops the run
        log.exception("source %s (%s): unexpected error", claim.ref.id, claim.ref.locator)
        return Outcome(claim, error=LocalError(f"internal error: {type(exc).__name__}: {str(exc)[:200]}"))


@dataclass(frozen=True)
class _RunContext:
    """The run's connector context, and its parser processes (each poll gets a context with its own `parse`)."""

    base: ConnectorContext
    parsers: ParserQueue | None


async def poll_all(
    claims: Sequence[Claim],
    connectors: dict[str, Connector],
    settings: Settings,
    store: Callable[[list[Outcome]], None],
    *,
    now: Callable[[], datetime],
    advance: Callable[[int], None] = lambda n: None,
    pool: Executor | None = None,
    prepare: Callable[[Claim], Prepare | None] = lambda claim: None,
    stop: threading.Event | None = None,
    more: Callable[[], Sequence[Claim]] | None = None,
) -> None:
    """Poll every claimed source concurrently; `store` (run in a thread) receives the outcomes in batches.

    `more` (run in a thread) claims the next chunk of sources: it is called whenever fewer polls wait than the
    window holds, so the next chunk starts while the last one finishes, until it returns nothing. Once `stop`
    is set, no chunk is asked for and sources not started yet are skipped (the caller gives their leases
    back); polls in flight finish and are stored."""
    fetcher = SafeFetcher(settings.fetch)
    # Twice as many jobs out as processes: each has one running and one waiting, and feeds that arrive meanwhile
    # leave together as the next job (see connectors/parsing.py).
    parsers = ParserQueue(pool, in_flight=2 * parser_processes(settings)) if pool is not None else None
    ctx = _RunContext(ConnectorContext(settings=settings, http=fetcher, now=now), parsers)
    queue: asyncio.Queue[Outcome | None] = asyncio.Queue(maxsize=BATCH * 4)  # backpressure bounds memory
    limit = settings.fetch.total_timeout + SLACK_SECONDS
    # A poll's time limit starts when it enters this window, not when the run starts: thousands of sources queue
    # here, not inside the limit (they would "give up" before their turn). Twice the fetch concurrency keeps the
    # fetcher busy while some polls wait for a busy host.
    window_size = max(1, settings.fetch.concurrency) * 2
    window = asyncio.Semaphore(window_size)
    entered = 0  # polls that passed the window (or were skipped there)

    async def worker(claim: Claim) -> None:
        nonlocal entered
        async with window:
            entered += 1
            if stop is not None and stop.is_set():
                return
            outcome = await _poll_one(connectors[claim.ref.kind], claim, ctx, limit, prepare(claim))
        await queue.put(outcome)

    async def writer() -> None:
        done = False
        while not done:
            item = await queue.get()
            batch = [] if item is None else [item]
            done = item is None
            try:  # gather more, up to BATCH outcomes or BATCH_WAIT seconds; the end of polling ends it at once
                async with asyncio.timeout(BATCH_WAIT):
                    while not done and len(batch) < BATCH:
                        extra = await queue.get()
                        done = extra is None
                        if extra is not None:
                            batch.append(extra)
            except TimeoutError:
                pass
            if batch:
                await asyncio.to_thread(store, batch)
                advance(len(batch))

    async def poll_chunks() -> None:
        tasks = [asyncio.create_task(worker(claim)) for claim in interleave_hosts(claims)]
        while more is not None and not (stop is not None and stop.is_set()):
            while len(tasks) - entered > window_size and not (stop is not None and stop.is_set()):
                await asyncio.sleep(0.05)  # enough polls still wait for the window
            chunk = await asyncio.to_thread(more)
            if not chunk:
                break
            tasks += [asyncio.create_task(worker(claim)) for claim in interleave_hosts(chunk)]
        await asyncio.gather(*tasks)

    writing = asyncio.create_task(writer())
    polling = asyncio.create_task(poll_chunks())
    try:
        await asyncio.wait(
            [polling, writing],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if writing.done():  # the writer only ends early when storing failed: stop polling, report why
            polling.cancel()
            writing.result()
        await polling
        await queue.put(None)
        await writing
    finally:
        polling.cancel()
        writing.cancel()
        await fetcher.aclose()
