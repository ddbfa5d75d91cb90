"""poll_all's hand-off to storing: outcomes go to the storing thread in batches, gathered for a short while."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from connectors.base import ConnectorContext
from listener.ingest import poll
from listener.ingest.leases import Claim
from listener.ingest.poll import BATCH, Outcome, poll_all
from listener.models import FetchResult, SourceRef
from listener.settings import Settings, load_settings


class StaggeredConnector:
    """Source i answers i * `step` seconds after the run starts: outcomes trickle in, as from real servers."""

    kind: ClassVar[str] = "rss"

    def __init__(self, step: float) -> None:
        self.step = step

    async def fetch(self, source: SourceRef, ctx: ConnectorContext) -> FetchResult:
        await asyncio.sleep(source.id * self.step)
        return FetchResult(posts=(), state={"polled": source.id})


def _claims(count: int) -> list[Claim]:
    return [
        Claim(SourceRef(i, "rss", f"http://127.0.0.1/{i}.xml", {}), customer_id=i, first_poll=True)
        for i in range(count)
    ]


def _settings() -> Settings:
    return load_settings(None, environ={})


def _run(claims: list[Claim], connector: StaggeredConnector) -> list[list[Outcome]]:
    batches: list[list[Outcome]] = []
    lock = threading.Lock()

    def store(batch: list[Outcome]) -> None:
        with lock:
            batches.append(batch)

    polling = poll_all(claims, {"rss": connector}, _settings(), store, now=lambda: datetime.now(UTC))  # type: ignore[dict-item]
    asyncio.run(asyncio.wait_for(polling, 60))
    return batches


def test_outcomes_that_trickle_in_are_stored_in_few_batches() -> None:
    # 300 sources answering over 0.6 s: storing each outcome as it came made ~300 one-outcome transactions.
    batches = _run(_claims(300), StaggeredConnector(step=0.002))
    stored = sorted(outcome.claim.ref.id for batch in batches for outcome in batch)
    assert stored == list(range(300))  # each exactly once
    assert all(0 < len(batch) <= BATCH for batch in batches)
    assert len(batches) <= 12, [len(batch) for batch in batches]


def test_the_end_of_polling_stores_the_last_batch_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(poll, "BATCH_WAIT", 120.0)  # were the last batch to wait it out, wait_for(60) would fail
    batches = _run(_claims(3), StaggeredConnector(step=0.0))
    assert [len(batch) for batch in batches] == [3]


def test_a_full_batch_is_stored_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(poll, "BATCH_WAIT", 120.0)
    batches = _run(_claims(BATCH * 2 + 1), StaggeredConnector(step=0.0))
    assert [len(batch) for batch in batches] == [BATCH, BATCH, 1]
