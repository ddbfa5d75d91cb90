"""Throughput of the relevance filter on an open vocabulary: every post is new and brings new words.

    .venv/bin/python bench/classify_open.py [--posts 4000] [--feeds 200] [--seed 1] [--no-hint] [--runs 1]

bench/classify.py classifies the same 220 posts in a loop, so after the first lap every word, number and
customer name is in some cache. A real ingest is not like that: each post brings names, numbers and made-up
product names never seen before, and each feed belongs to a customer of its own. This benchmark measures that
case, reproducibly (a seeded generator, no network, no randomness left to the run):

- `--posts` posts are generated from the sentences of ../shared/eval/dev.jsonl (a small built-in sample when
  it is absent). Post i belongs to feed i % `--feeds`, whose customer is "Customer N" (CustomerHints with that
  name), and keeps the dev record's declared language (dropped with --no-hint: the language is detected).
- Each post mixes one or two dev texts (their title as headline when there is one) with unique tokens: made-up
  names and product names ("Vorlentix", "Quabrino X7"), numbers ("48213", "3.7"), amounts ("$4.2M"), handles
  and hashtags, and now and then its customer's name, so the name masking runs as it does in production.
- A fresh classifier is loaded and warmed up on the dev posts (rules compiled, language model loaded: those
  are start-up costs, not per-post ones); then every generated post is classified once (the "first pass",
  the figure that matters) and once more (the "repeat pass", for comparison: every word now cached).

Prints posts/s and ms/post of both passes, in CPU time on one core (time.process_time), for each run; with
`--runs N` each run generates a fresh set of posts (seed, seed+1, ...) on a fresh classifier and the median
of the first-pass figures is printed last.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from listener.models import Post  # noqa: E402
from listener.relevance import CustomerHints, load_classifier  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
SAMPLE = [  # used when ../shared/eval is absent
    {"title": "Acme raises $20M Series B", "text": "Led by Foo Ventures, the round will fund hiring.", "lang": "en"},
    {"title": "", "text": "Hoy cumplimos 25 años. ¡Gracias a todos nuestros clientes!", "lang": "es"},
    {"title": "Restructuring our team", "text": "Today we are eliminating 40 roles across sales.", "lang": "en"},
    {"title": "", "text": "Happy Friday! What's your favourite coffee?", "lang": "en", "source": "twitter"},
    {"title": "Nous ouvrons un bureau à Lyon", "text": "Notre équipe s'agrandit avec dix postes.", "lang": "fr"},
]
_ONSETS = ["b", "br", "c", "cl", "d", "dr", "f", "fl", "g", "gr", "k", "l", "m", "n", "p", "pl", "qu", "r", "s",
           "st", "t", "tr", "v", "w", "z", "zh", "x", "j"]  # fmt: skip
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ei", "y"]
_CODAS = ["", "", "n", "r", "l", "x", "s", "nt", "m", "k"]
_SUFFIXES = ["", "", "", " X7", " Pro", " 360", " Cloud", " One", " Labs", " AI", " 2", " Go"]


def load_records(path: Path = DEV) -> list[dict[str, str]]:
    """The dev records (title, text, lang, source), or the built-in sample."""
    if not path.is_file():
        return SAMPLE
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))


def _token(rng: random.Random, serial: int, customer: str) -> str:
    """One token that was (almost surely) never seen before: a name, a number, an amount, a handle..."""
    kind = rng.randrange(10)
    if kind <= 2:  # a made-up name or product name
        return _word(rng, rng.randint(2, 4)).capitalize() + rng.choice(_SUFFIXES)
    if kind == 3:  # a person
        return f"{_word(rng, 2).capitalize()} {_word(rng, rng.randint(2, 3)).capitalize()}"
    if kind == 4:  # a bare number: order ids, counts, years, versions
        order_id, count = str(serial * 7 + rng.randrange(7)), f"{rng.randint(1, 999)}"
        numbers = [order_id, count, f"{rng.randint(1, 99)}.{rng.randint(0, 9)}"]
        return rng.choice(numbers)
    if kind == 5:  # an amount or a percentage
        dollars, percent = f"${rng.randint(1, 900)}.{rng.randint(1, 9)}M", f"{rng.randint(2, 99)}%"
        amounts = [dollars, percent, f"€{rng.randint(1, 50)},{rng.randint(0, 9)}k"]
        return rng.choice(amounts)
    if kind == 6:  # a lower-case made-up word (a brand written small, a typo, a word of another language)
        return _word(rng, rng.randint(2, 3))
    if kind == 7:
        return rng.choice(["#", "@"]) + _word(rng, 2) + str(rng.randrange(100))
    if kind == 8:  # a code or an alphanumeric id
        return f"{_word(rng, 1).upper()}-{serial}{rng.randrange(10)}"
    return customer  # the customer's own name, in the text (masked by the classifier)


def _mix(rng: random.Random, text: str, serial: int, customer: str) -> str:
    """`text` with a new token after every 4 to 9 words."""
    out: list[str] = []
    gap = rng.randint(4, 9)
    for word in text.split():
        out.append(word)
        gap -= 1
        if gap == 0:
            out.append(_token(rng, serial, customer))
            gap = rng.randint(4, 9)
    return " ".join(out)


def generate(n: int = 4000, feeds: int = 200, seed: int = 1, records: list[dict[str, str]] | None = None,
             hint: bool = True) -> list[tuple[Post, CustomerHints]]:  # fmt: skip
    """`n` new posts with their customer's hints, the same for the same arguments."""
    records = records if records is not None else load_records()
    rng = random.Random(seed)
    posts: list[tuple[Post, CustomerHints]] = []
    for i in range(n):
        customer = f"Customer {i % feeds + 1}"
        serial = seed * 1_000_000 + i
        first = records[rng.randrange(len(records))]
        text = first["text"]
        if rng.random() < 0.4:  # a longer post: two dev texts of the same language
            same = [r for r in records if r.get("lang") == first.get("lang")] or records
            text += " " + rng.choice(same)["text"]
        title = first.get("title", "")
        if title:
            title = _mix(rng, title, serial, customer) if rng.random() < 0.5 else title
            if rng.random() < 0.3:
                title = f"{customer}: {title}"
        post = Post(
            f"open-{seed}-{i}",
            "",
            title,
            _mix(rng, text, serial, customer),
            None,
            lang=first.get("lang", "") if hint else "",
            source_kind=first.get("source", "rss"),
        )
        posts.append((post, CustomerHints(name=customer)))
    return posts


