"""Relationship sections that do not come from one post: business dates, going quiet, coming up, the weekly gesture."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import partial

from digests.contacts import contact_for, draft_language, first_name
from digests.gifts import gift_idea
from digests.ics import invitation
from digests.labels import labels, short_date
from digests.model import Attachment, Item
from digests.posts import human_why
from digests.select import CustomerInfo, InsightInfo, RepSnapshot
from digests.stories import Story, group_stories
from digests.suggest import Drafter, book_labels, choose_language, hello
from digests.text import headline, safe_links
from digests.wording import clip_title, join_phrases, mention, suggestion_context
from listener.settings import DigestSettings

MAX_MENTIONS = 3  # a message to the customer names a few topics; the rep's agenda has them all
MAX_QUESTIONS = 5
SortKey = tuple[float, ...]
_KIND_RANK = {"win": 0, "challenge": 1, "goal": 2, "news": 3}
# Noise on an agenda: a job ad or an event advert is not something to talk through with the customer.
_NOT_ON_AGENDA = frozenset({"hiring", "event"})


def business_dates(
    snap: RepSnapshot, fresh: list[InsightInfo], cfg: DigestSettings, on: date, now: datetime, drafter: Drafter
) -> list[tuple[Item, Callable[[], Attachment]]]:
    """Customers with enough fresh topics and no recent meeting: questions to ask, an offer to meet, an .ics draft.

    Each draft gets its own free slot, so two invitations never propose the same hour.
    """
    by_customer: dict[int, list[InsightInfo]] = defaultdict(list)
    for insight in snap.insights:
        if not insight.acted and insight.category not in _NOT_ON_AGENDA:
            by_customer[insight.customer_id].append(insight)
    # Suggest a date when something new arrived, not every morning while the material sits there.
    new_today = {i.customer_id for i in fresh}
    qualified: list[tuple[SortKey, CustomerInfo, list[Story]]] = []
    for customer_id, topics in by_customer.items():
        customer = snap.customers.get(customer_id)
        if customer is None or customer_id not in new_today:
            continue
        if customer.last_meeting is not None and (on - customer.last_meeting.date()).days < cfg.meeting_gap_days:
            continue
        stories = group_stories(topics)  # one story, one question
        if len(stories) < cfg.date_min_topics:
            continue
        stories.sort(key=lambda s: (_KIND_RANK.get(s.lead.kind, 9), -s.lead.score, -s.lead.published_at.timestamp()))
        qualified.append(((-float(len(stories)), float(customer_id)), customer, stories))
    qualified.sort(key=lambda entry: entry[0])
    out: list[tuple[Item, Callable[[], Attachment]]] = []
    for slot, (_, customer, stories) in enumerate(qualified):
        contact = contact_for(customer)
        language = draft_language(contact, customer, snap.language)
        words = labels(language)
        name = first_name(contact)
        # The rep's agenda asks about everything; what the customer reads leaves out their troubles and what the
        # filter is unsure of (a promo it half-read as a launch is no topic to invite a customer over).
        agenda = _dedupe(question(s.lead, customer, language, words) for s in stories)[:MAX_QUESTIONS]
        friendly = [s.lead for s in stories if s.lead.kind != "challenge" and not s.lead.facts.get("unsure")]
        shared = _dedupe(question(i, customer, language, words) for i in friendly)[:MAX_QUESTIONS]
        mentions = _first_distinct((mention(i, customer, language, drafter) for i in friendly), MAX_MENTIONS)
        context = {
            "customer": customer.name,
            "first_name": name,
            "hello": hello(name, customer.name, language),
            "topics": shared[:MAX_MENTIONS],
            "mentions": join_phrases(mentions, language) or words["catch_up"],
        }
        suggestion = drafter.draft("date", language, f"date:{customer.id}", context)
        filename = f"meet-{slug(customer.name)}-{on.isoformat()}.ics"
        # The .ics is written only if its item makes the cards (not every one does): a deferred call.
        ics = partial(invitation, snap, customer, [*shared, words["q.help"]], suggestion, on, now, language, slot)
        rep_words = labels(snap.language)
        why = (
            rep_words["topics"].format(count=len(stories), gap=cfg.meeting_gap_days)
            if customer.last_meeting
            else rep_words["no_meeting"].format(count=len(stories))
        )
        item = Item(
            customer=customer.name,
            customer_id=customer.id,
            headline=customer.name,
            suggestion=suggestion,
            why=why,
            topics=(*agenda, words["q.help"]),
            attachment=filename,
            kind="date",
            contact_name=contact.name if contact else "",
            contact_email=contact.email if contact else "",
            subject=words["ics.summary"].format(customer=customer.name),
            language=language,
        )
        out.append((item, partial(_attachment, filename, ics)))
    return out


def _attachment(filename: str, content: Callable[[], bytes]) -> Attachment:
    return Attachment(filename, content())


def question(insight: InsightInfo, customer: CustomerInfo, language: str, words: dict[str, str]) -> str:
    """An agenda line as a question drawn from the post ("How is Monterrey ramping up?").

    A category's own question needs a fact the post states (a place, a product, a partner...); without one the
    question quotes the post's title, so it never asks about something the post does not say.
    """
    context = suggestion_context(customer, language, insight)
    what = ""
    for key in ("place", "product", "partner", "award", "person", "topic"):
        value = context.get(key)
        if isinstance(value, str) and value:
            what = value
            break
    title = clip_title(str(context.get("title") or ""), 60, shortest=10)
    own = book_labels(language)  # a category's question only in the customer's own language, never English's
    for key in (f"q.{insight.category}", f"q.{insight.kind}"):
        template = own.get(key)
        if template and (what or "{what}" not in template):
            return template.format(what=what)
    if insight.kind == "challenge":
        return words["q.challenge"].format(what=title)
    return words["q.default"].format(what=title)


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
    snap: RepSnapshot, on: date, drafter: Drafter, words: dict[str, str], skip: frozenset[int] = frozenset()
) -> list[tuple[Item, float]]:
    """Customers past their touch cadence with nothing else to answer today: an easy reason to write.

    Customers in `skip` have something to answer today: that item is the way back in, and their card is flagged.
    Returns each item with how late the customer is (days over cadence: 1.9 = 90% past).
    """
    latest: dict[int, InsightInfo] = {}
    for insight in snap.insights:
        # Never "I enjoyed your post" about a layoff: challenges are not an easy way back in.
        if insight.kind == "challenge" or insight.category in _NOT_ON_AGENDA:
            continue
        current = latest.get(insight.customer_id)
        if current is None or insight.published_at > current.published_at:
            latest[insight.customer_id] = insight
    out: list[tuple[Item, float]] = []
    for customer_id, days in sorted(overdue(snap, on).items()):
        if customer_id in skip:
            continue
        customer = snap.customers[customer_id]
        post = latest.get(customer.id)
        contact = contact_for(customer)
        language = draft_language(contact, customer, snap.language)
        name = first_name(contact)
        context = {
            "customer": customer.name,
            "first_name": name,
            "hello": hello(name, customer.name, language),
            "days": days,
            "latest": clip_title(post.title) if post else "",
        }
        suggestion = drafter.draft("quiet", language, f"quiet:{customer.id}", context)
        why = human_why(customer, on, words)
        if post is None:
            why += ". " + words["quiet.nopost"]
        item = Item(
            customer=customer.name,
            customer_id=customer.id,
            headline=headline(post.title, post.text) if post else customer.name,
            suggestion=suggestion,
            why=why,
            links=safe_links([post.url, *post.links]) if post else (),
            kind="quiet",
            contact_name=contact.name if contact else "",
            contact_email=contact.email if contact else "",
            subject=customer.name,
            language=language,
        )
        out.append((item, days / max(1, customer.cadence_days)))
    return out


def coming_up(
    snap: RepSnapshot,
    cfg: DigestSettings,
    on: date,
    drafter: Drafter,
    words: dict[str, str],
    celebrated: frozenset[tuple[int, int]] = frozenset(),
) -> list[tuple[Item, str]]:
    """Customer-since and company anniversaries and contacts' birthdays in the next `upcoming_days`. A company
    anniversary that a fresh post already celebrates ((customer id, years) in `celebrated`) is left to that post's
    item: one story, one item."""
    out: list[tuple[Item, str]] = []
    for customer in snap.customers.values():
        main = contact_for(customer)
        language = draft_language(main, customer, snap.language)
        name = first_name(main)
        base = {"customer": customer.name, "first_name": name, "hello": hello(name, customer.name, language)}
        for when, entry, years, contact, label in _occasions(customer, on, cfg.upcoming_days, words):
            if entry == "founded" and (customer.id, years) in celebrated:
                continue
            key = f"{entry}:{customer.id}:{contact}:{when.isoformat()}"
            first = contact.split()[0] if contact else ""
            context: dict[str, object] = {**base, "years": years, "contact": first}
            person = next((c for c in customer.contacts if c.name == contact), None) if contact else main
            if first:
                context["hello"] = hello(first, customer.name, language)
                language = draft_language(person, customer, snap.language)
            item = Item(
                customer=customer.name,
                customer_id=customer.id,
                headline=f"{label} · {short_date(when, snap.language)}",
                suggestion=drafter.draft(entry, language, key, context),
                why=_countdown((when - on).days, words),
                # The gift idea is for the rep to act on, so it is in the rep's language.
                gift=gift_idea(customer.interests, choose_language(snap.language), f"{snap.email}|{key}"),
                when=when,
                kind="upcoming",
                category=entry,
                contact_name=person.name if person else "",
                contact_email=person.email if person else "",
                subject=label,
                language=language,
            )
            out.append((item, label))
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
    # A thank-you for no reason lands badly in the weeks after a layoff or an outage: no gesture to a customer
    # with a challenge anywhere in the snapshot's lookback (which covers "that week" and the weeks after).
    troubled = {i.customer_id for i in snap.insights if i.kind == "challenge"}
    calm = set(snap.customers) - troubled
    ids = sorted(calm - busy) or sorted(calm)
    if not ids:
        return None
    seed = int.from_bytes(hashlib.sha256(f"{snap.email}|{iso_year}-W{iso_week}".encode()).digest()[:8], "big")
    customer = snap.customers[ids[seed % len(ids)]]
    contact = contact_for(customer)
    language = draft_language(contact, customer, snap.language)
    rep_language = choose_language(snap.language)  # the gift idea is for the rep
    name = first_name(contact)
    context = {"customer": customer.name, "first_name": name, "hello": hello(name, customer.name, language)}
    return Item(
        customer=customer.name,
        customer_id=customer.id,
        headline=customer.name,
        suggestion=drafter.draft("gesture", language, f"gesture:{customer.id}", context),
        why=words["gesture.why"],
        gift=gift_idea(customer.interests, rep_language, f"{snap.email}|gesture|{iso_year}-{iso_week}"),
        kind="gesture",
        contact_name=contact.name if contact else "",
        contact_email=contact.email if contact else "",
        subject=customer.name,
        language=language,
    )


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
