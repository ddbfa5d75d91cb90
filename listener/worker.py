"""`listener worker`: one long-running process (systemd, a container) that ingests when sources are due and sends
digests when reps are due, on any number of hosts sharing one database.

Each cycle is an ordinary `listener ingest` run (due sources claimed in chunks with renewed leases, so workers
share them) followed by an ordinary `digest send` (each rep's digest claimed before it is built, so two workers
never build the same one); then the worker waits `worker.interval_seconds`. Stopping (SIGTERM, or `stop` set by
the caller) is graceful: polls in flight finish and are stored, claimed sources not started yet are given back,
the digest in hand is finished and no other is started.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from digests.deliver import send_due
from listener.errors import ListenerError
from listener.ingest import run_ingest
from listener.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class WorkerTotals:
    """What a worker did over its life (printed when it stops)."""

    cycles: int = 0
    sources_polled: int = 0
    sources_failed: int = 0
    digests_sent: int = 0
    digests_failed: int = 0
    digests_unknown: int = 0
    errors: int = 0

    def summary(self) -> str:
        return (
            f"{self.cycles} cycle(s): {self.sources_polled} sources polled ({self.sources_failed} failed), "
            f"{self.digests_sent} digests sent ({self.digests_failed} failed, {self.digests_unknown} unknown)"
            + (f", {self.errors} cycle error(s)" if self.errors else "")
        )


def run_worker(
    sessions: sessionmaker[Session], settings: Settings, stop: threading.Event, *, once: bool = False
) -> WorkerTotals:
    """Ingest, then send digests, then wait; until `stop` is set (after one cycle with `once`)."""
    totals = WorkerTotals()
    while not stop.is_set():
        try:
            _cycle(sessions, settings, stop, totals)
        except ListenerError as exc:  # the database is away, say: say so once a cycle and try again later
            totals.errors += 1
            log.error("worker cycle failed: %s", exc.explain())
        except Exception:  # a bug must not end a long-running worker; the next cycle starts afresh
            totals.errors += 1
            log.exception("worker cycle failed")
        totals.cycles += 1
        if once:
            break
        stop.wait(max(1, settings.worker.interval_seconds))
    return totals


def _cycle(sessions: sessionmaker[Session], settings: Settings, stop: threading.Event, totals: WorkerTotals) -> None:
    ingest = run_ingest(sessions, settings, stop=stop)
    totals.sources_polled += ingest.sources_polled
    totals.sources_failed += ingest.failed
    if ingest.sources_polled:
        log.info("%s", ingest.summary())
    if stop.is_set():
        return
    sent = send_due(sessions, settings, stop=stop)
    totals.digests_sent += sent.sent
    totals.digests_failed += sent.failed
    totals.digests_unknown += sent.unknown
    for message in sent.messages:
        log.info("%s", message)
