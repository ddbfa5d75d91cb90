"""Which due reps a run builds digests for: leased in chunks, like due sources, so that many workers share them.

A run leases at most `digest.claim_size` due reps at a time (`SELECT … FOR UPDATE SKIP LOCKED LIMIT` on
PostgreSQL, so workers skip each other's rows instead of waiting; one `UPDATE … WHERE id IN (SELECT … LIMIT)
RETURNING` on SQLite, which takes the write lock before it reads), builds and sends their digests, gives each rep
back once its digest is done and claims the next chunk. A rep whose digest for that date is done (sent, maybe
sent, empty, or being sent by a live run) is not leased at all, so the workers do not walk every rep.

The lease only shares the work; the (rep, date) Digest row claimed in `deliver.claim` is still what guarantees one
send. Leases are renewed while the run works (a thread, every third of `digest.lease_seconds`); a run that dies
stops renewing and its reps are free once the lease runs out; a stopping run gives back the reps it has not
started.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from listener.db.renewal import renewed
from listener.db.schema import Digest, Rep
from listener.db.session import transaction


def new_owner() -> str:
    """A lease owner name unique per run that says where the run is (host:pid:random), as the ingest's leases are
    named (not imported from there: `digest send` need not load the ingest)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _open_digest(on: date, now: datetime, stale: timedelta) -> ColumnElement[bool]:
    """The rep has no digest for `on` that is done or in a live run's hands (a `failed` one is retried, and one a
    dead run left `sending` before handing anything over is taken over once it is stale, as `deliver.claim` does)."""
    settled = exists().where(
        Digest.rep_id == Rep.id,
        Digest.digest_date == on,
        Digest.status != "failed",
        ~((Digest.status == "sending") & (Digest.message_id == "") & (Digest.created_at < now - stale)),
    )
    return ~settled


def claim_reps(
    sessions: sessionmaker[Session],
    owner: str,
    now: datetime,
    lease_seconds: int,
    due: Mapping[date, Sequence[int]],
    limit: int,
    stale: timedelta,
) -> list[int]:
    """Lease up to `limit` of the `due` reps (their ids by the local date whose digest is due) whose digest is still
    to be sent and that no live run holds, to `owner`, in one atomic statement; their ids."""
    by_date = [and_(Rep.id.in_(list(ids)), _open_digest(on, now, stale)) for on, ids in due.items() if ids]
    if not by_date or limit < 1:
        return []
    free = or_(Rep.digest_lease_until.is_(None), Rep.digest_lease_until < now)
    wanted = select(Rep.id).where(free, or_(*by_date)).order_by(Rep.id).limit(limit)
    until = now + timedelta(seconds=lease_seconds)
    with transaction(sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            # Row locks taken by another worker are skipped, not waited for: each worker gets a disjoint chunk.
            ids = list(session.scalars(wanted.with_for_update(skip_locked=True)).all())
            if ids:
                session.execute(
                    update(Rep).where(Rep.id.in_(ids)).values(digest_lease_owner=owner, digest_lease_until=until),
                    execution_options={"synchronize_session": False},
                )
            return ids
        # SQLite: a write statement takes the database write lock before it reads, so the WHERE (and its
        # subquery) sees the latest committed leases and two runs can never both match the same row.
        return list(
            session.scalars(
                update(Rep)
                .where(Rep.id.in_(wanted.scalar_subquery()))
                .values(digest_lease_owner=owner, digest_lease_until=until)
                .returning(Rep.id),
                execution_options={"synchronize_session": False},
            ).all()
        )


def release_reps(sessions: sessionmaker[Session], owner: str, rep_ids: Sequence[int] | None = None) -> None:
    """Give back `owner`'s leases on these reps (every rep it holds without ids: the end of a run)."""
    with transaction(sessions) as session:
        mine = Rep.digest_lease_owner == owner
        session.execute(
            update(Rep)
            .where(mine, *([Rep.id.in_(list(rep_ids))] if rep_ids is not None else []))
            .values(digest_lease_owner="", digest_lease_until=None),
            execution_options={"synchronize_session": False},
        )


def renew_reps(sessions: sessionmaker[Session], owner: str, now: datetime, lease_seconds: int) -> int:
    """Extend every lease `owner` still holds; how many."""
    with transaction(sessions) as session:
        result = session.execute(
            update(Rep)
            .where(Rep.digest_lease_owner == owner)
            .values(digest_lease_until=now + timedelta(seconds=lease_seconds)),
            execution_options={"synchronize_session": False},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


@contextmanager
def renewing(
    sessions: sessionmaker[Session], owner: str, lease_seconds: int, clock: Callable[[], datetime]
) -> Iterator[None]:
    """Renew `owner`'s rep leases while the block runs, then give back whatever it still holds (the reps a
    stopping run did not start)."""
    try:
        with renewed(
            lease_seconds,
            lambda: renew_reps(sessions, owner, clock(), lease_seconds),
            f"the digest leases of {owner}",
        ):
            yield
    finally:
        release_reps(sessions, owner)
