"""Work on a feed's posts in the parser process that parsed them, before they travel to the storing thread.

The one process that polls and stores everything is the ingest's bottleneck, so what can be decided from a feed's
posts alone is decided where they were parsed:
- posts the source delivered unchanged at its last poll are dropped there (the poll's fingerprints are kept in the
  source's state), so a feed that gained one item ships one post, not twenty;
- the rest are classified there, instead of being shipped back to a parser process after storing.
Storing still decides what is new, edited or a duplicate; a post it must classify that was not classified here
(an edited old post, a post of a connector that parses in the event loop) is classified as before.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from connectors.feedtext import content_hash, story_key
from listener.ingest.classify import loaded_classifier
from listener.ingest.leases import Claim
from listener.ingest.store import eligible
from listener.models import Insight, Post, PreparedPosts, SourceRef
from listener.relevance import CustomerHints
from listener.settings import Settings

log = logging.getLogger(__name__)

SEEN_KEY = "seen"  # the source-state key holding the last poll's fingerprints
MAX_SEEN = 1000  # feeds carry tens of items; a bound keeps a runaway feed's state small


def fingerprint(post: Post, digest: str | None = None) -> str:
    """A post's id and content hash (storing's test for an edit): equal means storing it again changes nothing."""
    marked = f"{post.external_id}\0{digest or content_hash(post.title, post.text)}"
    return hashlib.blake2b(marked.encode("utf-8", "surrogatepass"), digest_size=9).hexdigest()


@dataclass(frozen=True)
class AheadOfStore:
    """The PostWork of one source in one run (picklable: it travels to the parser process with the feed)."""

    settings: Settings
    hints: CustomerHints
    seen: frozenset[str]  # fingerprints of the posts stored at the source's last successful poll
    first_poll: bool
    now: datetime  # the run's clock, the same storing uses to decide what may reach a digest

    def __call__(self, posts: tuple[Post, ...]) -> PreparedPosts:
        digests = [content_hash(post.title, post.text) for post in posts]
        prints = [fingerprint(post, digest) for post, digest in zip(posts, digests, strict=True)]
        fresh = []
        keys: dict[str, tuple[str, str]] = {}  # storing keeps the first post of an id, so the first one's keys
        for post, digest, mark in zip(posts, digests, prints, strict=True):
            if mark not in self.seen:
                fresh.append(post)
                if post.external_id not in keys:
                    keys[post.external_id] = (digest, story_key(post.title, post.url, post.text))
        return PreparedPosts(
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
        classifier = loaded_classifier(self.settings)
        insights: dict[str, Insight] = {}
        for post in wanted:
            try:
                insights[post.external_id] = classifier.classify(post, hints=self.hints)
            except Exception:  # left unclassified here; storing hands it to the classifier again, which logs it
                log.debug("post %r: not classified ahead of storing", post.external_id[:100], exc_info=True)
        return insights


def post_work_for(
    claims: Sequence[Claim], settings: Settings, now: datetime
) -> Callable[[SourceRef], AheadOfStore | None]:
    """The run's ConnectorContext.post_work: a source's AheadOfStore, built when the source is polled."""
    by_id = {claim.ref.id: claim for claim in claims}

    def work(source: SourceRef) -> AheadOfStore | None:
        claim = by_id.get(source.id)
        if claim is None:
            return None
        return AheadOfStore(
            settings=settings,
            hints=claim.hints(),
            seen=frozenset(str(mark) for mark in source.state.get(SEEN_KEY) or ()),
            first_poll=claim.first_poll,
            now=now,
        )

    return work
