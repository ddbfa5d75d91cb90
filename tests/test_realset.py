"""The real-world relevance set (tests/data/relevance/real): well-formed, labelled by the taxonomy, big
enough for the targets of issue #12, apart from the other sets, and split so that blind items stay blind."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from listener.models import CATEGORIES, Kind

REAL = Path(__file__).parent / "data" / "relevance" / "real"
FIELDS = ("id", "title", "text", "source", "lang", "kind", "category", "origin")


def _split_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("realset_split", REAL / "split.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


split = _split_module()


def _read(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


DEV = _read(REAL / "dev.jsonl")
BLIND = _read(REAL / "blind.jsonl")
ALL = DEV + BLIND


def test_every_item_has_the_fields_a_valid_label_and_an_origin() -> None:
    for item in ALL:
        assert tuple(item) == FIELDS, item["id"]
        assert re.fullmatch(r"real-\d{4}", item["id"]), item["id"]
        assert item["category"] in CATEGORIES[Kind(item["kind"])], item["id"]
        assert item["source"] in ("rss", "twitter", "reddit"), item["id"]
        assert item["origin"].strip(), item["id"]
        assert (item["title"] + item["text"]).strip(), item["id"]
        # Short quotations only: a feed summary's length, not an article.
        # A Reddit post's title is its headline, quoted whole: Reddit allows 300 characters there.
        assert len(item["title"]) <= (300 if item["source"] == "reddit" else 200), item["id"]
        assert len(item["text"]) <= 600, item["id"]


def test_ids_are_unique_and_no_item_repeats_another_set() -> None:
    assert len({i["id"] for i in ALL}) == len(ALL)
    fingerprints = [split.fingerprint(i) for i in ALL]
    assert len(set(fingerprints)) == len(fingerprints), "an item appears twice in the real set"
    others = {split.fingerprint(i) for path in split.OTHER_SETS for i in split.read(path)}
    assert not others & set(fingerprints), "a real item repeats one of the other evaluation sets"


def test_the_set_meets_the_size_targets_of_the_issue() -> None:
    langs = Counter(i["lang"] for i in ALL)
    challenges = Counter(i["category"] for i in ALL if i["kind"] == "challenge")
    assert len(ALL) >= 500
    assert langs["es"] >= 120
    assert all(langs[lang] > 0 for lang in ("fr", "pt", "de", "it", "ca")), langs
    assert sum(challenges.values()) >= 60
    assert set(challenges) == set(CATEGORIES[Kind.CHALLENGE]), challenges
    assert {i["kind"] for i in ALL} == {k.value for k in Kind}


AUDIT = {row["id"]: row for row in _read(REAL / "audit.jsonl")}


# The twelfth collection (real-7416 on) was split after the first label audit and audited after its own split.
TWELFTH = "twelfth collection"


def _kind_before_the_audit(item: dict[str, str]) -> str:
    """The kind an item had before any audit: what split.py saw when it drew the first eleven collections."""
    return AUDIT[item["id"]]["was"].split("/")[0]


def _kind_at_the_twelfth_split(item: dict[str, str]) -> str:
    """What split.py saw when it drew the twelfth collection: its collectors' labels, the audited ones before it."""
    row = AUDIT[item["id"]]
    return (row["was"] if TWELFTH in row["sample"] else row["final"]).split("/")[0]


def _assert_a_fifth_blind(items: list[dict[str, str]], kind_of: Callable[[dict[str, str]], str],
                          strata: set[tuple[str, str]] | None = None) -> None:  # fmt: skip
    blind_ids = {i["id"] for i in BLIND}
    total = Counter((kind_of(i), i["lang"]) for i in items)
    blind = Counter((kind_of(i), i["lang"]) for i in items if i["id"] in blind_ids)
    for stratum, n in total.items():
        if n >= 10 and (strata is None or stratum in strata):
            assert abs(blind[stratum] - n / 5) <= 1, (stratum, blind[stratum], n)


