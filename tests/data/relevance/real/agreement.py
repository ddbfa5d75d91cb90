"""How consistently the real set is labelled: the label audit's figures, from audit.jsonl.

Each audited post has the label it had before the audit (`was`), a second annotator's independent label
(`second`: from the text alone, without the first label or any program's output) and the label it has now
(`final`: `was` where the two agreed, else an adjudicator's choice between the two, or a third label, made
without knowing which label was which). Usage: python3 agreement.py [audit.jsonl]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent


def kind(label: str) -> str:
    return label.split("/", 1)[0]


def main(path: Path) -> None:
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            groups[row["sample"]].append(row)
    print("| sample | posts | kind agreed | category agreed | kind changed by the audit | category changed |")
    print("| --- | --- | --- | --- | --- | --- |")
    for sample, rows in sorted(groups.items()):
        n = len(rows)
        kinds = sum(kind(r["was"]) == kind(r["second"]) for r in rows)
        categories = sum(r["was"] == r["second"] for r in rows)
        kind_changed = sum(kind(r["was"]) != kind(r["final"]) for r in rows)
        changed = sum(r["was"] != r["final"] for r in rows)
        print(
            f"| {sample} | {n} | {kinds / n:.3f} | {categories / n:.3f} | {kind_changed} ({kind_changed / n:.1%}) "
            f"| {changed} ({changed / n:.1%}) |"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "audit.jsonl")
