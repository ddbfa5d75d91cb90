"""The hand-off to the relevance filter: new and edited posts get an Insight row.

Classifying is CPU-bound (and loading the rules takes seconds), so a run with parser processes classifies there,
in chunks, while the storing thread waits and the event loop keeps polling; a small run classifies in-process.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from listener.db.schema import Insight as InsightRow
from listener.models import Insight, Post
from listener.relevance import Classifier, CustomerHints, load_classifier
from listener.settings import RelevanceSettings, Settings

log = logging.getLogger(__name__)

CHUNK = 250  # posts per job sent to a parser process: large enough that pickling is noise
_LOADED: dict[RelevanceSettings, Classifier] = {}  # per parser process: the rules are compiled once per run


def classify_chunk(settings: Settings, items: Sequence[tuple[Post, CustomerHints]]) -> list[Insight | None]:
    """Classify posts in a parser process; a post that breaks the classifier gets None (logged), never the chunk."""
    classifier = _LOADED.get(settings.relevance)
    if classifier is None:
        classifier = _LOADED[settings.relevance] = load_classifier(settings)
    return _classify_each(classifier, items)


def _classify_each(classifier: Classifier, items: Sequence[tuple[Post, CustomerHints]]) -> list[Insight | None]:
    out: list[Insight | None] = []
    for post, hints in items:
        try:
            out.append(classifier.classify(post, hints=hints))
        except Exception:
            log.exception("post %r (%s): the classifier failed", post.external_id[:100], hints.name)
            out.append(None)
    return out


class Classification:
    """Classifies a batch's posts in the run's process pool when it has one, else here (rules loaded lazily)."""

    def __init__(self, settings: Settings, pool: Executor | None = None, workers: int = 1) -> None:
        self._settings = settings
        self._pool = pool
        self._workers = max(1, workers)
        self._classifier: Classifier | None = None

    def classify(self, items: Sequence[tuple[Post, CustomerHints]]) -> list[Insight | None]:
        """One insight (or None) per (post, hints), in order."""
        if self._pool is None or len(items) < CHUNK // 5:
            if self._classifier is None:
                self._classifier = load_classifier(self._settings)
            return _classify_each(self._classifier, items)
        # At least one chunk per parser process, so every core works on a large batch.
        size = min(CHUNK, -(-len(items) // self._workers))
        futures = [
            self._pool.submit(classify_chunk, self._settings, items[i : i + size]) for i in range(0, len(items), size)
        ]
        return [insight for future in futures for insight in future.result()]

    def write(self, session: Session, items: Sequence[tuple[int, Post, CustomerHints]], now: datetime) -> None:
        """Classify (post id, post, hints) items and replace their insights."""
        if not items:
            return
        insights = self.classify([(post, hints) for _, post, hints in items])
        rows: list[dict[str, Any]] = [
            {
                "post_id": post_id,
                "kind": str(insight.kind),
                "category": insight.category,
                "score": float(insight.score),
                "language": insight.lang or "",
                "evidence": list(insight.evidence),
                "facts": dict(insight.facts),
                "classified_at": now,
            }
            for (post_id, _, _), insight in zip(items, insights, strict=True)
            if insight is not None
        ]
        ids = [post_id for post_id, _, _ in items]
        for start in range(0, len(ids), 400):  # stays under SQLite's bound-parameter limit
            session.execute(
                delete(InsightRow).where(InsightRow.post_id.in_(ids[start : start + 400])),
                execution_options={"synchronize_session": False},
            )
        if rows:
            session.execute(insert(InsightRow), rows)
