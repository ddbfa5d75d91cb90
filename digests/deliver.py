"""`listener digest send`: which digests are due, and the record-before-and-after protocol that never sends twice.

For each due rep: claim the (rep, local date) Digest row as `sending` in its own committed transaction (the
unique constraint makes the claim atomic across overlapping runs), build and render, record the Message-ID, send,
then record `sent`. A failure records `failed`, which the next run claims again.

A crash leaves `sending`. Before the Message-ID is recorded nothing was handed to the SMTP server, so once the
claim is older than any run could take (STALE_CLAIM) the next run takes it over. After it, the mail may have gone
out: that day's digest is not retried (never twice beats at least once for a morning email). `created_at` is the
time of the latest claim.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from digests.actions import unsubscribe_url, with_actions
from digests.build import build_digest
from digests.mailer import build_message, send_message
from digests.preview import file_stem
from digests.render import render
from listener.db.schema import Digest, DigestPause, Rep
from listener.directory import get_rep
from listener.errors import DeliveryError
from listener.settings import Settings

log = logging.getLogger(__name__)
# A claim with no Message-ID this old belongs to a run that died before sending (a run takes seconds a rep).
STALE_CLAIM = timedelta(minutes=30)


@dataclass
class SendReport:
    """What one `digest send` run did."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
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
    rep_email: str | None = None,
    force_now: bool = False,
    dry_run_dir: Path | None = None,
) -> SendReport:
    """Send every digest that is due (or, with force_now, every rep's digest for their local today)."""
    now = now or datetime.now(UTC)
    report = SendReport()
    for rep in _reps(sessions, rep_email):
        on = _due_date(rep, now, force_now)
        if on is None:
            report.skipped += 1
            continue
        if dry_run_dir is not None:
            _dry_run(sessions, settings, rep, on, now, Path(dry_run_dir), report)
        else:
            _deliver(sessions, settings, rep, on, now, report)
    return report


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


def claim(sessions: sessionmaker[Session], rep_id: int, on: date, now: datetime) -> int | None:
    """Atomically take the (rep, date) row as `sending`: a new row, a `failed` one, or one a crashed run left
    before sending anything; None if another run has it or the digest went (or may have gone) out."""
    try:
        with sessions.begin() as session:
            # INSERT first (no read before it): on SQLite a read-then-write can fail on a stale snapshot.
            row = Digest(rep_id=rep_id, digest_date=on, status="sending", attempts=1, created_at=now)
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        pass
    with sessions.begin() as session:
        digest_id = session.scalar(select(Digest.id).where(Digest.rep_id == rep_id, Digest.digest_date == on))
        if digest_id is None:
            return None
        retryable = (Digest.status == "failed") | (
            (Digest.status == "sending") & (Digest.message_id == "") & (Digest.created_at < now - STALE_CLAIM)
        )
        result = session.execute(
            update(Digest)
            .where(Digest.id == digest_id, retryable)
            .values(status="sending", attempts=Digest.attempts + 1, last_error="", created_at=now)
        )
        return digest_id if result.rowcount == 1 else None  # type: ignore[attr-defined]


def _record(sessions: sessionmaker[Session], digest_id: int, **values: object) -> None:
    with sessions.begin() as session:
        session.execute(update(Digest).where(Digest.id == digest_id).values(**values))


def _deliver(
    sessions: sessionmaker[Session], settings: Settings, rep: _RepRef, on: date, now: datetime, report: SendReport
) -> None:
    digest_id = claim(sessions, rep.id, on, now)
    if digest_id is None:
        report.skipped += 1
        return
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
        # Recorded before sending: what this digest shows, so a crash leaves an honest trace.
        _record(
            sessions,
            digest_id,
            subject=rendered.subject,
            message_id=str(message["Message-ID"]),
            item_count=digest.item_count,
            insight_ids=digest.insight_ids,
        )
        send_message(message, settings.smtp)
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
    _record(sessions, digest_id, status="sent", sent_at=datetime.now(UTC))
    report.sent += 1
    report.messages.append(f"{rep.email}: sent {digest.item_count} items ({rendered.subject})")
    log.info("rep %s: digest for %s sent, %d items", rep.email, on, digest.item_count)


def _dry_run(
    sessions: sessionmaker[Session],
    settings: Settings,
    rep: _RepRef,
    on: date,
    now: datetime,
    out_dir: Path,
    report: SendReport,
) -> None:
    """Write what would be sent as an .eml file; read-only, so it never claims or records anything."""
    with sessions() as session:
        done = session.scalar(
            select(Digest.status).where(Digest.rep_id == rep.id, Digest.digest_date == on, Digest.status != "failed")
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
    report.sent += 1
    report.messages.append(f"{rep.email}: written {path}")
