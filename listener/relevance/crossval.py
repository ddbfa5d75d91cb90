"""The honest figure: the whole classifier (model, combination, calibration) on real posts it never learned from.

`listener model cv` splits the real posts of `real/dev.jsonl` into folds so that posts from the same source (the
`origin` without the address of the single item: one press-wire dump, one changelog, one status page, one article)
and near-duplicates (posts sharing most of their words) always fall in the same fold. For each fold, everything
`listener model train` fits is fitted again, exactly as it runs, on the written sets plus the other folds (the
regression, the combination's thresholds and its calibrator, each with its own inner grouped folds), and the fold's
posts are then classified by the rules and that freshly trained second opinion. The metrics and the reliability
table are computed on these out-of-fold insights only: no post is judged by a model, threshold or calibrator that
saw it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from listener.errors import BadInput
from listener.models import Insight, Kind
from listener.relevance.engine import RuleClassifier
from listener.relevance.evaluate import Labelled, Metrics, compute_metrics
from listener.relevance.learned import Latent

FOLDS = 5
NEAR_DUPLICATE = 0.5  # word-set Jaccard at or above which two posts are one story (a rewrite, a repost, an update)
_ADDRESS = re.compile(r"\s*\(.*\)\s*$")
_WORD = re.compile(r"\w+")


def source_of(origin: str) -> str:
    """The document an item was quoted from: a stored file or a page (the single item's address in brackets dropped).

    Items of one press-wire dump, feed or changelog share a style and often a story; a fold that holds some of them
    while the model learns the others would overstate what it does on a source it has never read.
    """
    return _ADDRESS.sub("", origin.strip()) or origin


def _words(row: Labelled) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(f"{row.post.title} {row.post.text}") if len(w) > 2)


def groups_of(rows: Sequence[Labelled], origins: Sequence[str]) -> np.ndarray:
    """A group id per row: rows of the same source, and near-duplicates (transitively), share one."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first_of: dict[str, int] = {}
    for i, origin in enumerate(origins):
        if origin:
            union(i, first_of.setdefault(source_of(origin), i))
    words = [_words(r) for r in rows]
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            a, b = words[i], words[j]
            if a and b and len(a & b) >= NEAR_DUPLICATE * len(a | b):
                union(i, j)
    roots = [find(i) for i in range(len(rows))]
    ids = {root: n for n, root in enumerate(dict.fromkeys(roots))}
    return np.array([ids[r] for r in roots], dtype=int)


def grouped_folds(groups: np.ndarray, k: int = FOLDS) -> np.ndarray:
    """A fold per row, whole groups at a time: largest groups first, each to the fold with fewest rows so far.

    Deterministic (ties broken by group id), and the folds come out within a group's size of each other.
    """
    sizes = np.bincount(groups)
    order = sorted(range(len(sizes)), key=lambda g: (-sizes[g], g))
    load = [0] * k
    fold_of_group = np.zeros(len(sizes), dtype=int)
    for g in order:
        f = min(range(k), key=lambda i: (load[i], i))
        fold_of_group[g] = f
        load[f] += int(sizes[g])
    return fold_of_group[groups]


@dataclass(frozen=True)
class Outcome:
    """One real post classified out of fold."""

    row: Labelled
    insight: Insight

    @property
    def right(self) -> bool:
        return self.insight.kind.value == self.row.kind


@dataclass
class CrossValidation:
    """The out-of-fold outcomes of the whole classifier and of the rules alone, with the fold sizes."""

    combined: list[Outcome]
    rules: list[Insight]
    fold_sizes: list[int]
    guards: list[float]  # the challenge guard each fold's training chose
    sure_scores: list[float] = field(default_factory=list)  # the sure line each fold's training chose

    def metrics(self, lang: str | None = None, rules_only: bool = False) -> Metrics:
        """Metrics over all posts, or one declared language's."""
        triples = [
            (o.row, (r if rules_only else o.insight).kind.value, (r if rules_only else o.insight).category)
            for o, r in zip(self.combined, self.rules, strict=True)
            if lang is None or o.row.lang == lang
        ]
        return compute_metrics(triples)

    def languages(self) -> list[str]:
        """Declared languages, the most frequent first."""
        counts: dict[str, int] = {}
        for o in self.combined:
            counts[o.row.lang] = counts.get(o.row.lang, 0) + 1
        return sorted(counts, key=lambda lang: (-counts[lang], lang))


def format_cross_validation(cv: CrossValidation) -> str:
    """The report of `listener model cv`: rules alone -> combined, overall and by language; then reliability."""
    from listener.relevance.calibration import format_table, reliability

    folds = ", ".join(str(n) for n in cv.fold_sizes)
    lines = [
        f"grouped {len(cv.fold_sizes)}-fold cross-validation on {len(cv.combined)} real posts (fold sizes {folds}); "
        "every figure is out of fold: rules alone -> rules + second opinion "
        f"(fitted per fold: challenge guards {', '.join(f'{t:g}' for t in cv.guards)}; "
        f"sure lines {', '.join(f'{t:g}' for t in cv.sure_scores)})",
        "lang     n    kind accuracy   category macro-F1   relevance F1    challenges called wins",
    ]
    for lang in [None, *cv.languages()]:
        alone, both = cv.metrics(lang, rules_only=True), cv.metrics(lang)
        lines.append(
            f"{lang or 'overall':<8} {both.n:<4} {alone.kind_accuracy:.3f} -> {both.kind_accuracy:.3f}  "
            f"{alone.category_macro_f1:.3f} -> {both.category_macro_f1:.3f}      "
            f"{alone.f1:.3f} -> {both.f1:.3f}   {alone.challenges_called_wins} -> {both.challenges_called_wins}"
        )
    relevant = [o for o in cv.combined if o.insight.kind is not Kind.NONE]
    unsure = [o for o in relevant if "unsure" in o.insight.facts]
    sure = [o for o in relevant if "unsure" not in o.insight.facts]
    lines.append(
        f"relevant insights: {len(relevant)}; marked unsure {len(unsure)} (kind right {_rate(unsure)}), "
        f"sure {len(sure)} (kind right {_rate(sure)})"
    )
    lines.append("reliability of the out-of-fold scores (relevant insights: is the kind right?):")
    lines.append(format_table(reliability([o.insight.score for o in relevant], [o.right for o in relevant])))
    return "\n".join(lines)


def _rate(outcomes: Sequence[Outcome]) -> str:
    return f"{sum(o.right for o in outcomes) / len(outcomes):.2f}" if outcomes else "-"


def real_rows(origins: Sequence[Path]) -> np.ndarray:
    """Which training rows are real posts (the ones cross-validation holds out)."""
    from listener.relevance.training import is_real

    return np.array([is_real(p) for p in origins], dtype=bool)


def cross_validate(
    rules: RuleClassifier,
    rows: list[Labelled],
    origins: list[Path],
    embeddings: np.ndarray,
    latents: Sequence[Latent],
    k: int = FOLDS,
) -> CrossValidation:
    """Hold out each fold of the real posts, fit everything on the rest (written sets included), classify the fold."""
    from listener.relevance.calibration import calibrate
    from listener.relevance.combined import CombinedClassifier
    from listener.relevance.learned import LearnedModel, post_text
    from listener.relevance.training import fit_weights

    real = np.where(real_rows(origins))[0]
    if len(real) < k:
        raise BadInput(f"cross-validation needs at least {k} real posts (real/dev.jsonl); found {len(real)}")
    fold = grouped_folds(groups_of([rows[i] for i in real], [rows[i].origin for i in real]), k)
    insights = [rules.classify(row.post) for row in rows]
    first = [insights[i] for i in real]
    outcomes: dict[int, Outcome] = {}
    guards: list[float] = []
    sure_scores: list[float] = []
    for f in range(k):
        held = set(real[fold == f].tolist())
        keep = [i for i in range(len(rows)) if i not in held]
        weights = fit_weights(
            [rows[i] for i in keep],
            [origins[i] for i in keep],
            embeddings[keep],
            [insights[i] for i in keep],
            [latents[i] for i in keep],
            lambda r, o, x, ins: calibrate(rules, r, o, x, ins),
        )
        combined = CombinedClassifier(rules, LearnedModel(weights))
        test = np.where(fold == f)[0]
        texts = [post_text(rows[real[j]].post.title, rows[real[j]].post.text) for j in test]
        held_latents = [latents[real[j]] for j in test]
        opinions = weights.predict(embeddings[real[test]], [first[j] for j in test], texts, held_latents)
        predicted = dict(zip(test.tolist(), opinions, strict=True))
        guards.append(weights.challenge_guard)
        sure_scores.append(weights.sure_score)
        for j in test:
            row = rows[real[j]]
            insight, _ = combined.combine(row.post, None, first[j], predicted[j])
            outcomes[j] = Outcome(row, insight)
    sizes = [int((fold == f).sum()) for f in range(k)]
    return CrossValidation([outcomes[j] for j in range(len(real))], first, sizes, guards, sure_scores)
