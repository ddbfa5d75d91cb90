"""The loop back from the rep: `listener log` records what they did, `listener snooze` mutes a customer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from listener.db.schema import Customer, Digest, Insight, Interaction, Post
from listener.directory import INTERACTION_KINDS, get_customer
from listener.errors import BadInput

# Kinds that answer the posts the digest showed (a congratulation, a comment, a note, a call, a meeting);
# a gift answers an occasion, not a post, so it leaves the insights alone.
ACTING_KINDS = frozenset({"congrats", "comment", "email", "call", "meeting"})
MAX_SNOOZE_DAYS = 3650


def log_interaction(
    session: Session, customer_name: str, kind: str, note: str = "", *, now: datetime | None = None
) -> tuple[Interaction, int]:
    """Record an interaction (resetting the going-quiet clock); return it and how many shown insights it covers."""
    kind = kind.strip().lower()
    if kind not in INTERACTION_KINDS:
        raise BadInput(f"unknown interaction kind {kind!r}", hint=f"use one of {', '.join(INTERACTION_KINDS)}")
    customer = get_customer(session, customer_name)
    now = now or datetime.now(UTC)
    acted_ids = _shown_insights(session, customer) if kind in ACTING_KINDS else []
    interaction = Interaction(
        rep_id=customer.rep_id,
        customer=customer,
        kind=kind,
        happened_at=now,
        note=" ".join(note.split()),
        insight_id=acted_ids[-1] if acted_ids else None,
    )
    session.add(interaction)
    if acted_ids:
        session.execute(
            update(Insight).where(Insight.id.in_(acted_ids), Insight.acted_at.is_(None)).values(acted_at=now)
        )
    session.flush()
    return interaction, len(acted_ids)


def _shown_insights(session: Session, customer: Customer) -> list[int]:
    """This customer's insights that a sent digest showed the rep and that nobody acted on yet (oldest first)."""
    shown: set[int] = set()
    for ids in session.scalars(
        select(Digest.insight_ids).where(Digest.rep_id == customer.rep_id, Digest.status == "sent")
    ):
        shown.update(int(i) for i in ids or ())
    if not shown:
        return []
    return list(
        session.scalars(
            select(Insight.id)
            .join(Post, Insight.post_id == Post.id)
            .where(Post.customer_id == customer.id, Insight.id.in_(shown), Insight.acted_at.is_(None))
            .order_by(Insight.id)
        )
    )


def snooze(
    session: Session, customer_name: str, days: int, *, today: date | None = None, now: datetime | None = None
) -> Customer:
    """Keep a customer out of digests for `days` more days in the rep's zone (0 lifts a snooze).

    `today` defaults to the date in the rep's time zone: `snooze X 1` at 22:00 in Madrid mutes X through
    tomorrow, Madrid time (not for the two hours left of today, nor 24 hours in UTC).
    """
    if days < 0:
        raise BadInput(f"snooze days must be 0 or more, got {days}")
    if days > MAX_SNOOZE_DAYS:
        raise BadInput(f"snooze of {days} days is more than {MAX_SNOOZE_DAYS}", hint="remove the customer instead")
    customer = get_customer(session, customer_name)
    today = today or (now or datetime.now(UTC)).astimezone(ZoneInfo(customer.rep.time_zone)).date()
    # Muted through the last day inclusive (digests compare it with the rep's local date): snooze 1 on Monday
    # keeps Tuesday's digest quiet too, and the customer is back on Wednesday.
    customer.muted_until = today + timedelta(days=days) if days else None
    session.flush()
    return customer
