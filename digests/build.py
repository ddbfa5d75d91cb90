"""Build one rep's Digest: choose what goes in, order it, cap it, and draft the words."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digests import occasions
from digests.labels import labels, more_label, subject_line
from digests.model import (
    ACTION_SECTIONS,
    SECTION_OF_KIND,
    SECTION_ORDER,
    Attachment,
    Digest,
    FailingSource,
    Item,
    Section,
)
from digests.select import FRESH_DAYS, CustomerInfo, InsightInfo, RepSnapshot, load_snapshot
from digests.suggest import Drafter, choose_language
from digests.text import headline, safe_links
from digests.wording import suggestion_context
from listener.db.schema import Rep
from listener.settings import Settings

# A win whose post also talks about job cuts must never read as a congratulation on those cuts (taxonomy.md).
_CUTS = re.compile(
    r"\b(lay-?offs?|laid off|let go|job cuts|cutting jobs|redundanc\w*|restructur\w*|severance|"
    r"(?:roles|positions|jobs|posts)\b[\w\s,]{0,30}\beliminat\w*|eliminat\w+\b[\w\s,]{0,20}\b(?:roles|positions|jobs)|"
    r"(?:reduc\w+|cut\w*)\s+(?:our\s+|the\s+)?(?:workforce|headcount|staff)|"
    r"despid\w*|despedir\b|despedid[oa]s?|ERE|ERTE|recortes? de (?:plantilla|empleo|personal)|reestructuraci\w*|"
    r"(?:reducci\w+|ajuste) de (?:la )?plantilla|puestos? (?:de trabajo )?(?:eliminad|suprimid)\w*|indemnizaci\w*)\b",
    re.IGNORECASE,
)
_KIND_RANK = {"win": 0, "challenge": 1, "news": 2, "goal": 3}
MAX_FAILING_SHOWN = 10  # the footer names a few; `listener source list --failing` has them all


def build_digest(session: Session, settings: Settings, rep: Rep, on: date, now: datetime) -> Digest:
    """Load what the rep's digest draws on and assemble it."""
    snapshot = load_snapshot(session, rep, on, now, settings.digest)
    return assemble(snapshot, settings, on, now)


def assemble(snap: RepSnapshot, settings: Settings, on: date, now: datetime) -> Digest:
    """Pure: a snapshot in, a Digest out."""
    cfg = settings.digest
    words = labels(choose_language(snap.language))
    drafter = Drafter(snap.email, on)
    fresh_start = datetime.combine(on - timedelta(days=FRESH_DAYS), time(), tzinfo=UTC)
    fresh = [i for i in snap.insights if not i.shown and not i.acted and i.published_at >= fresh_start]
    by_section: dict[str, list[tuple[tuple[float, ...], Item]]] = defaultdict(list)
    pending: dict[str, list[tuple[tuple[float, ...], InsightInfo, CustomerInfo]]] = defaultdict(list)
    for insight in fresh:
        customer = snap.customers.get(insight.customer_id)
        if customer is not None:
            section = _section_of(insight)
            pending[section].append((_order_key(insight, customer, now), insight, customer))
    for section, entries in pending.items():
        entries.sort(key=lambda entry: entry[0])
        for rank, (key, insight, customer) in enumerate(entries):
            # Past the cap an item is only named in the summary line, so it is not worth drafting.
            draft = rank < cfg.max_items_per_section
            by_section[section].append((key, insight_item(insight, customer, drafter, words, on, draft=draft)[1]))

    attachments: list[Attachment] = []
    dates = occasions.business_dates(snap, fresh, cfg, on, now, drafter, words)
    for key, item, attachment in dates:
        by_section["date"].append((key, item))
        if attachment is not None:
            attachments.append(attachment)
    # A customer going quiet who has a post to answer today is reached through that item (its "why" says so).
    answering = frozenset(i.customer_id for k in ACTION_SECTIONS for _, i in by_section[k] if i.suggestion)
    for key, item in occasions.going_quiet(snap, cfg, on, now, drafter, words, skip=answering):
        by_section["quiet"].append((key, item))
    for key, item in occasions.coming_up(snap, cfg, on, drafter, words):
        by_section["upcoming"].append((key, item))
    busy = frozenset(i.customer_id for items in by_section.values() for _, i in items if i.suggestion)
    gesture = occasions.weekly_gesture(snap, cfg, on, drafter, words, busy=busy)
    if gesture is not None:
        by_section["gesture"].append(((0.0,), gesture))

    sections = tuple(
        _section(key, words, [item for _, item in sorted(by_section[key], key=lambda pair: pair[0])], cfg)
        for key in SECTION_ORDER
        if by_section.get(key)
    )
    shown_attachments = {item.attachment for s in sections for item in s.items if item.attachment}
    lang = choose_language(snap.language)
    failing = _failing(snap)
    return Digest(
        rep_email=snap.email,
        rep_name=snap.name,
        language=lang,
        on=on,
        generated_at=now,
        sections=sections,
        failing=tuple(failing[:MAX_FAILING_SHOWN]),
        failing_more=max(0, len(failing) - MAX_FAILING_SHOWN),
        attachments=tuple(a for a in attachments if a.filename in shown_attachments),
        labels=words,
        subject=subject_line([(s.key, len(s.items) + len(s.more)) for s in sections], on, lang),
    )


