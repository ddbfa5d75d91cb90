"""The normalized digest the renderer takes: plain frozen dataclasses, never ORM rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

# Section keys, in the order a rep reads them: what is timely first, then relationship upkeep.
SECTION_ORDER: tuple[str, ...] = (
    "congratulate",  # win
    "help",  # challenge: empathy and a concrete offer, never congratulations
    "conversation",  # news
    "ask",  # goal
    "date",  # business date: an agenda and an offer to meet
    "quiet",  # going quiet: past their touch cadence
    "upcoming",  # anniversaries and birthdays in the next days
    "gesture",  # the weekly unexpected gesture
)

SECTION_OF_KIND: dict[str, str] = {"win": "congratulate", "challenge": "help", "news": "conversation", "goal": "ask"}
ACTION_SECTIONS = frozenset(SECTION_OF_KIND.values())  # sections with a post to answer


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
    why: str  # why it was picked: evidence, score, days since last touch...
    links: tuple[str, ...] = ()  # http(s) links to the original post(s), nothing else
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


@dataclass(frozen=True)
class Section:
    """A group of items by what the rep should do, capped; the rest summarized in one line."""

    key: str
    title: str
    intro: str
    items: tuple[Item, ...]
    more: tuple[str, ...] = ()  # short labels of the items past the cap

    @property
    def more_line(self) -> str:
        """The one-line summary of what did not fit (empty when everything fit)."""
        if not self.more:
            return ""
        counts: dict[str, int] = {}
        for label in self.more:  # "Acme (post) ×2" rather than the same label twice
            counts[label] = counts.get(label, 0) + 1
        labels = [label if n == 1 else f"{label} ×{n}" for label, n in counts.items()]
        shown = ", ".join(labels[:6])
        rest = len(labels) - 6
        return f"+{len(self.more)}: {shown}" + (f" (+{rest})" if rest > 0 else "")


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
    sections: tuple[Section, ...]
    failing: tuple[FailingSource, ...] = ()
    failing_more: int = 0  # failing sources past the footer's cap
    attachments: tuple[Attachment, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    subject: str = ""

    @property
    def item_count(self) -> int:
        """Items shown, plus those summarized past the caps."""
        return sum(len(s.items) + len(s.more) for s in self.sections)

    @property
    def insight_ids(self) -> list[int]:
        """Insights this digest shows, so a later digest does not repeat them."""
        seen: dict[int, None] = {}
        for section in self.sections:
            for item in section.items:
                for insight_id in item.insight_ids:
                    seen[insight_id] = None
        return list(seen)

    def items(self) -> list[Item]:
        """Every item, wherever the digest shows it."""
        return [item for section in self.sections for item in section.items]

    def map_items(self, change: Callable[[Item], Item]) -> Digest:
        """A copy with `change` applied to every item wherever it sits (how actions are attached after assembly)."""
        sections = tuple(replace(s, items=tuple(change(i) for i in s.items)) for s in self.sections)
        return replace(self, sections=sections)

    @property
    def is_empty(self) -> bool:
        return self.item_count == 0
