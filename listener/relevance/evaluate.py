"""Scoring a classifier against a labelled JSON Lines file: relevance P/R/F1, kind accuracy, category macro-F1."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from listener.errors import BadInput
from listener.models import KIND_OF_CATEGORY, Kind, Post

if TYPE_CHECKING:  # avoids an import cycle at runtime
    from listener.relevance import Classifier


@dataclass(frozen=True)
class Labelled:
    """One evaluation row: the post, its gold kind and category, and its declared language."""

    post: Post
    kind: str
    category: str
    lang: str
    origin: str = ""  # where a real post was quoted from (real/README.md); cross-validation groups by it


@dataclass
class Metrics:
    """The numbers `listener eval` reports for one slice of the data."""

    n: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    kind_accuracy: float = 0.0
    category_macro_f1: float = 0.0
    challenges_called_wins: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Rounded for printing and JSON."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


@dataclass
class Report:
    """Overall and per-language metrics plus the most frequent confusions."""

    overall: Metrics
    by_language: dict[str, Metrics]
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # gold, predicted, count

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `listener eval --json`."""
        return {
            "overall": self.overall.as_dict(),
            "by_language": {lang: m.as_dict() for lang, m in sorted(self.by_language.items())},
            "confusions": [{"gold": g, "predicted": p, "count": n} for g, p, n in self.confusions],
        }


def post_from_record(record: Any, line_no: int) -> Post:
    """Build a Post from one JSON object (`id`, `title`, `text`, optional `source`, `lang`), or raise BadInput."""
    if not isinstance(record, dict):
        raise BadInput(f"line {line_no}: expected a JSON object, got {type(record).__name__}")
    for key in ("id", "text"):
        if key not in record:
            raise BadInput(f"line {line_no}: missing key {key!r}")
    for key in ("title", "text", "source", "lang"):
        if key in record and not isinstance(record[key], str):
            raise BadInput(f"line {line_no}: {key!r} must be a string")
    return Post(
        external_id=str(record["id"]),
        url=str(record.get("url", "")),
        title=record.get("title", ""),
        text=record["text"],
        published_at=None,
        lang=record.get("lang", ""),
        source_kind=record.get("source", "rss") or "rss",
    )


def read_records(stream: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; BadInput names the first line that is not JSON."""
    for line_no, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"line {line_no}: not valid JSON ({exc.msg})") from None
        yield line_no, record


def read_labelled(stream: TextIO) -> list[Labelled]:
    """Parse an evaluation file (taxonomy.md format); BadInput on a bad line or an unknown label."""
    rows = []
    for line_no, record in read_records(stream):
        post = post_from_record(record, line_no)
        kind, category = record.get("kind"), record.get("category")
        if category not in KIND_OF_CATEGORY or KIND_OF_CATEGORY[category].value != kind:
            raise BadInput(f"line {line_no}: unknown kind/category {kind!r}/{category!r}")
        origin = record.get("origin", "")
        rows.append(
            Labelled(post, kind, category, record.get("lang", "") or "?", origin if isinstance(origin, str) else "")
        )
    return rows


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def compute_metrics(pairs: Iterable[tuple[Labelled, str, str]]) -> Metrics:
    """Metrics over (gold row, predicted kind, predicted category) triples."""
    pairs = list(pairs)
    m = Metrics(n=len(pairs))
    if not pairs:
        return m
    none = Kind.NONE.value
    tp = sum(1 for g, k, _ in pairs if g.kind != none and k != none)
    fp = sum(1 for g, k, _ in pairs if g.kind == none and k != none)
    fn = sum(1 for g, k, _ in pairs if g.kind != none and k == none)
    m.precision = tp / (tp + fp) if tp + fp else 0.0
    m.recall = tp / (tp + fn) if tp + fn else 0.0
    m.f1 = _f1(m.precision, m.recall)
    m.kind_accuracy = sum(1 for g, k, _ in pairs if g.kind == k) / len(pairs)
    labels = {g.category for g, _, _ in pairs}
    f1s = []
    for label in labels:
        ctp = sum(1 for g, _, c in pairs if g.category == label and c == label)
        cfp = sum(1 for g, _, c in pairs if g.category != label and c == label)
        cfn = sum(1 for g, _, c in pairs if g.category == label and c != label)
        f1s.append(_f1(ctp / (ctp + cfp) if ctp + cfp else 0.0, ctp / (ctp + cfn) if ctp + cfn else 0.0))
    m.category_macro_f1 = sum(f1s) / len(f1s)
    m.challenges_called_wins = sum(1 for g, k, _ in pairs if g.kind == Kind.CHALLENGE.value and k == Kind.WIN.value)
    return m


def evaluate(classifier: Classifier, rows: list[Labelled], worst: int = 10) -> Report:
    """Classify every row and report overall, per declared language, and the most frequent confusions."""
    from listener.relevance import classify_many

    insights = classify_many(classifier, [row.post for row in rows])  # the second opinion embeds in batches
    triples = [(row, insight.kind.value, insight.category) for row, insight in zip(rows, insights, strict=True)]
    by_lang: dict[str, list[tuple[Labelled, str, str]]] = {}
    for triple in triples:
        by_lang.setdefault(triple[0].lang, []).append(triple)
    confusions = Counter((f"{g.kind}/{g.category}", f"{k}/{c}") for g, k, c in triples if g.category != c).most_common(
        worst
    )
    return Report(
        overall=compute_metrics(triples),
        by_language={lang: compute_metrics(items) for lang, items in by_lang.items()},
        confusions=[(g, p, n) for (g, p), n in confusions],
    )