def _pass(classifier: object, posts: list[tuple[Post, CustomerHints]]) -> float:
    classify = classifier.classify  # type: ignore[attr-defined]
    start = time.process_time()
    for post, hints in posts:
        classify(post, hints)
    return time.process_time() - start


def _runs(args: argparse.Namespace) -> Iterator[float]:
    records = load_records()
    # With and without the declared language: the second loads the language model.
    warm = [
        Post("warm", "", r.get("title", ""), r["text"], None, lang=lang)
        for r in records
        for lang in (r.get("lang", ""), "")
    ]
    for run in range(args.runs):
        posts = generate(args.posts, args.feeds, args.seed + run, records, hint=not args.no_hint)
        classifier = load_classifier()
        for post in warm:  # rules compiled, language model loaded, regexes of the common words cached
            classifier.classify(post, CustomerHints(name="Warm-up Customer"))
        first = _pass(classifier, posts)
        repeat = _pass(classifier, posts)
        n = len(posts)
        print(
            f"run {run + 1}: first pass {n / first:,.0f} posts/s ({1000 * first / n:.3f} ms/post), "
            f"repeat pass {n / repeat:,.0f} posts/s ({1000 * repeat / n:.3f} ms/post); "
            f"{n} posts, {args.feeds} customers, {'declared language' if not args.no_hint else 'no hint'}, one core"
        )
        yield n / first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=4000, help="posts generated (each classified once)")
    parser.add_argument("--feeds", type=int, default=200, help="feeds, one customer each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="runs, each on new posts and a fresh classifier")
    parser.add_argument("--no-hint", action="store_true", help="drop the declared language (always detect)")
    args = parser.parse_args()
    figures = list(_runs(args))
    if len(figures) > 1:
        print(f"median first pass: {statistics.median(figures):,.0f} posts/s over {len(figures)} runs")


if __name__ == "__main__":
    main()
