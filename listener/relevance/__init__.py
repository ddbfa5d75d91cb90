"""The relevance filter: every post gets a kind, a category, a score, evidence and facts (taxonomy.md).

Callers depend on `Classifier` and `load_classifier` only, so a model-based classifier can replace the
rule-based one without touching them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from listener.models import Insight, Post
from listener.relevance.engine import RuleClassifier
from listener.relevance.hints import CustomerHints
from listener.relevance.rules import load_rules
from listener.resources import config_dir
from listener.settings import Settings


@runtime_checkable
class Classifier(Protocol):
    """Anything that turns a post into an insight; pure and fast."""

    def classify(self, post: Post, hints: CustomerHints | None = None) -> Insight:
        """Decide what the rep should do with `post`."""
        ...


def bundled_rules_dir() -> Path:
    """The rules that ship with Listener (config/rules)."""
    return config_dir() / "rules"


def load_classifier(
    settings: Settings | None = None, *, second_opinion: bool = False, threads: int | None = None
) -> Classifier:
    """Load, validate and compile the bundled rules plus `relevance.rules_dir`, once; raise ConfigError if invalid.

    With `second_opinion`, the rules are combined with the learned model (combined.py): only for callers that
    classify few posts or batch them with `classify_many`, as the model embeds tens of posts a second, not thousands.
    `threads`: the encoder's threads (None: up to two; see learned.shared_encoder).
    """
    folders = [bundled_rules_dir()]
    min_score = 0.35
    if settings is not None:
        if settings.relevance.rules_dir:
            folders.append(Path(settings.relevance.rules_dir).expanduser())
        min_score = settings.relevance.min_score
    rules = RuleClassifier(load_rules(folders), min_score=min_score)
    if not second_opinion:
        return rules
    # Imported here: a process that never asks for the second opinion never loads numpy's model code.
    from listener.relevance.combined import CombinedClassifier
    from listener.relevance.learned import LearnedModel, load_weights, shared_encoder

    return CombinedClassifier(rules, LearnedModel(load_weights(), shared_encoder(threads)))


@runtime_checkable
class BatchClassifier(Classifier, Protocol):
    """A classifier that is cheaper per post in batches (the learned model embeds a batch at once)."""

    def classify_many(
        self, posts: Sequence[Post], hints: Sequence[CustomerHints | None] | None = None
    ) -> list[Insight]:
        """Insights of `posts`, in order; `hints[i]` belongs to `posts[i]`."""
        ...


def classify_many(
    classifier: Classifier, posts: Sequence[Post], hints: Sequence[CustomerHints | None] | None = None
) -> list[Insight]:
    """Insights of `posts` in order, in one batch when the classifier batches, else one by one."""
    if isinstance(classifier, BatchClassifier):
        return classifier.classify_many(posts, hints)
    all_hints = hints if hints is not None else [None] * len(posts)
    return [classifier.classify(p, h) for p, h in zip(posts, all_hints, strict=True)]


__all__ = [
    "BatchClassifier",
    "Classifier",
    "CustomerHints",
    "RuleClassifier",
    "bundled_rules_dir",
    "classify_many",
    "load_classifier",
]