def _mentions_cuts(insight: InsightInfo) -> bool:
    return insight.kind == "win" and bool(_CUTS.search(f"{insight.title} {insight.text}"))


def _section_of(insight: InsightInfo) -> str:
    # Mixed news: a win that mentions job cuts stays visible, but never as something to congratulate.
    return "conversation" if _mentions_cuts(insight) else SECTION_OF_KIND[insight.kind]


def insight_item(
    insight: InsightInfo,
    customer: CustomerInfo,
    drafter: Drafter,
    words: dict[str, str],
    on: date,
    *,
    draft: bool = True,
) -> tuple[str, Item]:
    """The section an insight goes to and its item, with the suggestion drafted from the phrasebook."""
    section = _section_of(insight)
    if not draft:
        return section, Item(
            customer.name, "", "", "", kind=insight.kind, category=insight.category, customer_id=customer.id
        )
    entry = insight.category
    why_parts = []
    if _mentions_cuts(insight):
        entry = "update"  # the neutral wording
        why_parts.append(words["cuts.why"])
    language = choose_language(insight.language, customer.language)
    context = suggestion_context(customer, language, insight)
    suggestion = drafter.draft(entry, language, f"insight:{insight.id}", context)
    why_parts.append(_why(insight, customer, words, on))
    return section, Item(
        customer=customer.name,
        headline=headline(insight.title, insight.text),
        suggestion=suggestion,
        why=" ".join(why_parts),
        links=safe_links([insight.url, *insight.links]),
        kind=insight.kind,
        category=insight.category,
        insight_ids=(insight.id,),
        customer_id=customer.id,
    )


def _why(insight: InsightInfo, customer: CustomerInfo, words: dict[str, str], on: date) -> str:
    parts = []
    evidence = [e for e in (" ".join(e.split())[:60] for e in insight.evidence) if e][:4]
    if evidence:
        parts.append(f"{words['evidence']}: " + ", ".join(f"“{e}”" for e in evidence))
    parts.append(f"{words['score']} {insight.score:.2f}")
    if customer.last_touch is not None:
        days = (on - customer.last_touch.date()).days
        parts.append(words["last_touch"].format(days=days))
    else:
        days = (on - customer.created_at.date()).days
        parts.append(words["never_touched"])
    if days > customer.cadence_days:
        parts.append(words["way_back_in"].format(cadence=customer.cadence_days))
    return " · ".join(parts)


def _order_key(insight: InsightInfo, customer: CustomerInfo, now: datetime) -> tuple[float, ...]:
    """Kind, then score, then recency, then how long since the last touch (longer first)."""
    since_touch = (now - customer.last_touch).total_seconds() if customer.last_touch else float("inf")
    return (
        float(_KIND_RANK.get(insight.kind, 9)),
        -round(insight.score, 2),
        -insight.published_at.timestamp(),
        -since_touch,
        float(insight.id),
    )


def _section(key: str, words: dict[str, str], items: list[Item], cfg: object) -> Section:
    cap = max(1, int(getattr(cfg, "max_items_per_section", 5)))
    shown, rest = items[:cap], items[cap:]
    more = tuple(more_label(i.customer, i.category, words) for i in rest)
    return Section(key=key, title=words[f"title.{key}"], intro=words[f"intro.{key}"], items=tuple(shown), more=more)


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
