"""`listener digest send`: which digests are due, and the record-before-and-after protocol that never sends twice.

For each due rep: claim the (rep, local date) Digest row as `sending` in its own committed transaction (the
unique constraint makes the claim atomic across overlapping runs), build and render, talk SMTP up to the end of
the message, record "data sent" (status `unknown`, with the Message-ID), send the terminating "." and record
`sent` once the server answers 250. A failure before the "." (or a clear refusal of it) records `failed`, which
the next run claims again. A failure after the "." (no answer in time, a dropped connection) leaves `unknown`: the
mail may have been delivered, so it is never retried automatically; `listener digest retry` resends it.

A crash before "data sent" leaves `sending` with no Message-ID: nothing was handed over, so once the claim is older
than STALE_CLAIM the next run takes it over. Each claim bumps `attempts`, and "data sent" is recorded only if the
row still carries this run's attempt: a run whose claim was taken over stops before the "." instead of sending a
second copy. `created_at` is when the latest claim was made (the run's clock at that moment, not its start).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from digests.actions import unsubscribe_url, with_actions
from digests.build import build_digest
from digests.claims import claim_reps, new_owner, release_reps, renewing
from digests.mailer import OutcomeUnknown, build_message, send_message
from digests.preview import file_stem
from digests.render import render
from listener.db.schema import Digest, DigestPause, Rep
from listener.directory import get_rep
from listener.errors import BadInput, DeliveryError
from listener.settings import Settings

log = logging.getLogger(__name__)
# A claim with no Message-ID this old belongs to a run that died before sending (a run takes seconds a rep); and if
# it did not die, the attempt check before the final "." stops it.
STALE_CLAIM = timedelta(minutes=30)
Clock = Callable[[], datetime]


@dataclass
class SendReport:
    """What one `digest send` run did."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0  # the whole message went out but no clear answer came: never retried automatically
    messages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _RepRef:
    id: int
    email: str
    time_zone: str
    hour: int
    workdays: str = "mon,tue,wed,thu,fri"


