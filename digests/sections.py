"""The section builders `assemble` walks: each turns the rep's snapshot into candidate items, in one place each.

A builder has a `key` and `build(ctx, taken)`; `taken` holds the customers earlier builders already gave
something to answer today (a customer with a post to answer needs no separate "going quiet" note, a busy or
troubled customer gets no weekly gesture). To add a section, write a builder and add it to `BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from digests import occasions
from digests.model import Attachment, Item
from digests.posts import story_item
from digests.select import FRESH_DAYS, InsightInfo, RepSnapshot
from digests.stories import group_stories
from digests.suggest import Drafter
from listener.settings import DigestSettings

# What is at stake, by what an item is: the base of the ranking (times the post's confidence and the account's tier).
STAKES: dict[str, float] = {
    "challenge": 4.0,
    "quiet": 3.0,
    "big_win": 2.6,
    "date": 2.2,
    "win": 1.6,
    "upcoming": 1.3,
    "goal": 1.2,
    "news": 1.0,
    "look": 0.9,
    "gesture": 0.3,
}
BIG_WINS = frozenset({"funding", "acquisition", "customer_win", "award", "expansion", "partnership"})


@dataclass
class BuildContext:
    """What every builder reads: the snapshot, the settings, the day, the drafter and the rep's labels."""

    snap: RepSnapshot
    cfg: DigestSettings
    on: date
    now: datetime
    drafter: Drafter
    words: dict[str, str]
    # .ics drafts by file name, written only for the items that make the cards
    invitations: dict[str, Callable[[], Attachment]] = field(default_factory=dict)

    @property
    def fresh(self) -> list[InsightInfo]:
        start = datetime.combine(self.on - timedelta(days=FRESH_DAYS), time(), tzinfo=UTC)
        return [i for i in self.snap.insights if not i.shown and not i.acted and i.published_at >= start]


@dataclass(frozen=True)
class Candidate:
    """An item and what is at stake with it (before the account's tier weighs in)."""

    item: Item
    stake: float
    what: str = ""  # a few words for the "today" line and the subject: "Monterrey", "the Series A"
    tiebreak: float = 0.0  # among equal stakes, higher first: a newer post, a nearer date


class Builder(Protocol):
    key: str

    def build(self, ctx: BuildContext, taken: set[int]) -> list[Candidate]: ...


class PostItems:
    """Fresh posts, merged into one item per story, drafted for the right contact in their language."""

    key = "posts"

    def build(self, ctx: BuildContext, taken: set[int]) -> list[Candidate]:
        out = []
        for story in group_stories(ctx.fresh):
            customer = ctx.snap.customers.get(story.lead.customer_id)
            if customer is None:
                continue
            item, what = story_item(story, customer, ctx.snap, ctx.drafter, ctx.words, ctx.on)
            stake = _stake(item) * (0.5 + story.lead.score / 2)
            newest = max(p.published_at for p in story.posts).timestamp()
            out.append(Candidate(item, stake, what, newest))
            if item.suggestion:
                taken.add(customer.id)
        return out


def _stake(item: Item) -> float:
    if item.look:
        return STAKES["look"]
    if item.kind == "win" and item.category in BIG_WINS:
        return STAKES["big_win"]
    return STAKES.get(item.kind, 1.0)


class BusinessDates:
    key = "date"

    def build(self, ctx: BuildContext, taken: set[int]) -> list[Candidate]:
        out = []
        for item, attachment in occasions.business_dates(ctx.snap, ctx.fresh, ctx.cfg, ctx.on, ctx.now, ctx.drafter):
            out.append(Candidate(item, STAKES["date"]))
            ctx.invitations[item.attachment] = attachment
        return out


class GoingQuiet:
    """Customers past their cadence with nothing else to answer today (the others are flagged on their card)."""

    key = "quiet"

    def build(self, ctx: BuildContext, taken: set[int]) -> list[Candidate]:
        out = []
        for item, ratio in occasions.going_quiet(ctx.snap, ctx.on, ctx.drafter, ctx.words, skip=frozenset(taken)):
            out.append(Candidate(item, STAKES["quiet"] + min(1.0, ratio - 1.0)))
            taken.add(item.customer_id)
        return out


class ComingUp:
    key = "upcoming"

    def build(self, ctx: BuildContext, taken: set[int]) -> list[Candidate]:
        out = []
        celebrated = frozenset(
            (i.customer_id, i.facts["years"])
            for i in ctx.fresh
            if i.kind == "win" and i.category == "milestone" and isinstance(i.facts.get("years"), int)
        )
        for item, what in occasions.coming_up(ctx.snap, ctx.cfg, ctx.on, ctx.drafter, ctx.words, celebrated):
            soon = item.when is not None and (item.when - ctx.on).days <= 2
            nearer = -float((item.when - ctx.on).days) if item.when is not None else 0.0
            out.append(Candidate(item, STAKES["upcoming"] * (1.5 if soon else 1.0), what, nearer))
        return out


class WeeklyGesture:
    key = "gesture"

    def build(self, ctx: BuildContext, taken: set[int]) -> list[Candidate]:
        item = occasions.weekly_gesture(ctx.snap, ctx.cfg, ctx.on, ctx.drafter, ctx.words, busy=frozenset(taken))
        return [Candidate(item, STAKES["gesture"])] if item is not None else []


BUILDERS: tuple[Builder, ...] = (PostItems(), BusinessDates(), GoingQuiet(), ComingUp(), WeeklyGesture())
