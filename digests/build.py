"""Build one rep's Digest: walk the section builders, rank what they found, and fit it in a budget of cards."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digests.contacts import contact_for
from digests.labels import item_label, labels, subject_line
from digests.model import Card, Digest, FailingSource, Item, TodayLine
from digests.posts import days_since_touch
from digests.sections import BUILDERS, BuildContext, Candidate
from digests.select import CustomerInfo, RepSnapshot, load_snapshot
from digests.suggest import Drafter, choose_language
from listener.db.schema import Rep
from listener.settings import Settings

MAX_FAILING_SHOWN = 10  # the footer names a few; `listener source list --failing` has them all
TODAY_SIZE = 3
# The account's weight: a tier is a letter, a number (1 = top) or a word; unknown or empty weighs 1.
_TIER_WEIGHTS = {
    "high": 1.5, "normal": 1.0, "low": 0.8,  # `customer add/edit --tier` (CUSTOMER_TIERS); CRM imports keep theirs
    "a": 1.5, "1": 1.5, "strategic": 1.5, "key": 1.5, "platinum": 1.5, "gold": 1.3,
    "b": 1.2, "2": 1.2, "silver": 1.1,
    "c": 0.8, "3": 0.8, "bronze": 0.8, "d": 0.6, "4": 0.6,
}  # fmt: skip


def build_digest(session: Session, settings: Settings, rep: Rep, on: date, now: datetime) -> Digest:
    """Load what the rep's digest draws on and assemble it."""
    snapshot = load_snapshot(session, rep, on, now, settings.digest)
    return assemble(snapshot, settings, on, now)


def tier_weight(tier: str) -> float:
    return _TIER_WEIGHTS.get((tier or "").strip().lower(), 1.0)


def assemble(snap: RepSnapshot, settings: Settings, on: date, now: datetime) -> Digest:
    """Pure: a snapshot in, a Digest out. Builders find candidates; the ranking picks today's three and the cards."""
    cfg = settings.digest
    lang = choose_language(snap.language)
    words = labels(lang)
    ctx = BuildContext(snap, cfg, on, now, Drafter(snap.email, on, snap.pronoun), words)
    taken: set[int] = set()
    candidates: list[Candidate] = []
    for builder in BUILDERS:
        candidates.extend(builder.build(ctx, taken))

    by_customer: dict[int, list[tuple[float, Candidate]]] = defaultdict(list)
    for candidate in candidates:
        customer = snap.customers.get(candidate.item.customer_id)
        if customer is None:
            continue
        weighed = candidate.stake * tier_weight(customer.tier)
        by_customer[customer.id].append((weighed, candidate))
    for entries in by_customer.values():
        # Equal stakes: the newer post or the nearer date first.
        entries.sort(key=lambda pair: (-pair[0], -pair[1].tiebreak))

    def customer_rank(customer_id: int) -> tuple[float, int, float, int]:
        customer = snap.customers[customer_id]
        days = days_since_touch(customer, on)
        best, top = by_customer[customer_id][0]
        # Past the cadence adds to what is at stake, even when there is a fresh post to answer; at equal stakes
        # the customer untouched longest comes first, then the newer post.
        late = 1.0 * tier_weight(customer.tier) if days > customer.cadence_days else 0.0
        return (-(best + late), -days, -top.tiebreak, customer_id)

    order = sorted(by_customer, key=customer_rank)
    shown, rest = order[: max(1, cfg.max_customers)], order[max(1, cfg.max_customers) :]
    today = _today(shown, by_customer, snap, words)
    cards = tuple(_card(snap.customers[cid], [c for _, c in by_customer[cid]], snap, cfg, words, on) for cid in shown)
    more_customers = tuple(_more_customer(snap.customers[cid], by_customer[cid], words) for cid in rest)
    shown_attachments = {item.attachment for card in cards for item in card.items if item.attachment}
    failing = _failing(snap)
    return Digest(
        rep_email=snap.email,
        rep_name=snap.name,
        language=lang,
        on=on,
        generated_at=now,
        today=today,
        cards=cards,
        more_customers=more_customers,
        failing=tuple(failing[:MAX_FAILING_SHOWN]),
        failing_more=max(0, len(failing) - MAX_FAILING_SHOWN),
        attachments=tuple(write() for name, write in ctx.invitations.items() if name in shown_attachments),
        labels=words,
        # The subject counts the other customers with something today, not their items: "· 27 more" read as a
        # to-do list nobody finishes before 8 a.m.; "· 5 more customers" is what the brief actually asks.
        subject=subject_line(today[0].text if today else "", len(order) - 1, words, on, lang),
    )


