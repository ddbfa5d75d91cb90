"""The relevance filter: every post gets a kind, a category, a score, evidence and facts (taxonomy.md).

Callers depend on `Classifier` and `load_classifier` only, so a model-based classifier can replace the
rule-based one without touching them.
"""

from __future__ import annotations

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


def load_classifier(settings: Settings | None = None) -> Classifier:
    """Load, validate and compile the bundled rules plus `relevance.rules_dir`, once; raise ConfigError if invalid."""
    folders = [bundled_rules_dir()]
    min_score = 0.35
    if settings is not None:
        if settings.relevance.rules_dir:
            folders.append(Path(settings.relevance.rules_dir).expanduser())
        min_score = settings.relevance.min_score
    return RuleClassifier(load_rules(folders), min_score=min_score)


__all__ = ["Classifier", "CustomerHints", "RuleClassifier", "bundled_rules_dir", "load_classifier"]
