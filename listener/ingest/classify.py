"""Insights of stored posts that were not classified where they were parsed (listener/ingest/prepare.py).

Classifying is CPU-bound (and loading the rules takes seconds), so a run with parser processes classifies there,
in chunks, alongside storing and polling; a small run classifies in-process, in the batch's own transaction.
Either way through prepare.classify_each, the one place that calls the classifier.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.orm import Session

from listener.db.bulk import BulkInsert, in_chunks
from listener.db.schema import Customer, Source
from listener.db.schema import Insight as InsightRow
from listener.db.schema import Post as PostRow
from listener.ingest.prepare import classify_chunk, classify_each, loaded_classifier
from listener.models import Insight, Post
from listener.relevance import CustomerHints
from listener.settings import Settings

log = logging.getLogger(__name__)

CHUNK = 250  # posts per job sent to a parser process
MAX_PENDING = 4000  # posts submitted and not written yet: bounds the memory they hold
# Posts left unclassified by an earlier run that a run classifies at most: a backlog is worked off over several
# runs rather than stalling one (2,000 posts are about a second of one core).
REPAIR_LIMIT = 2000


@dataclass
class _Pending:
    items: Sequence[tuple[int, Post, CustomerHints]]
    futures: list[Future[list[Insight | None]]]

    def done(self) -> bool:
        return all(future.done() for future in self.futures)

    def insights(self) -> list[Insight | None]:
        try:
            return [insight for future in self.futures for insight in future.result()]
        except Exception:  # a parser process died: these posts stay unclassified, the run goes on
            log.exception("%d posts could not be classified", len(self.items))
            return [None] * len(self.items)


class Classification:
    """Classifies stored posts in the run's process pool when it has one (else here), and writes their insights.

    Without a pool, posts are classified at once and their insights go in the transaction that stored the posts
    (`classify_now`). With a pool, classifying overlaps storing: a batch's posts are submitted, and their insights
    are written by a later batch's transaction once ready (or by `finish`), so the storing thread and the polling
    loop behind it never wait for the classifier, nor for its rules to load. At most MAX_PENDING posts wait at a
    time. A submission leaves the queue only once the transaction that wrote its insights has committed
    (`write_ready`, then `written`): a failed commit writes them again with the next one. Posts whose insights
    never got written (a crash, a commit that kept failing) have no insight row, which is their mark: the next run
    classifies them (`unclassified_posts`).
    """

    def __init__(self, settings: Settings, pool: Executor | None = None) -> None:
        self._settings = settings
        self._pool = pool
        self._pending: deque[_Pending] = deque()
        self._writing = 0  # submissions at the head of the queue that the open transaction has written

    @property
    def inline(self) -> bool:
        """Whether posts are classified in the storing thread, in the transaction that stores them."""
        return self._pool is None

    @property
    def waiting(self) -> int:
        """Posts submitted whose insights are not committed yet."""
        return sum(len(p.items) for p in self._pending)

    def classify_now(self, items: Sequence[tuple[int, Post, CustomerHints]]) -> list[tuple[int, Insight]]:
        """Classify (post id, post, hints) items here; the insights of those the classifier did not fail on."""
        insights = classify_each(loaded_classifier(self._settings), [(post, hints) for _, post, hints in items])
        return [(post_id, insight) for (post_id, _, _), insight in zip(items, insights, strict=True) if insight]

    def submit(self, items: Sequence[tuple[int, Post, CustomerHints]]) -> None:
        """Start classifying (post id, post, hints) items; `write_ready` writes their insights."""
        if not items:
            return
        pairs = [(post, hints) for _, post, hints in items]
        if self._pool is None:
            done: Future[list[Insight | None]] = Future()
            done.set_result(classify_each(loaded_classifier(self._settings), pairs))
            self._pending.append(_Pending(items, [done]))
            return
        # Large chunks, so pickling is noise; a small batch is one chunk (one process loads the rules, not all).
        futures = [
            self._pool.submit(classify_chunk, self._settings, pairs[i : i + CHUNK]) for i in range(0, len(pairs), CHUNK)
        ]
        self._pending.append(_Pending(items, futures))

    def write_ready(self, session: Session, now: datetime, *, wait: bool = False) -> None:
        """Write the insights of finished submissions (every one with `wait`, or while too many are pending).

        They stay queued until `written` says the transaction committed.
        """
        waiting = self.waiting
        self._writing = 0
        for pending in self._pending:
            if not (wait or waiting > MAX_PENDING or pending.done()):
                break
            waiting -= len(pending.items)
            self._write(session, pending.items, pending.insights(), now)
            self._writing += 1

    def written(self) -> None:
        """The transaction of the last `write_ready` committed: its submissions leave the queue."""
        for _ in range(self._writing):
            self._pending.popleft()
        self._writing = 0

    def write_classified(self, session: Session, items: Sequence[tuple[int, Insight]], now: datetime) -> None:
        """Write insights in the transaction that stored their posts (classified ahead of storing, or inline)."""
        _INSERT_INSIGHTS.execute(session.connection(), (_row(post_id, insight, now) for post_id, insight in items))

    def _write(
        self,
        session: Session,
        items: Sequence[tuple[int, Post, CustomerHints]],
        insights: Sequence[Insight | None],
        now: datetime,
    ) -> None:
        ids = [post_id for post_id, _, _ in items]
        alive: set[int] = set()
        for chunk in in_chunks(ids):
            # Written in a later transaction than the posts: one may have been removed since (source removed).
            alive.update(session.scalars(select(PostRow.id).where(PostRow.id.in_(chunk))))
        rows = (
            _row(post_id, insight, now)
            for (post_id, _, _), insight in zip(items, insights, strict=True)
            if insight is not None and post_id in alive
        )
        # An edited post lost its old insight when the edit was stored; a post that has one now got it from another
        # run that found it unclassified: the same text, so the same insight, which is kept.
        _INSERT_INSIGHTS.execute(session.connection(), rows)


_INSIGHTS = cast(Table, InsightRow.__table__)
_INSERT_INSIGHTS = BulkInsert(
    _INSIGHTS,
    ("post_id", "kind", "category", "score", "language", "evidence", "facts", "classified_at"),
    skip_conflicts=True,
)


def delete_insights(session: Session, post_ids: Sequence[int]) -> None:
    """Remove these posts' insights (Core, not the ORM's bulk delete: nothing loaded needs syncing)."""
    connection = session.connection()
    for chunk in in_chunks(post_ids):
        connection.execute(delete(_INSIGHTS).where(_INSIGHTS.c.post_id.in_(chunk)))


def _row(post_id: int, insight: Insight, now: datetime) -> tuple[Any, ...]:
    """An insights row, in _INSERT_INSIGHTS' column order."""
    return (
        post_id,
        str(insight.kind),
        insight.category,
        float(insight.score),
        insight.lang or "",
        list(insight.evidence) if insight.evidence else _NO_EVIDENCE,  # one shared empty value: converted once
        dict(insight.facts) if insight.facts else _NO_FACTS,
        now,
    )


