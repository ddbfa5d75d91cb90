"""Throughput of the relevance filter on one core: prints posts/s.

Usage: .venv/bin/python bench/classify.py [FILE.jsonl] [--seconds N]
Reads ../shared/eval/dev.jsonl by default (or a small built-in sample when it is absent) and classifies it
in a loop after one warm-up pass, so rule compilation and model loading are not counted.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from listener.models import Post
from listener.relevance import load_classifier

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "eval" / "dev.jsonl"
SAMPLE = [
    {
        "id": "1",
        "title": "Acme raises $20M Series B",
        "text": "Led by Foo Ventures, the round will fund hiring.",
        "lang": "en",
    },
    {"id": "2", "title": "", "text": "Hoy cumplimos 25 años. ¡Gracias a todos nuestros clientes!", "lang": "es"},
    {
        "id": "3",
        "title": "Restructuring our team",
        "text": "Today we are eliminating 40 roles across sales.",
        "lang": "",
    },
    {"id": "4", "title": "", "text": "Happy Friday! What's your favourite coffee?", "source": "twitter"},
]


def load_posts(path: Path) -> list[Post]:
    """The posts of a JSON Lines file, or the built-in sample."""
    records = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()] if path.is_file() else SAMPLE
    return [
        Post(
            str(r["id"]),
            "",
            r.get("title", ""),
            r["text"],
            None,
            lang=r.get("lang", ""),
            source_kind=r.get("source", "rss"),
        )
        for r in records
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to measure")
    parser.add_argument("--no-hint", action="store_true", help="drop the declared language (always detect)")
    args = parser.parse_args()
    posts = load_posts(Path(args.file))
    if args.no_hint:
        posts = [Post(p.external_id, p.url, p.title, p.text, None, source_kind=p.source_kind) for p in posts]
    classifier = load_classifier()
    for post in posts:  # warm-up: language model load, regex caches
        classifier.classify(post)
    done, start = 0, time.process_time()
    while time.process_time() - start < args.seconds:
        for post in posts:
            classifier.classify(post)
        done += len(posts)
    elapsed = time.process_time() - start
    print(
        f"{done / elapsed:,.0f} posts/s ({done} posts in {elapsed:.2f}s of CPU time, {len(posts)} distinct, one core)"
    )


if __name__ == "__main__":
    main()
