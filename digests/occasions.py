"""Relationship sections that do not come from one post: business dates, going quiet, coming up, the weekly gesture."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from digests.gifts import gift_idea
from digests.ics import invitation
from digests.labels import short_date
from digests.model import Attachment, Item
from digests.select import CustomerInfo, InsightInfo, RepSnapshot
from digests.suggest import Drafter, choose_language, hello
from digests.text import headline, safe_links, shorten
from digests.wording import clip_title, join_phrases, mention
from listener.settings import DigestSettings

_TOPIC_CHARS = 90
MAX_MENTIONS = 3  # a message to the customer names a few topics; the rep's agenda has them all
SortKey = tuple[float, ...]
_KIND_RANK = {"win": 0, "challenge": 1, "goal": 2, "news": 3}
_CATCH_UP = {"en": "how things are going", "es": "cómo os va"}


def business_dates(
    snap: RepSnapshot,
    fresh: list[InsightInfo],
    cfg: DigestSettings,
    on: date,
    now: datetime,
    drafter: Drafter,
    words: dict[str, str],
) -> list[tuple[tuple[float, ...], Item, Attachment | None]]:
    """Customers with enough fresh topics and no recent meeting: an agenda, an offer to meet, an .ics draft.

    Only the first `max_items_per_section` are drafted; the rest are named in the section's summary line.
    """
    by_customer: dict[int, list[InsightInfo]] = defaultdict(list)
    for insight in snap.insights:
        if not insight.acted:
            by_customer[insight.customer_id].append(insight)
    # Suggest a date when something new arrived, not every morning while the material sits there.
    new_today = {i.customer_id for i in fresh}
    qualified: list[tuple[SortKey, CustomerInfo, list[InsightInfo], list[InsightInfo], list[str]]] = []
    for customer_id, topics in by_customer.items():
        customer = snap.customers.get(customer_id)
        if customer is None or customer_id not in new_today or len(topics) < cfg.date_min_topics:
            continue
        if customer.last_meeting is not None and (on - customer.last_meeting.date()).days < cfg.meeting_gap_days:
            continue
        chosen = sorted(topics, key=lambda i: (_KIND_RANK.get(i.kind, 9), -i.score, -i.published_at.timestamp()))
        agenda = _dedupe(topic_label(i) for i in chosen)[:5]
        if len(agenda) < min(3, cfg.date_min_topics):
            continue
        qualified.append(((-float(len(topics)), float(customer_id)), customer, topics, chosen, agenda))
    qualified.sort(key=lambda entry: entry[0])
    out: list[tuple[SortKey, Item, Attachment | None]] = []
    for rank, (key, customer, topics, chosen, agenda) in enumerate(qualified):
        if rank >= cfg.max_items_per_section:
            out.append((key, _placeholder(customer), None))
            continue
        language = choose_language(customer.language)
        # The message to the customer names their news and goals; their troubles stay on the rep's agenda only.
        friendly = [i for i in chosen if i.kind != "challenge"]
        mentions = _first_distinct((mention(i, customer, language, drafter) for i in friendly), MAX_MENTIONS)
        context = {
            "customer": customer.name,
            "first_name": customer.first_name,
            "hello": hello(customer.first_name, customer.name, language),
            "topics": _dedupe(topic_label(i) for i in friendly)[:MAX_MENTIONS] or agenda[:1],
            "mentions": join_phrases(mentions, language) or _CATCH_UP.get(language, _CATCH_UP["en"]),
        }
        suggestion = drafter.draft("date", language, f"date:{customer.id}", context)
        filename = f"meet-{slug(customer.name)}-{on.isoformat()}.ics"
        ics = invitation(snap, customer, agenda, suggestion, on, now)
        why = (
            words["topics"].format(count=len(topics), gap=cfg.meeting_gap_days)
            if customer.last_meeting
            else words["no_meeting"].format(count=len(topics))
        )
        item = Item(
            customer=customer.name,
            customer_id=customer.id,
            headline=customer.name,
            suggestion=suggestion,
            why=why,
            topics=tuple(agenda),
            attachment=filename,
            kind="date",
        )
        out.append((key, item, Attachment(filename, ics)))
    return out


def overdue(snap: RepSnapshot, on: date) -> dict[int, int]:
    """Customer id -> days since the last logged touch (or since they were added), for those past their cadence."""
    out: dict[int, int] = {}
    for customer in snap.customers.values():
        reference = customer.last_touch or customer.created_at
        days = (on - reference.date()).days
        if days > customer.cadence_days:
            out[customer.id] = days
    return out


def going_quiet(
    snap: RepSnapshot,
    cfg: DigestSettings,
    on: date,
    now: datetime,
    drafter: Drafter,
    words: dict[str, str],
    skip: frozenset[int] = frozenset(),
) -> list[tuple[tuple[float, ...], Item]]:
    """Customers past their touch cadence with no logged interaction, with an easy reason to write.

    Customers in `skip` already have something to answer in today's digest: that item is the way back in.
    """
    latest: dict[int, InsightInfo] = {}
    for insight in snap.insights:
        # Never "I enjoyed your post" about a layoff: challenges are not an easy way back in.
        if insight.kind == "challenge":
            continue
        current = latest.get(insight.customer_id)
        if current is None or insight.published_at > current.published_at:
            latest[insight.customer_id] = insight
    late: list[tuple[SortKey, CustomerInfo, int]] = []
    for customer_id, days in overdue(snap, on).items():
        customer = snap.customers[customer_id]
        if customer_id not in skip:
            late.append(((-days / max(1, customer.cadence_days), float(customer.id)), customer, days))
    late.sort(key=lambda entry: entry[0])
    out: list[tuple[SortKey, Item]] = []
    for rank, (key, customer, days) in enumerate(late):
        if rank >= cfg.max_items_per_section:  # named in the summary line only: not worth drafting
            out.append((key, _placeholder(customer)))
            continue
        post = latest.get(customer.id)
        language = choose_language(customer.language)
        context = {
            "customer": customer.name,
            "first_name": customer.first_name,
            "hello": hello(customer.first_name, customer.name, language),
            "days": days,
            "latest": clip_title(post.title) if post else "",
        }
        suggestion = drafter.draft("quiet", language, f"quiet:{customer.id}", context)
        why = words["overdue"].format(days=days, cadence=customer.cadence_days)
        if post is None:
            why += " · " + words["quiet.nopost"]
        item = Item(
            customer=customer.name,
            customer_id=customer.id,
            headline=headline(post.title, post.text) if post else customer.name,
            suggestion=suggestion,
            why=why,
            links=safe_links([post.url, *post.links]) if post else (),
            kind="quiet",
        )
        out.append((key, item))
    return out


def coming_up(
    snap: RepSnapshot, cfg: DigestSettings, on: date, drafter: Drafter, words: dict[str, str]
) -> list[tuple[tuple[float, ...], Item]]:
    """Customer-since and company anniversaries and contacts' birthdays in the next `upcoming_days`."""
    out: list[tuple[SortKey, Item]] = []
    for customer in snap.customers.values():
        language = choose_language(customer.language)
        base = {
            "customer": customer.name,
            "first_name": customer.first_name,
            "hello": hello(customer.first_name, customer.name, language),
        }
        for when, entry, years, contact, label in _occasions(customer, on, cfg.upcoming_days, words):
            key = f"{entry}:{customer.id}:{contact}:{when.isoformat()}"
            first = contact.split()[0] if contact else ""
            context: dict[str, object] = {**base, "years": years, "contact": first}
            if first:
                context["hello"] = hello(first, customer.name, language)
            item = Item(
                customer=customer.name,
                customer_id=customer.id,
                headline=f"{label} · {short_date(when, snap.language)}",
                suggestion=drafter.draft(entry, language, key, context),
                why=_countdown((when - on).days, words),
                # The gift idea is for the rep to act on, so it is in the rep's language.
                gift=gift_idea(customer.interests, choose_language(snap.language), f"{snap.email}|{key}"),
                when=when,
                kind=entry,
            )
            out.append(((float(when.toordinal()), float(customer.id)), item))
    return out


