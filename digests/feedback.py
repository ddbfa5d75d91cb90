"""The loop back from the rep: `listener log` records what they did, `listener snooze` mutes a customer, and the
digest's one-click links (through `listener serve`) record done, snooze, not relevant and kind corrections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digests.tokens import Claim
from listener.db.schema import Customer, Digest, DigestPause, Feedback, Insight, Interaction, Post, Rep
from listener.directory import INTERACTION_KINDS, get_customer
from listener.errors import BadInput
from listener.models import CATEGORIES, Kind

# Which digest items each interaction answers: a congratulation answers wins, never a layoff or an outage; a
# comment answers a win or a piece of news; an email, a call or a meeting is a conversation that covers them all.
# A gift answers an occasion, not a post, so it leaves the insights alone.
ANSWERS: dict[str, frozenset[str]] = {
    "congrats": frozenset({"win"}),
    "comment": frozenset({"win", "news"}),
    "email": frozenset({"win", "news", "goal", "challenge"}),
    "call": frozenset({"win", "news", "goal", "challenge"}),
    "meeting": frozenset({"win", "news", "goal", "challenge"}),
    "gift": frozenset(),
}
MAX_SNOOZE_DAYS = 3650
SNOOZE_DAYS = 14
CORRECTED_KIND = {"bad_news": "challenge", "good_news": "win", "not_relevant": "none"}


def log_interaction(
    session: Session,
    customer_name: str,
    kind: str,
    note: str = "",
    *,
    now: datetime | None = None,
    on: date | None = None,
) -> tuple[Interaction, int]:
    """Record an interaction (resetting the going-quiet clock); return it and how many shown insights it covers.

    `on` records a past touch (noon UTC that day): it answers only items whose post was out by then.
    """
    kind = kind.strip().lower()
    if kind not in INTERACTION_KINDS:
        raise BadInput(f"unknown interaction kind {kind!r}", hint=f"use one of {', '.join(INTERACTION_KINDS)}")
    now = now or datetime.now(UTC)
    happened = now
    if on is not None:
        if on > now.date():
            raise BadInput(f"--date {on.isoformat()} is in the future", hint="log a touch that already happened")
        happened = min(now, datetime(on.year, on.month, on.day, 12, tzinfo=UTC))
    customer = get_customer(session, customer_name)
    acted_ids = _shown_insights(session, customer, ANSWERS.get(kind, frozenset()), happened)
    interaction = Interaction(
        rep_id=customer.rep_id,
        customer=customer,
        kind=kind,
        happened_at=happened,
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


def _shown_insights(session: Session, customer: Customer, kinds: frozenset[str], before: datetime) -> list[int]:
    """This customer's insights of `kinds` that a sent digest showed the rep, published by `before`, that nobody
    acted on yet (oldest first)."""
    if not kinds:
        return []
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
            .where(
                Post.customer_id == customer.id,
                Insight.id.in_(shown),
                Insight.acted_at.is_(None),
                Insight.kind.in_(sorted(kinds)),
                (Post.published_at.is_(None)) | (Post.published_at <= before),
            )
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


@dataclass(frozen=True)
class ItemView:
    """What the confirmation page names: whose item, which post, what the filter called it."""

    rep_email: str
    customer: str
    title: str
    url: str
    kind: str
    category: str


def describe(session: Session, claim: Claim) -> ItemView | None:
    """The item a verified token names, or None when it is gone (customer removed or now another rep's)."""
    rep = session.get(Rep, claim.rep_id)
    customer = session.get(Customer, claim.customer_id)
    if rep is None or customer is None or customer.rep_id != rep.id:
        return None
    first = _first_insight(session, claim, customer.id)
    if first is None:
        return None if claim.insight_ids else ItemView(rep.email, customer.name, "", "", claim.item, "")
    insight, post = first
    title = post.title or " ".join(post.text.split())[:140]
    return ItemView(rep.email, customer.name, title, post.canonical_url, insight.kind, insight.category)


def _first_insight(session: Session, claim: Claim, customer_id: int) -> tuple[Insight, Post] | None:
    if not claim.insight_ids:
        return None
    row = session.execute(
        select(Insight, Post)
        .join(Post, Insight.post_id == Post.id)
        .where(Insight.id.in_(claim.insight_ids), Post.customer_id == customer_id)
        .order_by(Insight.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def categories_for(action: str) -> tuple[str, ...]:
    """The categories a rep may pick for a kind correction (taxonomy.md)."""
    kind = CORRECTED_KIND.get(action, "")
    return tuple(CATEGORIES[Kind(kind)]) if kind in ("win", "challenge") else ()


def record_feedback(
    session: Session, claim: Claim, *, category: str = "", now: datetime | None = None
) -> tuple[Feedback, bool]:
    """Record what the rep said about an item and apply it; (row, False) when it was already recorded (a replay).

    done: an interaction (the going-quiet clock resets) and the item's insights and story stay out of later digests;
    snooze: the customer is muted for two weeks; not_relevant: the item is hidden and the verdict kept with its
    post; bad_news / good_news: the corrected kind (and, if picked, category) is stored.
    """
    now = now or datetime.now(UTC)
    existing = _existing(session, claim)
    if existing is not None:
        return existing, False
    view = describe(session, claim)
    if view is None:
        raise BadInput("this item no longer exists")
    choices = categories_for(claim.action)
    if category and category not in choices:
        raise BadInput(f"unknown category {category!r}", hint=f"use one of {', '.join(choices)}")
    first = _first_insight(session, claim, claim.customer_id)
    row = Feedback(
        rep_id=claim.rep_id,
        customer_id=claim.customer_id,
        item_key=claim.item_key,
        action=claim.action,
        insight_id=first[0].id if first else None,
        post_id=first[1].id if first else None,
        kind=view.kind if first else "",
        category=view.category,
        corrected_kind=CORRECTED_KIND.get(claim.action, ""),
        corrected_category="other" if claim.action == "not_relevant" else category,
        created_at=now,
    )
    try:
        with session.begin_nested():  # two clicks at once: the unique (rep, item, action) lets one through
            session.add(row)
            session.flush()
    except IntegrityError:
        again = _existing(session, claim)
        assert again is not None
        return again, False
    _apply(session, claim, row, now)
    session.flush()
    return row, True


def _existing(session: Session, claim: Claim) -> Feedback | None:
    return session.scalar(
        select(Feedback).where(
            Feedback.rep_id == claim.rep_id, Feedback.item_key == claim.item_key, Feedback.action == claim.action
        )
    )


def _apply(session: Session, claim: Claim, row: Feedback, now: datetime) -> None:
    customer = session.get(Customer, claim.customer_id)
    assert customer is not None  # describe() found it
    if claim.action == "done":
        ids = _story_insights(session, claim)
        kind = "congrats" if row.kind == "win" else "email"
        session.add(
            Interaction(
                rep_id=claim.rep_id,
                customer=customer,
                kind=kind,
                happened_at=now,
                note="done from the digest",
                insight_id=row.insight_id,
            )
        )
        if ids:
            session.execute(update(Insight).where(Insight.id.in_(ids), Insight.acted_at.is_(None)).values(acted_at=now))
    elif claim.action == "snooze":
        until = now.date() + timedelta(days=SNOOZE_DAYS - 1)  # as `listener snooze 14`: back on day 15
        if customer.muted_until is None or customer.muted_until < until:
            customer.muted_until = until
    elif claim.action == "not_relevant" and claim.insight_ids:
        session.execute(
            update(Insight).where(Insight.id.in_(claim.insight_ids), Insight.acted_at.is_(None)).values(acted_at=now)
        )


def _story_insights(session: Session, claim: Claim) -> list[int]:
    """The item's insights and those of the same story on the customer's other sources (the blog and the tweet)."""
    if not claim.insight_ids:
        return []
    stories = select(Post.story_key).join(Insight, Insight.post_id == Post.id).where(Insight.id.in_(claim.insight_ids))
    return list(
        session.scalars(
            select(Insight.id)
            .join(Post, Insight.post_id == Post.id)
            .where(
                Post.customer_id == claim.customer_id,
                (Insight.id.in_(claim.insight_ids)) | (Post.story_key.in_(stories)),
            )
        )
    )


def pause_digests(session: Session, rep_id: int, *, now: datetime | None = None) -> bool:
    """The one-click unsubscribe: no more digests for this rep until `rep resume`; False if already paused."""
    if session.get(Rep, rep_id) is None:
        raise BadInput("this rep no longer exists")
    if session.get(DigestPause, rep_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(DigestPause(rep_id=rep_id, paused_at=now or datetime.now(UTC)))
            session.flush()
    except IntegrityError:
        return False
    return True
