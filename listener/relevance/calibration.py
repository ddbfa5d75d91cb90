"""Calibrating the combination's score on labelled posts the model did not learn from.

The model's opinion of each training post comes from a model trained on the other folds (training.out_of_fold), the
combination is replayed on it exactly as it runs (CombinedClassifier.combine), and a logistic calibrator learns the
probability that the resulting kind is right from the combination's inputs (combined.features). The honest
reliability table (calibrator, threshold and model all refitted without the posts they score) is `listener model
cv`'s (crossval.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from listener.models import Insight, Kind
from listener.relevance.combined import CombinedClassifier, Opinion, features
from listener.relevance.engine import RuleClassifier
from listener.relevance.evaluate import Labelled
from listener.relevance.learned import LearnedModel, Weights, predictions
from listener.relevance.training import ALL_CATEGORIES, grouped_folds_of, is_real, out_of_fold, row_weights

BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)


@dataclass(frozen=True)
class Replayed:
    """One labelled post through the combination: what it said, how, and whether the kind was right."""

    kind: Kind
    category: str
    opinion: Opinion
    right: bool
    lang: str = ""


def replay(
    rules: RuleClassifier,
    rows: Sequence[Labelled],
    probs: np.ndarray,
    insights: Sequence[Insight],
    challenge_guard: float,
) -> list[Replayed]:
    """The combination on rows whose model probabilities are given (out-of-fold), without a calibrator."""
    empty = Weights((), np.zeros((0, 0)), np.zeros(0), "", "", np.zeros(0), challenge_guard=challenge_guard)
    combined = CombinedClassifier(rules, LearnedModel(empty))
    preds = predictions(probs, ALL_CATEGORIES)
    out = []
    for row, pred, first in zip(rows, preds, insights, strict=True):
        insight, opinion = combined.combine(row.post, None, first, pred)
        out.append(Replayed(insight.kind, insight.category, opinion, insight.kind.value == row.kind, row.lang))
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


# The model's challenge probability from which its win does not stand (combined.decide); above 1: never.
GUARD_CANDIDATES = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 1.01)


def challenges_called_wins(replayed: Sequence[Replayed], rows: Sequence[Labelled]) -> int:
    return sum(r.kind is Kind.WIN and row.kind == Kind.CHALLENGE.value for r, row in zip(replayed, rows, strict=True))


def choose_guard(replays: dict[float, list[Replayed]], rows: Sequence[Labelled]) -> float:
    """The guard with the fewest challenges called wins, then the best kind accuracy, then the highest (the fewest
    real wins held back)."""
    return min(replays, key=lambda t: (challenges_called_wins(replays[t], rows), -sum(r.right for r in replays[t]), -t))


# What the rep sees as sure must be right: the share of sure insights whose kind is right, out of fold, that the
# sure line is fitted to reach (a wrong draft costs a relationship, an unsure "take a look" a few seconds).
SURE_TARGET = 0.85
SURE_CANDIDATES = tuple(round(0.5 + 0.025 * i, 3) for i in range(19))  # 0.5 .. 0.95


def choose_sure_score(replayed: Sequence[Replayed], coef: np.ndarray) -> float:
    """The lowest calibrated score from which the replayed insights that would be sure are SURE_TARGET right."""
    from listener.relevance.combined import calibrated

    relevant = [
        (calibrated(coef, r.opinion), r.right) for r in replayed if r.kind is not Kind.NONE and not r.opinion.unsure
    ]
    for line in SURE_CANDIDATES:
        sure = [right for score, right in relevant if score >= line]
        if sure and sum(sure) / len(sure) >= SURE_TARGET:
            return line
    return SURE_CANDIDATES[-1]


@dataclass(frozen=True)
class Policy:
    """What the combination learns on top of the regression, from out-of-fold replays (Weights' fields)."""

    challenge_guard: float
    sure_score: float
    calibration: np.ndarray


def calibrate(
    rules: RuleClassifier,
    rows: Sequence[Labelled],
    origins: Sequence[Path],
    inputs: Any,
    insights: Sequence[Insight],
) -> Policy:
    """The combination's guard and calibrator, fitted on the out-of-fold replays of the calibration rows.

    The model's opinion of each row comes from a model trained on the other folds (grouped: a source's posts and
    near-duplicates together), so all are chosen on what the model does on posts it did not learn: first the
    challenge guard, then the calibrator, and the sure line on the calibrated scores.
    """
    probs = out_of_fold(
        inputs, [row.category for row in rows], fold=grouped_folds_of(rows), weight=row_weights(origins)
    )
    use = np.where(calibration_rows(origins))[0]
    picked = [rows[i] for i in use]
    firsts = [insights[i] for i in use]
    replays = {g: replay(rules, picked, probs[use], firsts, g) for g in GUARD_CANDIDATES}
    guard = choose_guard(replays, picked)
    coef = fit_calibrator(replays[guard])
    return Policy(guard, choose_sure_score(replays[guard], coef), coef)


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


def format_table(bins: Sequence[Bin]) -> str:
    """The reliability table as text (a Markdown table: it goes into the README as printed)."""
    lines = ["| score | count | kind right | mean score |", "| --- | --- | --- | --- |"]
    for b in bins:
        lines.append(f"| {b.low:.1f}–{b.high:.1f} | {b.count} | {b.accuracy:.2f} | {b.mean_score:.2f} |")
    return "\n".join(lines)
