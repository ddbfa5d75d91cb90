"""The normalized digest the renderer takes: plain frozen dataclasses, never ORM rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

# What a card item is, by the Item's `kind`: a post's kind (win, challenge, news, goal), or an occasion.
POST_KINDS = frozenset({"win", "challenge", "news", "goal"})


@dataclass(frozen=True)
class Action:
    """Something the rep can do from the email in one tap: reply with the draft, open the post, or tell Listener
    what they did or think (done, snooze, not relevant, a kind correction). `url` is http(s) or mailto only."""

    kind: str  # reply | open | comments | done | snooze | not_relevant | bad_news | good_news
    label: str  # the link's words, in the rep's language
    url: str


@dataclass(frozen=True)
class Item:
    """One thing for the rep to do: who, what happened, where to read it, what to say, and why it is here."""

    customer: str
    headline: str  # one line, plain text (escaped by the renderer)
    suggestion: str  # words the rep can send as they are
    why: str  # why it matters, in words a person uses ("58 days since your last touch; they just raised $18M")
    links: tuple[str, ...] = ()  # http(s) links to the original post(s), nothing else
    comments_url: str = ""  # http(s) page where readers comment on the post, as its feed named it ("" if none)
    kind: str = ""
    category: str = ""
    topics: tuple[str, ...] = ()  # business-date agenda
    gift: str = ""  # a gift idea for an occasion
    when: date | None = None  # the occasion's date (coming up)
    attachment: str = ""  # file name of an .ics draft that goes with this item
    insight_ids: tuple[int, ...] = ()
    customer_id: int = 0
    contact_name: str = ""  # who the draft is addressed to
    contact_email: str = ""  # where a reply goes (empty: no mailto link)
    subject: str = ""  # the draft's subject line, for a reply by email
    actions: tuple[Action, ...] = ()  # filled after assembly (digests/actions.py), rendered by _actions templates
    details: str = ""  # the evidence behind it (classifier cues, score): small print, never the headline
    look: str = ""  # set when the filter is unsure: "take a look" instead of a draft
    language: str = ""  # BCP 47 tag the draft is written in
    mixed: bool = False  # a win whose post also mentions job cuts: never worded as a congratulation anywhere

    @property
    def shown_kind(self) -> str:
        """The kind the rep sees (title, colour, "today" line): mixed news is news to reply to, not a win."""
        return "news" if self.mixed and self.kind == "win" else self.kind


@dataclass(frozen=True)
class Card:
    """Everything about one customer today: the relationship first, then the items, most at stake first."""

    customer: str
    customer_id: int
    contact: str  # "Owen Park, CEO" (empty: no contact on file)
    relationship: str  # "Last touch 9 days ago: call, “they hinted at a site in Mexico”"
    overdue: str  # "28 days past the 30-day cadence" (empty when within it): flagged on the card
    items: tuple[Item, ...]
    more: tuple[str, ...] = ()  # short labels of this customer's items past the card's cap

    @property
    def more_line(self) -> str:
        """The one-line summary of what did not fit on the card, repeats counted ("article ×2, hiring")."""
        counts: dict[str, int] = {}
        for label in self.more:
            counts[label] = counts.get(label, 0) + 1
        return ", ".join(label if n == 1 else f"{label} ×{n}" for label, n in counts.items())


@dataclass(frozen=True)
class TodayLine:
    """One of the few things most worth doing today, pointing at its customer's card."""

    text: str  # "Congratulate Nimbus Logistics on Monterrey"
    why: str
    customer_id: int
    item: Item | None = None  # the card item it points at, so its actions (reply, done...) are a tap away here too


@dataclass(frozen=True)
class FailingSource:
    """A source of one of the rep's customers that is failing or was disabled."""

    customer: str
    locator: str
    error: str
    since: date | None
    enabled: bool


@dataclass(frozen=True)
class Attachment:
    """A file that goes with the digest (an .ics invitation draft)."""

    filename: str
    content: bytes
    mime_type: str = "text/calendar"


@dataclass(frozen=True)
class Digest:
    """One rep's digest for one local date, ready to render."""

    rep_email: str
    rep_name: str
    language: str  # the rep's language: labels and subject
    on: date
    generated_at: datetime
    today: tuple[TodayLine, ...]
    cards: tuple[Card, ...]
    more_customers: tuple[str, ...] = ()  # customers past the card budget, named in one line
    failing: tuple[FailingSource, ...] = ()
    failing_more: int = 0  # failing sources past the footer's cap
    attachments: tuple[Attachment, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    subject: str = ""

    @property
    def item_count(self) -> int:
        """Items shown, plus those summarized past the caps."""
        return sum(len(c.items) + len(c.more) for c in self.cards) + len(self.more_customers)

    @property
    def insight_ids(self) -> list[int]:
        """Insights this digest shows, so a later digest does not repeat them."""
        seen: dict[int, None] = {}
        for item in self.items():
            for insight_id in item.insight_ids:
                seen[insight_id] = None
        return list(seen)

    def items(self) -> list[Item]:
        """Every item, wherever the digest shows it (a "today" line repeats one of its card's items, not a new one)."""
        return [item for card in self.cards for item in card.items]

    def map_items(self, change: Callable[[Item], Item]) -> Digest:
        """A copy with `change` applied to every item wherever it sits (how actions are attached after assembly)."""
        cards = tuple(replace(c, items=tuple(change(i) for i in c.items)) for c in self.cards)
        today = tuple(replace(t, item=change(t.item)) if t.item is not None else t for t in self.today)
        return replace(self, cards=cards, today=today)

    @property
    def is_empty(self) -> bool:
        return self.item_count == 0