def send_due(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    clock: Clock | None = None,
    rep_email: str | None = None,
    force_now: bool = False,
    dry_run_dir: Path | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Send every digest that is due (or, with force_now, every rep's digest for their local today).

    `now` is the run's start (what is due, what the digest shows); `clock` tells the time when a claim is made
    (default: `now` plus the time the run has taken so far). Once `stop` is set no further rep is started.
    Two runs (or `listener worker`s on several hosts) never build the same rep's digest: the due reps are leased a
    chunk at a time (digests/claims.py), and each rep's (rep, date) row is claimed before its digest is built; a
    rep another run holds is skipped.
    """
    now = now or datetime.now(UTC)
    clock = clock or _run_clock(now)
    report = SendReport()
    due: dict[int, tuple[_RepRef, date]] = {}
    for rep in _reps(sessions, rep_email):
        on = _due_date(rep, now, force_now)
        if on is None:
            report.skipped += 1
        else:
            due[rep.id] = (rep, on)
    if dry_run_dir is not None:  # read-only: nothing is claimed
        for rep, on in due.values():
            if stop is not None and stop.is_set():
                break
            _dry_run(sessions, settings, rep, on, now, Path(dry_run_dir), report)
        return report
    _deliver_in_chunks(sessions, settings, due, now, clock, report, stop)
    return report


def _deliver_in_chunks(
    sessions: sessionmaker[Session],
    settings: Settings,
    due: dict[int, tuple[_RepRef, date]],
    now: datetime,
    clock: Clock,
    report: SendReport,
    stop: threading.Event | None,
) -> None:
    """Lease the due reps a chunk at a time (digests/claims.py), deliver each one's digest and give it back; stop
    when no rep is left to lease (the others are done, or other runs hold them: skipped here)."""
    owner = new_owner()
    lease = max(1, settings.digest.lease_seconds)
    by_date: dict[date, list[int]] = {}
    for rep_id, (_, on) in due.items():
        by_date.setdefault(on, []).append(rep_id)
    with renewing(sessions, owner, lease, clock):
        while due and not (stop is not None and stop.is_set()):
            chunk = claim_reps(sessions, owner, clock(), lease, by_date, settings.digest.claim_size, STALE_CLAIM)
            if not chunk:
                break
            for rep_id in chunk:
                if stop is not None and stop.is_set():  # `listener worker` stopping: the rep in hand was finished
                    break  # the reps of the chunk not started are given back as the block ends
                rep, on = due.pop(rep_id)
                by_date[on].remove(rep_id)
                _deliver(sessions, settings, rep, on, now, clock, report)
                release_reps(sessions, owner, [rep_id])
    report.skipped += len(due)  # done already, or another run's


def _run_clock(start: datetime) -> Clock:
    """The run's `now` moved on by the time elapsed since (so an injected start time stays consistent)."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def _reps(sessions: sessionmaker[Session], rep_email: str | None) -> list[_RepRef]:
    with sessions() as session:
        rows = [get_rep(session, rep_email)] if rep_email else session.scalars(select(Rep).order_by(Rep.id)).all()
        # A rep who paused their digests (the email's one-click unsubscribe) gets none until `rep resume`.
        paused = set(session.scalars(select(DigestPause.rep_id)))
        return [
            _RepRef(r.id, r.email, r.time_zone, r.digest_hour, r.workdays or "") for r in rows if r.id not in paused
        ]


def _due_date(rep: _RepRef, now: datetime, force_now: bool) -> date | None:
    """The rep's local date if their digest hour has come (any hour with force_now), else None."""
    try:
        local = now.astimezone(ZoneInfo(rep.time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("rep %s: unknown time zone %r, using UTC", rep.email, rep.time_zone)
        local = now.astimezone(UTC)
    if force_now:
        return local.date()
    # Work days only: the brief of the first work day after a break covers it (what was not shown stays fresh).
    if local.hour >= rep.hour and is_workday(rep.workdays, local.date()):
        return local.date()
    return None


def is_workday(workdays: str, day: date) -> bool:
    """True when `day` is one of the rep's work days ("mon,tue,wed,thu,fri"; empty means every day)."""
    names = {d.strip() for d in (workdays or "").split(",") if d.strip()}
    return not names or ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()] in names


@dataclass(frozen=True)
class Claim:
    """A claimed (rep, date) row; `attempt` is the row's attempts when this run took it (the fencing token)."""

    digest_id: int
    attempt: int


class ClaimLost(Exception):
    """Another run took the claim over (it looked stale): this run must not send the final "."."""


def claim(sessions: sessionmaker[Session], rep_id: int, on: date, clock: Clock) -> Claim | None:
    """Atomically take the (rep, date) row as `sending`: a new row, a `failed` one, or one a crashed run left
    before sending anything; None if another run has it or the digest went (or may have gone) out.

    Stamped with `clock()` at the moment of the claim: a run's start time would make a fresh claim of a long run
    look stale to an overlapping one."""
    try:
        with sessions.begin() as session:
            # INSERT first (no read before it): on SQLite a read-then-write can fail on a stale snapshot.
            row = Digest(rep_id=rep_id, digest_date=on, status="sending", attempts=1, created_at=clock())
            session.add(row)
            session.flush()
            return Claim(row.id, 1)
    except IntegrityError:
        pass
    with sessions.begin() as session:
        found = session.execute(
            select(Digest.id, Digest.attempts).where(Digest.rep_id == rep_id, Digest.digest_date == on)
        ).first()
        if found is None:
            return None
        digest_id, attempts = found
        at = clock()
        retryable = (Digest.status == "failed") | (
            (Digest.status == "sending") & (Digest.message_id == "") & (Digest.created_at < at - STALE_CLAIM)
        )
        result = session.execute(
            update(Digest)
            .where(Digest.id == digest_id, Digest.attempts == attempts, retryable)
            .values(status="sending", attempts=attempts + 1, last_error="", created_at=at)
        )
        return Claim(digest_id, attempts + 1) if result.rowcount == 1 else None  # type: ignore[attr-defined]


def _record(sessions: sessionmaker[Session], digest_id: int, **values: object) -> None:
    with sessions.begin() as session:
        session.execute(update(Digest).where(Digest.id == digest_id).values(**values))


def _deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    rep: _RepRef,
    on: date,
    now: datetime,
    clock: Clock,
    report: SendReport,
) -> None:
    claimed = claim(sessions, rep.id, on, clock)
    if claimed is None:
        report.skipped += 1
        return
    digest_id = claimed.digest_id
    try:
        with sessions() as session:
            row = session.get(Rep, rep.id)
            assert row is not None  # claimed a row that references it
            digest = with_actions(build_digest(session, settings, row, on, now), settings, rep_id=rep.id)
        if digest.is_empty and not settings.digest.send_empty:
            _record(sessions, digest_id, status="empty")
            report.skipped += 1
            return
        rendered = render(digest)
        digest = rendered.digest
        message = build_message(
            digest, rendered, settings.smtp, rep_id=rep.id, now=now, unsubscribe=unsubscribe_url(settings, rep.id)
        )

        def data_sent() -> None:
            # Recorded just before the final ".": what this digest shows, and that it may now be delivered. Only
            # if the claim is still this run's; otherwise stop before the "." (another run sends it).
            with sessions.begin() as session:
                result = session.execute(
                    update(Digest)
                    .where(Digest.id == digest_id, Digest.attempts == claimed.attempt, Digest.status == "sending")
                    .values(
                        status="unknown",
                        subject=rendered.subject,
                        message_id=str(message["Message-ID"]),
                        item_count=digest.item_count,
                        insight_ids=digest.insight_ids,
                    )
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    raise ClaimLost

        send_message(message, settings.smtp, before_end=data_sent)
    except ClaimLost:
        report.skipped += 1
        report.messages.append(f"{rep.email}: not sent: another run took the digest over")
        log.warning("rep %s: digest for %s taken over by another run; stopped before the end of data", rep.email, on)
        return
    except OutcomeUnknown as exc:
        _record(sessions, digest_id, status="unknown", last_error=exc.explain()[:1000])
        report.unknown += 1
        report.messages.append(f"{rep.email}: may not have been sent: {exc.explain()}")
        log.warning("rep %s: digest for %s outcome unknown: %s", rep.email, on, exc.explain())
        return
    except DeliveryError as exc:
        _record(sessions, digest_id, status="failed", last_error=exc.explain()[:1000])
        report.failed += 1
        report.messages.append(f"{rep.email}: not sent: {exc.explain()}")
        log.warning("rep %s: digest for %s not sent: %s", rep.email, on, exc.explain())
        return
    except Exception as exc:
        # A bug while building must not leave the row claimed forever: record it failed and keep going.
        _record(sessions, digest_id, status="failed", last_error=f"{type(exc).__name__}: {exc}"[:1000])
        report.failed += 1
        report.messages.append(f"{rep.email}: not sent: {type(exc).__name__}: {exc}")
        log.exception("rep %s: digest for %s failed", rep.email, on)
        return
    _record(sessions, digest_id, status="sent", last_error="", sent_at=datetime.now(UTC))
    report.sent += 1
    report.messages.append(f"{rep.email}: sent {digest.item_count} items ({rendered.subject})")
    log.info("rep %s: digest for %s sent, %d items", rep.email, on, digest.item_count)


def retry(
    sessions: sessionmaker[Session], settings: Settings, rep_email: str, on: date | None, *, now: datetime | None = None
) -> SendReport:
    """`listener digest retry`: send again a digest whose outcome is `unknown` (or that `failed`), now.

    Sales ops run it after checking that the rep did not get the mail; refuses a digest that was sent, is being
    sent or does not exist (BadInput: nothing changes)."""
    now = now or datetime.now(UTC)
    rep = _reps(sessions, rep_email)[0]
    day = on or _due_date(rep, now, force_now=True)
    assert day is not None
    with sessions.begin() as session:
        row = session.scalar(select(Digest).where(Digest.rep_id == rep.id, Digest.digest_date == day))
        if row is None:
            raise BadInput(f"{rep.email} has no digest for {day.isoformat()}", hint="see `listener digest list`")
        if row.status not in ("unknown", "failed"):
            raise BadInput(
                f"{rep.email}'s digest for {day.isoformat()} is {row.status}, not unknown or failed",
                hint="only a digest whose outcome is unknown or that failed can be retried",
            )
        # Back to `failed` with an empty Message-ID, so that the ordinary claim (and its race rules) takes it.
        row.status, row.message_id = "failed", ""
    report = SendReport()
    zone = _zone(rep)
    end_of_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    _deliver(sessions, settings, rep, day, min(now, end_of_day), _run_clock(now), report)
    return report


def _zone(rep: _RepRef) -> ZoneInfo | timezone:
    try:
        return ZoneInfo(rep.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@dataclass(frozen=True)
class DigestRow:
    """One line of `listener digest list`."""

    rep_email: str
    on: date
    status: str
    attempts: int
    item_count: int
    subject: str
    last_error: str


def list_digests(
    sessions: sessionmaker[Session], *, rep_email: str | None = None, on: date | None = None, status: str | None = None
) -> list[DigestRow]:
    """The recorded digests, newest date first; `unknown` ones are those sales ops should check."""
    query = select(Digest, Rep.email).join(Rep, Rep.id == Digest.rep_id)
    with sessions() as session:
        if rep_email:
            query = query.where(Digest.rep_id == get_rep(session, rep_email).id)
        if on:
            query = query.where(Digest.digest_date == on)
        if status:
            query = query.where(Digest.status == status)
        rows = session.execute(query.order_by(Digest.digest_date.desc(), Rep.email)).all()
        return [
            DigestRow(email, d.digest_date, d.status, d.attempts, d.item_count, d.subject, d.last_error)
            for d, email in rows
        ]


def _dry_run(
    sessions: sessionmaker[Session],
    settings: Settings,
    rep: _RepRef,
    on: date,
    now: datetime,
    out_dir: Path,
    report: SendReport,
) -> None:
    """Write what would be sent as an .eml file; read-only, so it never claims or records anything. A rep whose
    digest cannot be written is reported in one line and the other reps still get theirs."""
    try:
        with sessions() as session:
            done = session.scalar(
                select(Digest.status).where(
                    Digest.rep_id == rep.id, Digest.digest_date == on, Digest.status != "failed"
                )
            )
            row = session.get(Rep, rep.id)
            assert row is not None
            digest = with_actions(build_digest(session, settings, row, on, now), settings, rep_id=rep.id)
            session.rollback()
        if done is not None or (digest.is_empty and not settings.digest.send_empty):
            report.skipped += 1
            return
        rendered = render(digest)
        message = build_message(
            digest, rendered, settings.smtp, rep_id=rep.id, now=now, unsubscribe=unsubscribe_url(settings, rep.id)
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{file_stem(rep.email)}-{on.isoformat()}.eml"
        path.write_bytes(message.as_bytes())
    except Exception as exc:
        report.failed += 1
        report.messages.append(f"{_one_line(rep.email)}: not written: {_one_line(f'{type(exc).__name__}: {exc}')}")
        log.warning("rep %s: dry run failed", _one_line(rep.email), exc_info=True)
        return
    report.sent += 1
    report.messages.append(f"{rep.email}: written {path}")


def _one_line(text: str) -> str:
    """A rep's stored email or an error as one printable line (a row written before input was checked may hold
    control characters)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
