"""The learned second opinion, after the bulk: only for this run's posts that can reach a digest.

The rules classify every post on the bulk path (thousands a second). The model reads tens of posts a second, so it
is spent here, once the run has stored and classified everything, on the insights that matter: posts classified in
this run, recent enough for a digest (digest.date_lookback_days), not duplicates nor a first poll's backlog, of a
customer who is not muted. Each is revised as `listener classify` would revise it (combined.decide): the model's
reading, never a win over a challenge, the rules' safety veto last, and `facts["unsure"]` where the two disagree.

At most relevance.second_opinion_max_posts posts a run are asked: those the rules call relevant first (they are the
ones a rep would see), then those they call none on some evidence, then those they found nothing in (out of fold on
real posts, leaving these to the rules costs 5 points of kind accuracy: the model finds the news the rules have no
phrase for), the newest first within each. A first run over thousands of new feeds stays within its time budget
(bench/ingest.py), and a day's run of a real team reaches the posts with no evidence too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from listener.db.schema import Customer, Source
from listener.db.schema import Insight as InsightRow
from listener.db.schema import Post as PostRow
from listener.db.session import transaction
from listener.ingest.classify import stored_post
from listener.models import Insight, Kind
from listener.relevance import CustomerHints, load_classifier
from listener.settings import Settings

log = logging.getLogger(__name__)

BATCH = 128  # posts embedded and written per transaction


def revise_digest_bound(
    sessions: sessionmaker[Session],
    settings: Settings,
    run_now: datetime,
    sources: Collection[int] | None = None,
) -> int:
    """Ask the model about this run's digest-bound insights (within the cap) and update them; how many were asked.

    `sources`: the sources this run polled. Other runs (workers on other hosts) classify posts at the same time, and
    each asks about its own: without it, every worker that started together would ask the model about the same
    posts, once each (and write the same rows)."""
    if not settings.relevance.second_opinion:
        return 0
    from listener.relevance.combined import CombinedClassifier

    started = time.monotonic()
    with transaction(sessions) as session:
        ids = _digest_bound_ids(session, settings, run_now, sources)
    if not ids:
        return 0
    # Few threads: the workers of a host run this pass at the same time (README: the figure).
    classifier = load_classifier(
        settings, second_opinion=True, threads=settings.relevance.second_opinion_threads or None
    )
    assert isinstance(classifier, CombinedClassifier)
    changed = 0
    for start in range(0, len(ids), BATCH):
        with transaction(sessions) as session:
            changed += _revise(session, classifier, ids[start : start + BATCH])
    log.info(
        "second opinion: %d digest-bound insights asked, %d changed, in %.1f s",
        len(ids),
        changed,
        time.monotonic() - started,
    )
    return len(ids)


def _digest_bound_ids(
    session: Session, settings: Settings, run_now: datetime, sources: Collection[int] | None
) -> list[int]:
    when = func.coalesce(PostRow.published_at, PostRow.fetched_at)
    recent = run_now - timedelta(days=settings.digest.date_lookback_days)
    today: date = run_now.date()
    query = (
        select(InsightRow.id)
        .join(PostRow, InsightRow.post_id == PostRow.id)
        .join(Customer, PostRow.customer_id == Customer.id)
        .where(
            InsightRow.classified_at >= run_now,
            PostRow.digest_eligible.is_(True),
            PostRow.duplicate_of_id.is_(None),
            when >= recent,
            or_(Customer.muted_until.is_(None), Customer.muted_until < today),
        )
        # What the rules call relevant first (a rep would see it), then what they call none on some evidence, then
        # the posts they found nothing in (on real posts many are relevant: README, "In the ingest"); newest first.
        .order_by(
            case((InsightRow.kind != Kind.NONE.value, 0), (InsightRow.score > 0, 1), else_=2),
            when.desc(),
            InsightRow.id,
        )
    )
    most = max(0, settings.relevance.second_opinion_max_posts)
    if sources is None:
        return list(session.scalars(query.limit(most)))
    # Filtered here, not in SQL: a run's sources can be more than a statement takes as parameters, and the
    # candidates are one small column (the digest-bound posts of the period).
    mine = sources if isinstance(sources, (set, frozenset)) else set(sources)
    # Streamed and cut at `most`: after a first run of thousands of feeds the query matches a large share of the
    # run's 100,000s of insights, of which only the first few of this run's sources are wanted. (The sources are
    # filtered here rather than in an IN list: a run may hold tens of thousands.)
    rows = session.execute(query.add_columns(PostRow.source_id).execution_options(yield_per=1000))
    return list(islice((insight_id for insight_id, source_id in rows if source_id in mine), most))


def _revise(session: Session, classifier: Any, insight_ids: Sequence[int]) -> int:
    rows = session.execute(
        select(InsightRow, PostRow, Customer, Source.kind)
        .join(PostRow, InsightRow.post_id == PostRow.id)
        .join(Customer, PostRow.customer_id == Customer.id)
        .join(Source, PostRow.source_id == Source.id)
        .where(InsightRow.id.in_(insight_ids))
        .order_by(InsightRow.id)
    ).all()
    posts = [stored_post(p, kind) for _, p, _, kind in rows]
    hints = [CustomerHints(name=c.name, aliases=tuple(c.aliases or ()), language=c.language) for _, _, c, _ in rows]
    first = [
        Insight(
            kind=Kind(i.kind),
            category=i.category,
            score=i.score,
            lang=i.language,
            evidence=tuple(i.evidence or ()),
            facts=dict(i.facts or {}),
        )
        for i, _, _, _ in rows
    ]
    revised = classifier.second_opinion(posts, hints, first)
    changed = 0
    for (row, _, _, _), before, after in zip(rows, first, revised, strict=True):
        if after == before:
            continue
        changed += 1
        session.execute(
            update(InsightRow)
            .where(InsightRow.id == row.id)
            .values(
                kind=after.kind.value,
                category=after.category,
                score=float(after.score),
                evidence=list(after.evidence),
                facts=dict(after.facts),
            )
        )
    return changed