def test_a_fifth_is_blind_within_every_large_stratum() -> None:
    # split.py keeps a fifth of every (kind, language) stratum blind, by the labels it sees when it draws; an audit
    # that relabels posts afterwards moves them between strata, so each draw is checked by the labels it saw.
    assert 0.17 <= len(BLIND) / len(ALL) <= 0.23
    first_eleven = [i for i in ALL if TWELFTH not in AUDIT[i["id"]]["sample"]]
    _assert_a_fifth_blind(first_eleven, _kind_before_the_audit)
    # The twelfth draw topped up only the strata its own posts fall in (it never moves an older post).
    drawn = {(_kind_at_the_twelfth_split(i), i["lang"]) for i in ALL if TWELFTH in AUDIT[i["id"]]["sample"]}
    _assert_a_fifth_blind(ALL, _kind_at_the_twelfth_split, drawn)


def _write(path: Path, items: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")


def _item(n: int, kind: str = "win", category: str = "funding", lang: str = "en") -> dict[str, str]:
    return {
        "id": f"real-{9000 + n:04d}",
        "title": f"Example Co raises round number {n}",
        "text": f"Item {n} of a synthetic batch used only to exercise the split.",
        "source": "rss",
        "lang": lang,
        "kind": kind,
        "category": category,
        "origin": "tests/test_realset.py",
    }


def test_split_keeps_blind_items_blind_and_tops_each_stratum_up_to_a_fifth(tmp_path: Path) -> None:
    dev, blind, new = tmp_path / "dev.jsonl", tmp_path / "blind.jsonl", tmp_path / "new.jsonl"
    _write(new, [_item(n) for n in range(10)])
    assert split.main(str(new), dev, blind, []) == 0
    first_blind = _read(blind)
    assert len(first_blind) == 2 and len(_read(dev)) == 8

    _write(new, [_item(n) for n in range(10, 20)])
    assert split.main(str(new), dev, blind, []) == 0
    blind_ids = [i["id"] for i in _read(blind)]
    assert blind_ids[:2] == [i["id"] for i in first_blind]  # earlier blind items stay blind
    assert len(blind_ids) == 4 and len(_read(dev)) == 16
    assert not {i["id"] for i in _read(dev)} & set(blind_ids)


@pytest.mark.parametrize(
    "bad",
    [
        # The same words as a known item in other case, spacing and punctuation.
        {**_item(1), "title": "  EXAMPLE co raises round NUMBER 0!", "text": _item(0)["text"].upper()},
        {k: v for k, v in _item(2).items() if k != "origin"},  # no origin
        {**_item(3), "origin": ""},
    ],
)
def test_split_refuses_repeats_and_items_without_origin_and_writes_nothing(tmp_path: Path, bad: dict) -> None:
    dev, blind, new, other = (tmp_path / n for n in ("dev.jsonl", "blind.jsonl", "new.jsonl", "other.jsonl"))
    _write(other, [_item(0)])
    _write(new, [_item(5), bad])
    assert split.main(str(new), dev, blind, [other]) == 2
    assert not dev.exists() and not blind.exists()


def test_every_post_was_audited_and_carries_its_audits_final_label() -> None:
    # audit.jsonl: each post's label before the audit, a second annotator's and the final one (agreement.py)
    items = {i["id"]: i for i in ALL}
    assert set(AUDIT) == set(items), "every post, dev and blind, was audited"
    for row in AUDIT.values():
        assert tuple(row) == ("id", "sample", "was", "second", "final"), row["id"]
        for label in (row["was"], row["second"], row["final"]):
            kind, category = label.split("/")
            assert category in CATEGORIES[Kind(kind)], (row["id"], label)
        item = items[row["id"]]
        assert row["final"] == f"{item['kind']}/{item['category']}", row["id"]
        # Where the two annotators agreed, the label stood; an adjudicator decided only where they did not.
        if row["was"] == row["second"]:
            assert row["final"] == row["was"], row["id"]
