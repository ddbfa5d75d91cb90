"""The ingest's job in a parser process: a connector's pure parse, then one prepare stage on the posts it found.

The one process that polls and stores everything is the ingest's bottleneck, so what can be decided from a
source's posts alone is decided where they were parsed (bench/ingest.py: about half the storing thread's work):
- posts the source delivered unchanged at its last poll are dropped (the poll's fingerprints are kept in the
  source's state), so a feed that gained one item ships one post, not twenty;
- storing's keys of the rest (content hash, story key) are computed (listener/ingest/identity.py);
- those that may reach a digest are classified.
Storing still decides what is new, edited or a duplicate; a post it must classify that was not classified here
(an edited old post, a post of a connector that parses nothing: X, Reddit) goes to listener/ingest/classify.py,
which classifies with `classify_each` below: the one place that calls the classifier.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from listener.ingest.identity import content_hash, fingerprint, story_key
from listener.ingest.leases import Claim
from listener.ingest.store import eligible
from listener.models import Insight, Post
from listener.relevance import Classifier, CustomerHints, load_classifier
from listener.settings import RelevanceSettings, Settings

log = logging.getLogger(__name__)

SEEN_KEY = "seen"  # the source-state key holding the last poll's fingerprints
MAX_SEEN = 1000  # feeds carry tens of items; a bound keeps a runaway feed's state small
_LOADED: dict[RelevanceSettings, Classifier] = {}  # per process: the rules are compiled once per run


def loaded_classifier(settings: Settings) -> Classifier:
    """The classifier of these settings, loaded once per process (a parser process keeps it for the run)."""
    classifier = _LOADED.get(settings.relevance)
    if classifier is None:
        classifier = _LOADED[settings.relevance] = load_classifier(settings)
    return classifier


def forget_loaded_classifiers() -> None:
    """A new run reads the rules afresh (sales ops may have edited them since the last run in this process)."""
    _LOADED.clear()


def classify_each(classifier: Classifier, items: Sequence[tuple[Post, CustomerHints]]) -> list[Insight | None]:
    """Each post's insight; a post that breaks the classifier gets None (logged), never the others."""
    out: list[Insight | None] = []
    for post, hints in items:
        try:
            out.append(classifier.classify(post, hints=hints))
        except Exception:
            log.exception("post %r (%s): the classifier failed", post.external_id[:100], hints.name)
            out.append(None)
    return out


def classify_chunk(settings: Settings, items: Sequence[tuple[Post, CustomerHints]]) -> list[Insight | None]:
    """classify_each in a parser process, with the classifier it keeps for the run."""
    return classify_each(loaded_classifier(settings), items)


@dataclass(frozen=True)
class Prepared:
    """What the prepare stage made of a source's freshly parsed posts."""

    posts: tuple[Post, ...]  # what is left to store: posts delivered unchanged at the last poll are dropped
    insights: dict[str, Insight]  # by external id: the posts classified here
    keys: dict[str, tuple[str, str]]  # by external id (first post of an id): storing's (content hash, story key)
    state: dict[str, Any]  # to merge into the source's state (what the next poll needs to drop unchanged posts)


@dataclass(frozen=True)
class Prepare:
    """The prepare stage of one source in one run (picklable: it travels to the parser process with the job)."""

    settings: Settings
    hints: CustomerHints
    seen: frozenset[str]  # fingerprints of the posts stored at the source's last successful poll
    first_poll: bool
    now: datetime  # the run's clock, the same storing uses to decide what may reach a digest

    def __call__(self, posts: tuple[Post, ...]) -> Prepared:
        digests = [content_hash(post.title, post.text) for post in posts]
        prints = [fingerprint(post, digest) for post, digest in zip(posts, digests, strict=True)]
        fresh = []
        keys: dict[str, tuple[str, str]] = {}  # storing keeps the first post of an id, so the first one's keys
        for post, digest, mark in zip(posts, digests, prints, strict=True):
            if mark not in self.seen:
                fresh.append(post)
                if post.external_id not in keys:
                    keys[post.external_id] = (digest, story_key(post.title, post.url, post.text))
        return Prepared(
            posts=tuple(fresh),
            insights=self._classify(fresh),
            state={SEEN_KEY: list(dict.fromkeys(prints))[:MAX_SEEN]},
            keys=keys,
        )

    def _classify(self, posts: Sequence[Post]) -> dict[str, Insight]:
        """Insights of the posts that may reach a digest (a first poll's backlog never does: not classified)."""
        days = self.settings.ingest.first_poll_days
        wanted = [post for post in posts if eligible(post, self.first_poll, self.now, days)]
        if not wanted:
            return {}
        insights = classify_each(loaded_classifier(self.settings), [(post, self.hints) for post in wanted])
        return {post.external_id: insight for post, insight in zip(wanted, insights, strict=True) if insight}


def parse_and_prepare(prepare: Prepare | None, function: Callable[..., Any], *args: Any) -> tuple[Any, Prepared | None]:
    """The job: the connector's parse, then the prepare stage on what it found (a result with `posts`).

    The connector gets its result back with only the posts left to store; the ingest keeps the rest.
    """
    parsed = function(*args)
    posts = getattr(parsed, "posts", None)
    error: str = getattr(parsed, "error", "")
    if prepare is None or posts is None or error:
        return parsed, None
    prepared = prepare(tuple(posts))
    return replace(parsed, posts=prepared.posts), prepared


def prepare_for(claim: Claim, settings: Settings, now: datetime) -> Prepare:
    """A source's prepare stage in this run."""
    return Prepare(
        settings=settings,
        hints=claim.hints(),
        seen=frozenset(str(mark) for mark in claim.ref.state.get(SEEN_KEY) or ()),
        first_poll=claim.first_poll,
        now=now,
    )
