"""One story, one item: posts about the same event from any of a customer's sources, in any language, merged.

Two posts are one story when ingest gave them the same story key, or when they are the same kind and category
within a few days and share a fact: the same amount and currency, or a name one of them states (a place, a
person, an award, a partner, a product, an event) that the other post names too. Title similarity alone is not
enough: "We're hiring in Reno" and "We're hiring in Columbus" are two stories.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from digests.select import InsightInfo
from digests.wording import fold

STORY_WINDOW = timedelta(days=4)
_NAMES = ("place", "person", "award", "partner", "product", "event")
_SHORTEST_NAME = 4  # "AI" or "US" in two posts is not the same event
# Troubles a customer has one of at a time: two outage posts within the window are one outage.
_ONE_AT_A_TIME = frozenset({"incident", "layoffs", "legal", "downturn"})
_VALUES = ("years", "round", "percent")


@dataclass(frozen=True)
class Story:
    """Posts about one event; `lead` is the one the item quotes (the best scored)."""

    lead: InsightInfo
    posts: tuple[InsightInfo, ...]

    @property
    def insight_ids(self) -> tuple[int, ...]:
        return tuple(i.id for i in self.posts)

    @property
    def links(self) -> list[str]:
        out: list[str] = []
        for insight in self.posts:
            out.extend([insight.url, *insight.links])
        return out


def same_event(a: InsightInfo, b: InsightInfo) -> bool:
    """True when two insights of one customer are about the same event (see the module docstring)."""
    if a.customer_id != b.customer_id:
        return False
    if a.story_key and a.story_key == b.story_key:
        return True
    if a.kind != b.kind or a.category != b.category or abs(a.published_at - b.published_at) > STORY_WINDOW:
        return False
    if a.category in _ONE_AT_A_TIME:
        return True
    value_a, value_b = a.facts.get("amount_value"), b.facts.get("amount_value")
    if value_a and value_a == value_b and a.facts.get("currency") == b.facts.get("currency"):
        return True
    if any(a.facts.get(key) and a.facts.get(key) == b.facts.get(key) for key in _VALUES):
        return True
    return _names_in(a, b) or _names_in(b, a)


def _names_in(a: InsightInfo, b: InsightInfo) -> bool:
    """A name fact of `a` that `b`'s own words say too (so "Monterrey" joins ¡Ya estamos en Monterrey! and the
    newsroom's "opens Monterrey cross-dock", whatever `b`'s extractor picked)."""
    haystack = f" {fold(b.title)} {fold(b.text)} "
    for key in _NAMES:
        value = a.facts.get(key)
        if isinstance(value, str):
            name = fold(value)
            if len(name) >= _SHORTEST_NAME and f" {name} " in haystack:
                return True
    return False


def group_stories(insights: list[InsightInfo]) -> list[Story]:
    """Merge a rep's fresh insights into stories (union of pairs, per customer), best scored post first."""
    by_customer: dict[int, list[InsightInfo]] = defaultdict(list)
    for insight in insights:
        by_customer[insight.customer_id].append(insight)
    stories: list[Story] = []
    for posts in by_customer.values():
        parent = list(range(len(posts)))
        for i, j in _candidate_pairs(posts):
            if same_event(posts[i], posts[j]):
                parent[_root(parent, j)] = _root(parent, i)
        groups: dict[int, list[InsightInfo]] = defaultdict(list)
        for i, insight in enumerate(posts):
            groups[_root(parent, i)].append(insight)
        for members in groups.values():
            members.sort(key=lambda i: (-i.score, -i.published_at.timestamp(), i.id))
            stories.append(Story(lead=members[0], posts=tuple(members)))
    return stories


def _candidate_pairs(posts: list[InsightInfo]) -> list[tuple[int, int]]:
    """The pairs `same_event` can join, without comparing every pair: posts sharing a story key, and posts of one
    kind and category within the story window of each other (a sliding window over each bucket sorted by date)."""
    pairs: list[tuple[int, int]] = []
    by_key: dict[str, list[int]] = defaultdict(list)
    by_kind: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, insight in enumerate(posts):
        if insight.story_key:
            by_key[insight.story_key].append(n)
        by_kind[(insight.kind, insight.category)].append(n)
    for members in by_key.values():
        pairs.extend((members[0], other) for other in members[1:])  # one chain joins them all
    for members in by_kind.values():
        members.sort(key=lambda n: posts[n].published_at)
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                if posts[j].published_at - posts[i].published_at > STORY_WINDOW:
                    break
                pairs.append((i, j))
    return pairs


def _root(parent: list[int], i: int) -> int:
    """Union-find: the representative of `i`'s group (halving the path as it goes)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i
