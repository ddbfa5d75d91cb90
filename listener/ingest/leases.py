"""Which sources are due, claimed with a lease so that overlapping runs never poll the same source twice."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from listener.db.schema import Customer, Source
from listener.db.session import transaction
from listener.models import SourceRef
from listener.relevance import CustomerHints


@dataclass(frozen=True)
class Claim:
    """A leased source: what its connector needs, plus what storing its posts needs."""

    ref: SourceRef
    customer_id: int
    first_poll: bool
    aliases: tuple[str, ...] = ()
    language: str = ""
    alone: bool = False  # the customer has no other source: no story to merge across sources

    def hints(self) -> CustomerHints:
        """What the relevance filter needs to know about the source's customer."""
        return CustomerHints(name=self.ref.customer_name, aliases=self.aliases, language=self.language)


def new_owner() -> str:
    """A lease owner name that is unique per run and says where the run is (host:pid:random)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _due(now: datetime, all_sources: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Source.enabled.is_(True),
        or_(Source.lease_until.is_(None), Source.lease_until < now),
    ]
    if not all_sources:
        conditions.append(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
    return conditions


def count_due_by_kind(session: Session, now: datetime, all_sources: bool) -> dict[str, int]:
    """How many sources of each kind are due (to say once why a kind is skipped, and how many it concerns)."""
    rows = session.execute(select(Source.kind, func.count()).where(and_(*_due(now, all_sources))).group_by(Source.kind))
    return {kind: count for kind, count in rows}


def fair_share(
    sessions: sessionmaker[Session],
    owner: str,
    now: datetime,
    claim_size: int,
    floor: int,
    *,
    all_sources: bool = False,
    skip_kinds: Collection[str] = (),
    polled_before: datetime | None = None,
) -> int:
    """How many due sources this run should claim next: `claim_size` while plenty are due, then this run's share
    of what is left (the due sources over the runs holding leases), but never fewer than `floor` (what the run
    polls at once). Without it, the run that takes the last full chunk polls it alone at the end while the other
    workers have finished: the runs finish together instead.

    The count stops at what would still give a full chunk, so a large due set costs no more than a small one."""
    with transaction(sessions) as session:
        others = session.scalar(
            select(func.count(func.distinct(Source.lease_owner))).where(
                Source.lease_owner != "", Source.lease_owner != owner, Source.lease_until >= now
            )
        )
        runs = int(others or 0) + 1
        conditions = _due(now, all_sources)
        if skip_kinds:
            conditions.append(Source.kind.not_in(list(skip_kinds)))
        if polled_before is not None:
            conditions.append(or_(Source.last_polled_at.is_(None), Source.last_polled_at < polled_before))
        enough = claim_size * runs
        due = session.scalar(
            select(func.count()).select_from(select(Source.id).where(and_(*conditions)).limit(enough).subquery())
        )
    return max(1, min(claim_size, max(floor, -(-int(due or 0) // runs))))


def claim_due(
    sessions: sessionmaker[Session],
    owner: str,
    now: datetime,
    lease_seconds: int,
    *,
    all_sources: bool = False,
    skip_kinds: Collection[str] = (),
    limit: int | None = None,
    polled_before: datetime | None = None,
) -> list[Claim]:
    """Lease up to `limit` due sources (all of them without a limit) to `owner` in one atomic statement and
    return what the connectors need. `polled_before` leaves out sources polled at or after it (a run claiming
    chunk after chunk does not take back what it polled itself, even with `all_sources`)."""
    until = now + timedelta(seconds=lease_seconds)
    conditions = _due(now, all_sources)
    if skip_kinds:
        conditions.append(Source.kind.not_in(list(skip_kinds)))
    if polled_before is not None:
        conditions.append(or_(Source.last_polled_at.is_(None), Source.last_polled_at < polled_before))
    with transaction(sessions) as session:
        # Oldest poll first, so that a chunk takes the sources that waited longest.
        wanted = select(Source.id).where(and_(*conditions)).order_by(Source.next_poll_at.asc().nulls_first(), Source.id)
        wanted = wanted.limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            # Row locks taken by another worker are skipped, not waited for: each worker gets a disjoint chunk.
            ids = list(session.scalars(wanted.with_for_update(skip_locked=True)).all())
            if ids:
                session.execute(
                    update(Source).where(Source.id.in_(ids)).values(lease_owner=owner, lease_until=until),
                    execution_options={"synchronize_session": False},
                )
        else:
            # SQLite: a write statement takes the database write lock before it reads, so the WHERE (and its
            # subquery) sees the latest committed leases and two runs can never both match the same row.
            ids = list(
                session.scalars(
                    update(Source)
                    .where(Source.id.in_(wanted.scalar_subquery()))
                    .values(lease_owner=owner, lease_until=until)
                    .returning(Source.id),
                    execution_options={"synchronize_session": False},
                ).all()
            )
    if not ids:
        return []
    with transaction(sessions) as session:
        rows = session.execute(
            select(Source, Customer)
            .join(Customer, Customer.id == Source.customer_id)
            # A chunk by its ids (the run may still hold the last chunk's); everything at once by the owner.
            .where(Source.lease_owner == owner, *([Source.id.in_(ids)] if limit is not None else []))
            .order_by(Source.id)
        ).all()
        counts = dict(session.execute(select(Source.customer_id, func.count()).group_by(Source.customer_id)).all())
        return [_claim(source, customer, counts.get(customer.id, 0) <= 1) for source, customer in rows]


def renew(sessions: sessionmaker[Session], owner: str, now: datetime, lease_seconds: int) -> int:
    """Extend every lease `owner` still holds (sources in flight; settled ones were given back): a live run keeps
    its sources however long their polls take, and a dead one loses them `lease_seconds` after its last renewal."""
    with transaction(sessions) as session:
        result = session.execute(
            update(Source)
            .where(Source.lease_owner == owner)
            .values(lease_until=now + timedelta(seconds=lease_seconds)),
            execution_options={"synchronize_session": False},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _claim(source: Source, customer: Customer, alone: bool) -> Claim:
    state = dict(source.cursor or {})
    state["etag"] = source.etag
    state["last_modified"] = source.last_modified
    ref = SourceRef(id=source.id, kind=source.kind, locator=source.locator, state=state, customer_name=customer.name)
    return Claim(
        ref=ref,
        customer_id=customer.id,
        # Never polled successfully: a first attempt that failed stored nothing, so its backlog is still a backlog.
        first_poll=source.last_success_at is None,
        aliases=tuple(customer.aliases or ()),
        language=customer.language or "",
        alone=alone,
    )


def release(sessions: sessionmaker[Session], owner: str, source_ids: Sequence[int]) -> None:
    """Give back leases this run holds but did not settle (a crash or an interrupt leaves them to expire)."""
    if not source_ids:
        return
    with transaction(sessions) as session:
        session.execute(
            update(Source)
            .where(Source.id.in_(list(source_ids)), Source.lease_owner == owner)
            .values(lease_owner="", lease_until=None),
            execution_options={"synchronize_session": False},
        )


def release_all(sessions: sessionmaker[Session], owner: str) -> None:
    """Give back every lease `owner` still holds (the end of a run: what it claimed but did not settle)."""
    with transaction(sessions) as session:
        session.execute(
            update(Source).where(Source.lease_owner == owner).values(lease_owner="", lease_until=None),
            execution_options={"synchronize_session": False},
        )