def _today(
    shown: list[int], by_customer: dict[int, list[tuple[float, Candidate]]], snap: RepSnapshot, words: dict[str, str]
) -> tuple[TodayLine, ...]:
    """The few things most worth doing: the best candidate of each of the top customers, best first."""
    # `shown` is in card order, so equal stakes keep the cards' tie-break (the customer untouched longest first).
    best = sorted(((by_customer[cid][0][0], n, cid) for n, cid in enumerate(shown)), key=lambda e: (-e[0], e[1]))
    lines = []
    for _, _, cid in best[:TODAY_SIZE]:
        candidate = by_customer[cid][0][1]
        lines.append(TodayLine(_do(candidate, words), candidate.item.why, cid, candidate.item))
    return tuple(lines)


def _do(candidate: Candidate, words: dict[str, str]) -> str:
    """What to do, in a few words: "Congratulate Nimbus Logistics on Monterrey"."""
    item = candidate.item
    kind = "look" if item.look else item.shown_kind  # mixed news (a round beside job cuts): "Reply to"
    what = candidate.what
    if kind == "win" and not what:
        kind = "win.plain"
    if kind in ("challenge", "look"):
        # A trouble is named by what it is ("incident"), not by a post's title cut short in the subject.
        what = words.get(f"cat.{item.category}", what)
    template = words.get(f"do.{kind}", words["do.news"])
    return template.format(customer=item.customer, what=what or item.headline)


def _card(
    customer: CustomerInfo,
    candidates: list[Candidate],
    snap: RepSnapshot,
    cfg: object,
    words: dict[str, str],
    on: date,
) -> Card:
    cap = max(1, int(getattr(cfg, "max_items_per_card", 3)))
    items: list[Item] = [c.item for c in candidates]
    shown, rest = items[:cap], items[cap:]
    contact = contact_for(customer)
    days = days_since_touch(customer, on)
    if customer.touch is not None:
        template = words["touch.today"] if days <= 0 else words["touch"]
        kind = customer.touch.kind
        relationship = template.format(days=days, kind=words.get(f"touch.kind.{kind}", kind))
        note = " ".join(customer.touch.note.split())[:140]
        if note:
            relationship += f": “{note}”"
    else:
        relationship = words["never_touched"]
    overdue = ""
    if days > customer.cadence_days:
        overdue = words["overdue.flag"].format(late=days - customer.cadence_days, cadence=customer.cadence_days)
    return Card(
        customer=customer.name,
        customer_id=customer.id,
        contact=", ".join(p for p in (contact.name, contact.role) if p) if contact else words["no_contact"],
        relationship=relationship,
        overdue=overdue,
        items=tuple(shown),
        more=tuple(item_label(i, words) for i in rest),
    )


def _more_customer(customer: CustomerInfo, entries: list[tuple[float, Candidate]], words: dict[str, str]) -> str:
    return f"{customer.name} ({len(entries)})"


def _failing(snap: RepSnapshot) -> list[FailingSource]:
    return [
        FailingSource(
            customer=name,
            locator=locator,
            error=" ".join(error.split())[:200],
            since=since.date() if since else None,
            enabled=enabled,
        )
        for name, locator, error, since, enabled in snap.failing
    ]


def local_date(rep_time_zone: str, now: datetime) -> date:
    """The rep's local date at `now`."""
    return now.astimezone(ZoneInfo(rep_time_zone)).date()
