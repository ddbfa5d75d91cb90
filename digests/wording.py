"""Facts made fit for a sentence a rep sends: names checked against the post, titles cut cleanly, rounds localized."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from digests.contacts import first_name
from digests.labels import labels
from digests.select import ContactInfo, CustomerInfo, InsightInfo
from digests.suggest import Drafter, base_language, clean_facts, hello, phrasebook

# Facts that name something: each must read in the post as it is, or it stays out of the sentence.
NAME_FACTS = ("person", "partner", "place", "country", "award", "award_by", "event", "product", "role")
# Facts about another company, person or place must not be the customer itself ("congratulations to Acme").
NOT_THE_CUSTOMER = ("person", "partner", "award_by", "place")
TITLE_CHARS = 90
MENTION_CHARS = 50
_BOUNDARY = re.compile(r"(?::\s|\s[–—|-]\s|,\s|\.\s|\?\s|!\s)")
_ROUNDS_ES = {
    "Seed": "ronda semilla",
    "Pre-seed": "ronda presemilla",
    "Bridge": "ronda puente",
    "IPO": "salida a bolsa",
}
# A place is a proper name: capitalised, no digits ("120" from "120,000 sq ft" is not a place).
_PROPER_NAME = re.compile(r"^[^\W\d_][^\d]*$")
_FINALIST = re.compile(
    r"\b(finalists?|shortlist(?:ed)?|nominated|nominees?|finalistas?|nominad[oa]s?|finaliste|nomin[ée]e?s?|"
    r"finalisten|nominiert|finalisti|candidat[oi] finalist\w*)\b",
    re.IGNORECASE,
)


def fold(text: str) -> str:
    """Lower case, accents off, one space: for comparing what a fact says with what the post says."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^\w&$€£%]+", " ", plain.lower()).split())


