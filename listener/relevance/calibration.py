"""Calibrating the combination's score on labelled posts the model did not learn from.

The model's opinion of each training post comes from a model trained on the other folds (training.out_of_fold), the
combination is replayed on it exactly as it runs (CombinedClassifier.combine), and a logistic calibrator learns the
probability that the resulting kind is right from the combination's inputs (combined.features). The reliability
table is itself cross-validated: each fold's scores come from a calibrator fitted on the other folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from listener.models import Kind
from listener.relevance.combined import CombinedClassifier, Opinion, calibrated, features
from listener.relevance.engine import RuleClassifier
from listener.relevance.evaluate import Labelled
from listener.relevance.learned import LearnedModel, Weights, predictions
from listener.relevance.training import ALL_CATEGORIES, folds_of, grouped_folds_of, is_real, out_of_fold

BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)


@dataclass(frozen=True)
class Replayed:
    """One labelled post through the combination: what it said, how, and whether the kind was right."""

    kind: Kind
    category: str
    opinion: Opinion
    right: bool


def replay(rules: RuleClassifier, rows: Sequence[Labelled], probs: np.ndarray) -> list[Replayed]:
    """The combination on rows whose model probabilities are given (out-of-fold), without a calibrator."""
    empty = Weights((), np.zeros((0, 0)), np.zeros(0), "", "", np.zeros(0))
    combined = CombinedClassifier(rules, LearnedModel(empty))
    preds = predictions(probs, ALL_CATEGORIES)
    out = []
    for row, pred in zip(rows, preds, strict=True):
        first = rules.classify(row.post)
        insight, opinion = combined.combine(row.post, None, first, pred if combined.in_band(first) else None)
        out.append(Replayed(insight.kind, insight.category, opinion, insight.kind.value == row.kind))
    return out


def fit_calibrator(replayed: Sequence[Replayed]) -> np.ndarray:
    """Logistic coefficients over combined.features for the relevant insights (the ones a rep may see)."""
    from sklearn.linear_model import LogisticRegression

    relevant = [r for r in replayed if r.kind is not Kind.NONE]
    x = np.array([features(r.opinion) for r in relevant])
    y = np.array([r.right for r in relevant], dtype=int)
    if len(set(y)) < 2:  # all right (or all wrong): nothing to learn; a constant at the observed rate
        rate = (y.sum() + 1) / (len(y) + 2)
        coef = np.zeros(x.shape[1])
        coef[0] = float(np.log(rate / (1 - rate)))
        return coef
    model = LogisticRegression(C=1.0, fit_intercept=False, max_iter=2000)
    model.fit(x, y)
    return np.asarray(model.coef_[0], dtype=np.float64)


def calibration_rows(origins: Sequence[Path]) -> np.ndarray:
    """Which rows the calibrator learns from: the real posts when there are any, else all.

    The written sets are the ones the rules were tuned on, round after round: there the rules are right about 99%
    of the time, which says nothing of how often they are right on text nobody wrote for them. A score calibrated
    there would read 0.98 on real posts whose kind is right two times in three.
    """
    real = np.array([is_real(p) for p in origins], dtype=bool)
    return real if real.any() else np.ones(len(origins), dtype=bool)


def calibrate(
    rules: RuleClassifier, rows: Sequence[Labelled], origins: Sequence[Path], embeddings: np.ndarray
) -> np.ndarray:
    """The calibrator shipped with the weights: fitted on the out-of-fold combination of the calibration rows."""
    probs = out_of_fold(embeddings, [row.category for row in rows], fold=grouped_folds_of(rows))
    use = calibration_rows(origins)
    replayed = replay(rules, [r for r, u in zip(rows, use, strict=True) if u], probs[use])
    return fit_calibrator(replayed)


@dataclass(frozen=True)
class Bin:
    """One row of a reliability table."""

    low: float
    high: float
    count: int
    accuracy: float
    mean_score: float


def reliability(scores: Sequence[float], right: Sequence[bool]) -> list[Bin]:
    """Count, accuracy and mean score of the insights in each score bin."""
    out = []
    s, r = np.array(scores, dtype=float), np.array(right, dtype=bool)
    for low, high in pairwise(BINS):
        inside = (s >= low) & (s < high)
        n = int(inside.sum())
        out.append(Bin(low, min(high, 1.0), n, float(r[inside].mean()) if n else 0.0,
                       float(s[inside].mean()) if n else 0.0))  # fmt: skip
    return out


def cross_validated_reliability(replayed: Sequence[Replayed]) -> tuple[list[Bin], list[float], list[bool]]:
    """The reliability table of relevant insights, each scored by a calibrator fitted on the other folds."""
    relevant = [r for r in replayed if r.kind is not Kind.NONE]
    fold = folds_of(len(relevant))
    scores = [0.0] * len(relevant)
    for f in sorted(set(fold.tolist())):
        coef = fit_calibrator([r for r, g in zip(relevant, fold, strict=True) if g != f])
        for i in np.where(fold == f)[0]:
            scores[i] = calibrated(coef, relevant[i].opinion)
    right = [r.right for r in relevant]
    return reliability(scores, right), scores, right


def format_table(bins: Sequence[Bin]) -> str:
    """The reliability table as text (a Markdown table: it goes into the README as printed)."""
    lines = ["| score | count | kind right | mean score |", "| --- | --- | --- | --- |"]
    for b in bins:
        lines.append(f"| {b.low:.1f}–{b.high:.1f} | {b.count} | {b.accuracy:.2f} | {b.mean_score:.2f} |")
    return "\n".join(lines)


def out_of_fold_report(
    rules: RuleClassifier, rows: Sequence[Labelled], origins: Sequence[Path], embeddings: np.ndarray
) -> str:
    """Per file, rules alone against the combination with out-of-fold model opinions; the reliability table."""
    from listener.relevance.evaluate import compute_metrics

    probs = out_of_fold(embeddings, [row.category for row in rows])
    replayed = replay(rules, rows, probs)
    lines = ["out of fold (the model never saw the post it judges): rules alone -> combined"]
    for path in sorted(set(origins), key=lambda p: (is_real(p), p.name)):
        idx = [i for i, o in enumerate(origins) if o == path]
        alone = compute_metrics((rows[i], *_rules_label(rules, rows[i])) for i in idx)
        both = compute_metrics((rows[i], replayed[i].kind.value, replayed[i].category) for i in idx)
        band = sum(1 for i in idx if replayed[i].opinion.consulted)
        lines.append(
            f"  {path.parent.name}/{path.name:<12} n={len(idx):<4} band={band:<4} "
            f"kind acc {alone.kind_accuracy:.3f} -> {both.kind_accuracy:.3f}  "
            f"category macro-F1 {alone.category_macro_f1:.3f} -> {both.category_macro_f1:.3f}  "
            f"relevance F1 {alone.f1:.3f} -> {both.f1:.3f}  "
            f"challenges called wins {alone.challenges_called_wins} -> {both.challenges_called_wins}"
        )
    use = calibration_rows(origins)
    bins, _, _ = cross_validated_reliability([r for r, u in zip(replayed, use, strict=True) if u])
    lines.append("cross-validated reliability of the combined score (relevant insights of the calibration posts):")
    lines.append(format_table(bins))
    return "\n".join(lines)


def _rules_label(rules: RuleClassifier, row: Labelled) -> tuple[str, str]:
    insight = rules.classify(row.post)
    return insight.kind.value, insight.category
