"""Dump `listener model cv`'s out-of-fold outcomes, one JSON line per real post, to study the errors.

    .venv/bin/python bench/cv_dump.py > /tmp/oof.jsonl

Each line: the post's id, language, source kind, gold kind and category, the rules' verdict (kind, category, score,
how many cues), the combination's (kind, category, score, unsure reason), and whether the kind is right.
The report of `listener model cv` goes to stderr; nothing else is written but the embedding cache (and its latent
terms).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from listener.relevance import RuleClassifier, load_classifier
from listener.relevance.crossval import cross_validate, format_cross_validation
from listener.relevance.learned import CachedEncoder
from listener.relevance.training import read_rows, training_files


def main() -> None:
    data = Path(__file__).resolve().parent.parent / "tests" / "data" / "relevance"
    rows, origins = read_rows(training_files(data))
    rules = load_classifier(None)
    assert isinstance(rules, RuleClassifier)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "listener" / "embeddings.npz"
    encoder = CachedEncoder(cache)
    embeddings = encoder.embed_posts([row.post for row in rows])
    cv = cross_validate(rules, rows, origins, embeddings, encoder.latents_of_posts([row.post for row in rows]))
    sys.stderr.write(format_cross_validation(cv) + "\n")  # the report of `listener model cv`, on stderr
    for outcome, first in zip(cv.combined, cv.rules, strict=True):
        row, insight = outcome.row, outcome.insight
        line = {
            "id": row.post.external_id,
            "lang": row.lang,
            "source": row.post.source_kind,
            "gold": [row.kind, row.category],
            "rules": [first.kind.value, first.category, first.score, len(first.evidence)],
            "combined": [insight.kind.value, insight.category, insight.score, insight.facts.get("unsure", "")],
            "right": outcome.right,
        }
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