_NO_EVIDENCE: list[str] = []  # read-only
_NO_FACTS: dict[str, Any] = {}


def unclassified_posts(
    session: Session, owner: str, now: datetime, days: int, limit: int = REPAIR_LIMIT
) -> list[tuple[int, Post, CustomerHints]]:
    """Posts that may reach a digest but have no insight: an earlier run stored them and never wrote it.

    A crash between storing posts and writing their insights, or a commit that failed, leaves them so; so does an
    edit, which drops the old insight in the transaction that stores the new text. Posts of sources another run
    holds right now are its business. The oldest first, at most `limit`, and only as old as a digest looks back.
    """
    lease_free = or_(Source.lease_owner.in_(("", owner)), Source.lease_until.is_(None), Source.lease_until < now)
    rows = session.execute(
        select(
            PostRow.id, PostRow.external_id, PostRow.canonical_url, PostRow.title, PostRow.text,
            PostRow.published_at, PostRow.author, PostRow.language, PostRow.links, PostRow.metrics,
            Source.kind, Customer.name, Customer.aliases, Customer.language.label("customer_language"),
        )
        .join(Source, Source.id == PostRow.source_id)
        .join(Customer, Customer.id == PostRow.customer_id)
        .outerjoin(InsightRow, InsightRow.post_id == PostRow.id)
        .where(
            InsightRow.id.is_(None),
            PostRow.digest_eligible.is_(True),
            PostRow.duplicate_of_id.is_(None),
            PostRow.fetched_at >= now - timedelta(days=days),
            lease_free,
        )
        .order_by(PostRow.id)
        .limit(limit)
    )  # fmt: skip
    return [
        (
            row.id,
            stored_post(row, row.kind),
            CustomerHints(name=row.name, aliases=tuple(row.aliases or ()), language=row.customer_language or ""),
        )
        for row in rows
    ]


def stored_post(row: Any, source_kind: str) -> Post:
    """A stored post (a posts row, or a result row with its columns) as the classifier reads it."""
    return Post(
        external_id=row.external_id,
        url=row.canonical_url,
        title=row.title,
        text=row.text,
        published_at=row.published_at,
        author=row.author,
        lang=row.language,
        source_kind=source_kind,
        links=tuple(row.links or ()),
        metrics=dict(row.metrics or {}),
    )
