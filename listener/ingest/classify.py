"""The hand-off to the relevance filter: new and edited posts get an Insight row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from listener.db.schema import Insight as InsightRow
from listener.models import Post
from listener.relevance import CustomerHints, load_classifier
from listener.settings import Settings


class Classification:
    """Loads the classifier once per run (lazily: runs with nothing new never load the rules)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._classifier: Any = None

    def _load(self) -> Any:
        if self._classifier is None:
            self._classifier = load_classifier(self._settings)
        return self._classifier

    def write(self, session: Session, items: Sequence[tuple[int, Post, CustomerHints]], now: datetime) -> None:
        """Classify (post id, post, hints) items and replace their insights."""
        if not items:
            return
        classifier = self._load()
        rows = []
        for post_id, post, hints in items:
            insight = classifier.classify(post, hints=hints)
            rows.append(
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
            )
        ids = [row["post_id"] for row in rows]
        session.execute(
            delete(InsightRow).where(InsightRow.post_id.in_(ids)), execution_options={"synchronize_session": False}
        )
        session.execute(insert(InsightRow), rows)