def clip_title(title: str, limit: int = TITLE_CHARS, shortest: int = 25) -> str:
    """A title short enough to quote in a message, cut where the title itself pauses (a colon, a dash, a comma).

    A clean cut beats an ellipsis inside a quotation the rep sends; a word cut with "…" is the last resort.
    """
    line = " ".join((title or "").split()).strip(" .;:")
    if len(line) <= limit:
        return line
    cuts = [m.start() for m in _BOUNDARY.finditer(line) if shortest <= m.start() <= limit]
    if cuts:
        return line[: cuts[-1]].rstrip(" ,;:")
    return line[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def localize_round(label: str, language: str) -> str:
    """The classifier names rounds in English ("Series A"); a Spanish sentence says "Serie A"."""
    if base_language(language) != "es" or not label:
        return label
    if label.startswith("Series "):
        return "Serie " + label.removeprefix("Series ")
    return _ROUNDS_ES.get(label, label)


def _strip_customer(value: str, customer: str) -> str:
    """`Harbor & Pine Home Goods Nimbus Logistics` -> `Harbor & Pine Home Goods` for customer Nimbus Logistics."""
    name = customer.strip(" .")
    pattern = re.compile(rf"(?:^|\s){re.escape(name)}\.?(?=\s|$)", re.IGNORECASE) if name else None
    if pattern is None:
        return value
    return " ".join(pattern.sub(" ", value).split()).strip(" ,;:-")


def sentence_facts(
    facts: Mapping[str, Any],
    *,
    category: str,
    customer: str,
    title: str,
    text: str,
    post_language: str,
    language: str,
) -> dict[str, Any]:
    """Facts a phrasebook template may put in a sentence, plus `title` (quotable) and `topic` (what it is about).

    - a name (person, partner, place...) is kept only if it reads in the title or the text as extracted, so a
      name glued across the headline and the body ("Tacoma Eight") stays out, and it is never the customer;
    - `topic` is kept only when it says something the title does not: the classifier's topic is often the
      headline itself, and "Great read on <headline>" parrots it; templates quote the title instead;
    - for a plan, the words after the title's colon are the goal ("Our 2027 plan: robots in 100 warehouses");
    - the round is said in the sentence's language.
    """
    out = clean_facts(facts)
    haystacks: tuple[str, ...] = ()
    for key in NAME_FACTS:
        value = out.get(key)
        if not isinstance(value, str):
            continue
        haystacks = haystacks or (fold(title), fold(text))
        value = _whole_name(value, title)
        if key in NOT_THE_CUSTOMER:
            value = _strip_customer(value, customer)
        folded = fold(value)
        if (
            not folded
            or folded == fold(customer)
            or not any(f" {folded} " in f" {h} " for h in haystacks)
            or (key in ("place", "country") and not _PROPER_NAME.match(value))
        ):
            out.pop(key)
        else:
            out[key] = value
    # An amount keeps its currency: a bare number ("120") is not money the rep can congratulate on.
    if "amount" in out and (not out.get("currency") or not re.search(r"\D", str(out["amount"]))):
        out.pop("amount")
    same_language = not post_language or post_language == language
    clean_title = clip_title(title)
    topic = out.get("topic")
    if isinstance(topic, str) and (not same_language or _is_title(topic, title)):
        out.pop("topic")
    if "topic" not in out and same_language and category == "plan":
        goal = _goal_in(title)
        if goal:
            out["topic"] = goal
    out["title"] = clean_title
    if isinstance(out.get("round"), str):
        out["round"] = localize_round(out["round"], language)
    return out


_POSSESSIVE = re.compile(r"^(?P<stem>.+?)['’]s$")


def _whole_name(value: str, title: str) -> str:
    """A name the extractor took in the possessive ("Linden's own trainers") is cut from the name the headline
    gives in full ("Linden Hospitality Group picks..."): that full name, else the bare stem if the title names
    it, else nothing ("congratulations on the deal with Linden's!" is never sent)."""
    match = _POSSESSIVE.match(value.strip())
    if match is None:
        return value
    stem = match.group("stem")
    found = re.search(rf"(?<!\w){re.escape(stem)}(?:\s+[A-Z][\w&.-]*)*", title)
    return found.group(0) if found else ""


def _is_title(topic: str, title: str) -> bool:
    """True when the topic is the headline (or its tail after a "Guide:" prefix), not a phrase of its own."""
    t, h = fold(topic).rstrip("."), fold(title)
    return bool(t) and (t == h or (h.endswith(t) and len(t) >= 0.6 * len(h)) or t.startswith(h))


def _goal_in(title: str) -> str:
    """The words after a colon in a title, when they are a phrase of their own (3 words or more)."""
    _, sep, tail = " ".join(title.split()).partition(": ")
    tail = tail.strip(" .!")
    if not sep or len(tail.split()) < 3 or len(tail) > TITLE_CHARS:
        return ""
    words = tail.split()
    # Sentence case ("Duplicar las tiendas..."): the capital is the title's, not a name's.
    if words[0][:1].isupper() and words[0][1:].islower() and words[1].islower():
        return tail[0].lower() + tail[1:]
    return tail


def is_finalist(insight: InsightInfo) -> bool:
    """A nomination, not a win: "finalist for", "finalistas", "shortlisted"."""
    return bool(_FINALIST.search(f"{insight.title} {insight.text[:400]}"))


def join_phrases(phrases: Sequence[str], language: str) -> str:
    """`a, b and c` / `a, b y c`."""
    items = [p for p in phrases if p]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + labels(language)["and"] + items[-1]


def suggestion_context(
    customer: CustomerInfo, language: str, insight: InsightInfo | None = None, contact: ContactInfo | None = None
) -> dict[str, object]:
    """What a phrasebook template may use: the greeting, the customer, the post's facts, what it is about."""
    name = first_name(contact) if contact is not None else customer.first_name
    context: dict[str, object] = {
        "first_name": name,
        "customer": customer.name,
        "hello": hello(name, customer.name, language),
    }
    if insight is not None:
        facts = sentence_facts(
            insight.facts,
            category=insight.category,
            customer=customer.name,
            title=insight.title,
            text=insight.text,
            post_language=insight.language,
            language=language,
        )
        context.update(facts)
        context.setdefault("topic", "")
    return context


def mention(insight: InsightInfo, customer: CustomerInfo, language: str, drafter: Drafter) -> str:
    """How a message to the customer names one topic: a short phrase from `mention_<category>`, else its title."""
    entry = f"mention_{insight.category}"
    context = suggestion_context(customer, language, insight)
    # Several topics share one sentence: a title is named by its head ("Tallyo 4.0") when it has a clean one.
    full = str(context.get("title") or "")
    head = clip_title(full, MENTION_CHARS, shortest=8)
    context["title"] = head if not head.endswith("…") else full
    if entry in phrasebook(language):
        return drafter.draft(entry, language, f"mention:{insight.id}", context)
    title = str(context.get("title") or "")
    words = labels(language)
    opening, closing = words["quote.open"], words["quote.close"]
    return f"{opening}{title}{closing}" if title else ""
