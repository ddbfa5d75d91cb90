"""What one ingest run did, for the CLI's last line, `--json`, and the exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class IngestReport:
    sources_polled: int = 0
    not_modified: int = 0
    failed: int = 0
    deferred: int = 0
    new_posts: int = 0
    seconds: float = 0.0
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # (source id, locator, message)
    skipped_kinds: dict[str, str] = field(default_factory=dict)  # kind -> why it was skipped
    updated_posts: int = 0
    unclassified: int = 0  # stored posts whose insights could not be written: the next run classifies them
    repaired: int = 0  # posts an earlier run left without insights, classified by this one
    # When (Unix time) the run started, claimed its first and its last chunk, stored its last poll, was done
    # polling and storing, and finished: where a worker's time went, next to the other workers' timelines.
    timeline: dict[str, float] = field(default_factory=dict)

    def add(self, other: IngestReport) -> None:
        """Count another part of the run (a stored batch) into this report."""
        self.sources_polled += other.sources_polled
        self.not_modified += other.not_modified
        self.failed += other.failed
        self.deferred += other.deferred
        self.new_posts += other.new_posts
        self.updated_posts += other.updated_posts
        self.unclassified += other.unclassified
        self.failures.extend(other.failures)

    def as_json(self) -> dict[str, Any]:
        """The machine-readable summary; the first five keys are the documented contract."""
        return {
            "sources_polled": self.sources_polled,
            "not_modified": self.not_modified,
            "failed": self.failed,
            "new_posts": self.new_posts,
            "seconds": round(self.seconds, 3),
            "deferred": self.deferred,
            "updated_posts": self.updated_posts,
            "failures": [{"source_id": i, "locator": loc, "error": msg} for i, loc, msg in self.failures],
            "skipped_kinds": self.skipped_kinds,
            "unclassified": self.unclassified,
            "repaired": self.repaired,
            "timeline": {key: round(value, 3) for key, value in self.timeline.items()},
        }

    def summary(self) -> str:
        """The one line cron mails or logs."""
        parts = [
            f"{self.sources_polled} sources polled",
            f"{self.not_modified} not modified",
            f"{self.new_posts} new posts",
            f"{self.failed} failed",
        ]
        if self.deferred:
            parts.append(f"{self.deferred} deferred")
        if self.repaired:
            parts.append(f"{self.repaired} left unclassified earlier now classified")
        if self.unclassified:
            parts.append(f"{self.unclassified} posts left unclassified (the next run classifies them)")
        return ", ".join(parts) + f" in {self.seconds:.1f} s"