def _occasions(
    customer: CustomerInfo, on: date, days: int, words: dict[str, str]
) -> Iterator[tuple[date, str, int, str, str]]:
    """(date, phrasebook entry, years, contact name, label) for each occasion within the window."""
    end = on + timedelta(days=days)
    if customer.since is not None:
        when = next_anniversary(customer.since.month, customer.since.day, on)
        years = when.year - customer.since.year
        if when <= end and years >= 1:
            label = words["customer_since.1"] if years == 1 else words["customer_since"].format(years=years)
            yield when, "customer_since", years, "", label
    if customer.founded is not None:
        when = next_anniversary(customer.founded.month, customer.founded.day, on)
        years = when.year - customer.founded.year
        if when <= end and years >= 1:
            yield when, "founded", years, "", words["founded"].format(years=years, customer=customer.name)
    for contact in customer.contacts:
        match = re.match(r"^(\d{2})-(\d{2})$", contact.birthday or "")
        if not match:
            continue
        when = next_anniversary(int(match.group(1)), int(match.group(2)), on)
        if when <= end:
            yield when, "birthday", 0, contact.name, words["birthday"].format(name=contact.name)


def next_anniversary(month: int, day: int, on: date) -> date:
    """The next date (today included) with this month and day; 29 February falls on the 28th in other years."""
    for year in (on.year, on.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = date(year, month, 28)
        if candidate >= on:
            return candidate
    raise AssertionError("unreachable: next year always qualifies")


def weekly_gesture(
    snap: RepSnapshot,
    cfg: DigestSettings,
    on: date,
    drafter: Drafter,
    words: dict[str, str],
    busy: frozenset[int] = frozenset(),
) -> Item | None:
    """On the gesture weekday, one customer picked deterministically (per rep and ISO week) for a thank-you.

    Customers in `busy` already have a reason to hear from the rep today; the gesture goes to someone else
    when anyone else is left, so it stays a surprise for no reason.
    """
    if on.weekday() != cfg.gesture_weekday or not snap.customers:
        return None
    iso_year, iso_week, _ = on.isocalendar()
    # A thank-you for no reason lands badly in the middle of a layoff or an outage.
    troubled = {i.customer_id for i in snap.insights if i.kind == "challenge"}
    calm = set(snap.customers) - troubled
    ids = sorted(calm - busy) or sorted(calm) or sorted(snap.customers)
    seed = int.from_bytes(hashlib.sha256(f"{snap.email}|{iso_year}-W{iso_week}".encode()).digest()[:8], "big")
    customer = snap.customers[ids[seed % len(ids)]]
    language = choose_language(customer.language)
    rep_language = choose_language(snap.language)  # the gift idea is for the rep
    context = {
        "customer": customer.name,
        "first_name": customer.first_name,
        "hello": hello(customer.first_name, customer.name, language),
    }
    return Item(
        customer=customer.name,
        customer_id=customer.id,
        headline=customer.name,
        suggestion=drafter.draft("gesture", language, f"gesture:{customer.id}", context),
        why=words["gesture.why"],
        gift=gift_idea(customer.interests, rep_language, f"{snap.email}|gesture|{iso_year}-{iso_week}"),
        kind="gesture",
    )


def _placeholder(customer: CustomerInfo) -> Item:
    """An item past the section's cap: only named in the summary line, so not worth drafting."""
    return Item(customer=customer.name, headline=customer.name, suggestion="", why="", customer_id=customer.id)


def topic_label(insight: InsightInfo) -> str:
    """A short agenda line for an insight: its topic fact, else its title."""
    topic = insight.facts.get("topic") if isinstance(insight.facts.get("topic"), str) else ""
    return _short(topic or insight.title or insight.text)


def _short(text: str) -> str:
    return shorten(text, _TOPIC_CHARS)


def _first_distinct(labels: Iterable[str], limit: int) -> list[str]:
    """The first `limit` distinct non-empty labels, drafting no more than needed (the iterable is lazy)."""
    out: dict[str, str] = {}
    for label in labels:
        if label and label.lower() not in out:
            out[label.lower()] = label
            if len(out) == limit:
                break
    return list(out.values())


def _dedupe(labels: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for label in labels:
        if label and label.lower() not in seen:
            seen[label.lower()] = label
    return list(seen.values())


def slug(name: str) -> str:
    """A file-name-safe form of a name (accents folded: Logística -> logistica)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40] or "customer"


def _countdown(days: int, words: dict[str, str]) -> str:
    if days == 0:
        return words["today"]
    if days == 1:
        return words["tomorrow"]
    return words["in_days"].format(days=days)
