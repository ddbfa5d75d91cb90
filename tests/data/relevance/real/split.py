"""Add newly labelled real posts to the real set, a fifth of them to the blind split.

Usage: python tests/data/relevance/real/split.py NEW.jsonl

The split is a seeded random draw stratified by (kind, lang). It is incremental: items already in
dev.jsonl or blind.jsonl never move, and each stratum's blind share is topped up to a fifth of its new
total by drawing among the new items only, so blind items stay blind and dev items (which the rules
engineer may already have looked at) never become blind. A new item that repeats one already in the
real set, in the other relevance sets or in the shared development set is refused.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

SEED = 1212
HERE = Path(__file__).resolve().parent
DEV, BLIND = HERE / "dev.jsonl", HERE / "blind.jsonl"
ROOT = HERE.parents[3]
# The shared development set sits next to the main checkout (../shared), or two levels up from a worktree.
SHARED_DEV = [p / "shared" / "eval" / "dev.jsonl" for p in (ROOT.parent, ROOT.parent.parent)]
OTHER_SETS = [*sorted(HERE.parent.glob("*.jsonl")), *SHARED_DEV]
FIELDS = ("id", "title", "text", "source", "lang", "kind", "category", "origin")


def read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fingerprint(item: dict[str, str]) -> str:
    """Title and text with case, spacing and punctuation ignored: a reworded copy still differs."""
    return re.sub(r"\W+", " ", f"{item.get('title', '')} {item.get('text', '')}").strip().lower()


def main(new_path: str, dev_path: Path = DEV, blind_path: Path = BLIND, other_sets: list[Path] = OTHER_SETS) -> int:
    """Split the items of `new_path` into `dev_path` and `blind_path`; 2 and nothing written on bad input."""
    dev, blind, new = read(dev_path), read(blind_path), read(Path(new_path))
    known = {fingerprint(i) for path in other_sets for i in read(path)}
    known |= {fingerprint(i) for i in dev + blind}
    ids = {i["id"] for i in dev + blind}
    for item in new:
        if tuple(item) != FIELDS or not item["origin"]:
            print(f"{item.get('id')}: fields must be {FIELDS}, with an origin", file=sys.stderr)
            return 2
        if item["id"] in ids or fingerprint(item) in known:
            print(f"{item['id']}: repeats an item already in a set; drop it", file=sys.stderr)
            return 2
        ids.add(item["id"])
        known.add(fingerprint(item))

    def stratum(i: dict[str, str]) -> tuple[str, str]:
        return (i["kind"], i["lang"])

    total = Counter(map(stratum, dev + blind + new))
    in_blind = Counter(map(stratum, blind))
    fresh: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for item in new:
        fresh[stratum(item)].append(item)
    chosen: set[str] = set()
    for key, items in sorted(fresh.items()):
        need = max(0, min(len(items), int(total[key] / 5 + 0.5) - in_blind[key]))
        rng = random.Random(f"{SEED}:{key[0]}:{key[1]}:{total[key]}")
        chosen |= {i["id"] for i in rng.sample(sorted(items, key=lambda i: i["id"]), need)}
    with dev_path.open("a", encoding="utf-8") as d, blind_path.open("a", encoding="utf-8") as b:
        for item in new:
            (b if item["id"] in chosen else d).write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(new) - len(chosen)} to dev, {len(chosen)} to blind")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: split.py NEW.jsonl", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
