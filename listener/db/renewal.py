"""Keeping leases alive: one thread that renews them while a block of work runs (ingest sources, digest reps)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def renewed(lease_seconds: int, renew: Callable[[], object], what: str) -> Iterator[None]:
    """Call `renew` every third of `lease_seconds` while the block runs.

    A thread, so a long poll, a busy event loop or a slow SMTP server cannot delay it; a process that dies stops
    renewing, and what it held is free `lease_seconds` later. A failed renewal (a database hiccup) is logged and
    tried again at the next tick, well before the lease ends."""
    stop = threading.Event()

    def renew_until_stopped() -> None:
        while not stop.wait(max(1.0, lease_seconds / 3)):
            try:
                renew()
            except Exception:
                log.warning("could not renew %s", what, exc_info=True)

    thread = threading.Thread(target=renew_until_stopped, name=f"renewal: {what}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
