"""One story's item: addressed to the right contact, in their language, with only facts the post states."""

from __future__ import annotations

from datetime import date
from typing import Any

from digests.contacts import contact_for, draft_language
from digests.labels import labels
from digests.model import Item
from digests.select import CustomerInfo, InsightInfo, RepSnapshot
from digests.stories import Story
from digests.suggest import Drafter, base_language
from digests.text import headline, safe_links
from digests.wording import clip_title, is_finalist, suggestion_context

# Below this confidence a challenge may be something else entirely (a win read as a farewell): no draft, a look.
SURE_CHALLENGE = 0.6
_WHAT_FACTS = ("place", "partner", "product", "award", "round", "person", "event")
# Wins whose drafts describe an event (a move to a new place) that only a fact of the post can confirm.
_NEEDS_FACT = {"expansion": ("place", "country")}


def story_item(
    story: Story, customer: CustomerInfo, snap: RepSnapshot, drafter: Drafter, words: dict[str, str], on: date
) -> tuple[Item, str]:
    """The item for one story and a few words naming it (for the "today" line and the subject)."""
    contact = contact_for(customer, story.lead.category)
    language = draft_language(contact, customer, snap.language)
    lead = _lead(story, language)
    context = suggestion_context(customer, language, lead, contact)
    entry, note = _entry(lead, words, context)
    unsure = lead.facts.get("unsure")
    if not unsure and lead.kind == "challenge" and lead.score < SURE_CHALLENGE:
        unsure = words["unsure.low"]  # a bad-news draft on a guess is the draft that embarrasses the rep
    suggestion = ""
    look = ""
    if unsure:
        look = words["look"].format(reason=" ".join(str(unsure).split())[:80])
    else:
        suggestion = drafter.draft(entry, language, f"insight:{lead.id}", context)
    what = _what(context, lead)
    # the quoted post's comments page, else another of the story's posts' (only a feed names one); a link of its
    # own (the "Comment on the post" action), not one of the post's links
    comments = next(iter(safe_links([lead.comments_url, *(i.comments_url for i in story.posts)])), "")
    why = human_why(customer, on, words, lead, context, merged=len(story.posts), unsure=bool(unsure))
    return (
        Item(
            customer=customer.name,
            headline=headline(lead.title, lead.text),
            suggestion=suggestion,
            why=" ".join(p for p in (note, why) if p),
            links=safe_links(url for url in story.links if url != comments),
            comments_url=comments,
            kind=lead.kind,
            category=lead.category,
            mixed=_mixed(lead),
            insight_ids=story.insight_ids,
            customer_id=customer.id,
            contact_name=contact.name if contact and suggestion else "",
            contact_email=contact.email if contact and suggestion else "",
            subject=_subject(what, customer, lead.kind, language) if suggestion else "",
            details=_details(story, words),
            look=look,
            language=language if suggestion else "",
        ),
        # The rep's own lines (today, the subject) name a fact, never a post's title cut short (often in another
        # language than the rep's): without a fact they say "Congratulate Acme".
        what if _fact_what(context) else "",
    )


def _lead(story: Story, language: str) -> InsightInfo:
    """The post the item quotes: the best one written in the draft's language, else the best one."""
    same = [i for i in story.posts if i.language and i.language == base_language(language)]
    return same[0] if same else story.lead


def _mixed(lead: InsightInfo) -> bool:
    """A win the filter saw job cuts beside (taxonomy.md: never congratulate on those cuts)."""
    return lead.kind == "win" and bool(lead.facts.get("caution"))


def _entry(lead: InsightInfo, words: dict[str, str], context: dict[str, Any]) -> tuple[str, str]:
    """The phrasebook entry for a post, and a note for the rep when the wording had to change."""
    if _mixed(lead):
        # The filter saw job cuts in a win: never congratulate on those cuts (taxonomy.md).
        return "update", words["cuts.why"]
    if lead.kind == "win" and lead.category == "award" and is_finalist(lead):
        return "award_finalist", ""
    if (
        lead.kind == "win"
        and lead.category in _NEEDS_FACT
        and not any(context.get(f) for f in _NEEDS_FACT[lead.category])
    ):
        # "Congratulations on the expansion! ... make the move easier?" about a new coffee: a kind of win whose
        # draft names an event the post may not describe is congratulated on the news instead.
        return "win_plain", ""
    return lead.category, ""


def _fact_what(context: dict[str, Any]) -> str:
    for key in _WHAT_FACTS:
        value = context.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _what(context: dict[str, Any], lead: InsightInfo) -> str:
    return _fact_what(context) or clip_title(lead.title or lead.text, 40, shortest=10)


def _subject(what: str, customer: CustomerInfo, kind: str, language: str) -> str:
    """The draft's subject line, in the draft's language (the customer reads it, not the rep)."""
    if kind == "challenge":
        # Bad news is not named in the customer's inbox ("Acme: Is Acme down for anyone else?", "Acme: layoffs"):
        # the draft says what it is about; the subject only opens the door.
        return f"{customer.name}: {labels(language)['subject.challenge']}"
    # "Clínicas Alba: Clínicas Alba" when the fact picked is the customer's own name: the name alone then.
    return f"{customer.name}: {what}" if what and what.casefold() != customer.name.casefold() else customer.name


def _details(story: Story, words: dict[str, str]) -> str:
    """The evidence, for whoever wants it: the filter's cues and score, per post."""
    parts = []
    for insight in story.posts[:3]:
        cues = ", ".join(f"“{' '.join(e.split())[:50]}”" for e in insight.evidence[:3] if e.strip())
        parts.append(f"{cues} {words['score']} {insight.score:.2f}".strip())
    return f"{words['evidence']}: " + " · ".join(parts)


def days_since_touch(customer: CustomerInfo, on: date) -> int:
    reference = customer.last_touch or customer.created_at
    return (on - reference.date()).days


def human_why(
    customer: CustomerInfo,
    on: date,
    words: dict[str, str],
    lead: InsightInfo | None = None,
    context: dict[str, Any] | None = None,
    merged: int = 1,
    unsure: bool = False,
) -> str:
    """Why this matters, as a person would say it: "58 days since your last touch; they just raised $18M".

    An item the filter is unsure of is "something to comment on": neither "good news" nor "a hard moment" beside a
    "take a look" line (the kind is the very thing in doubt: a partnership the guard held back reads as a challenge).
    """
    parts = []
    days = days_since_touch(customer, on)
    if days > customer.cadence_days:
        parts.append(words["why.days"].format(days=days) if customer.last_touch else words["why.never"])
    if lead is not None:
        amount = (context or {}).get("amount")
        if _mixed(lead) or unsure:
            parts.append(words["why.news"])  # no "good news" beside job cuts, no verdict on a kind in doubt
        elif lead.kind == "win" and lead.category == "funding":
            parts.append(words["why.funding"].format(amount=amount) if amount else words["why.funding.plain"])
        else:
            parts.append(words[f"why.{lead.kind}"])
    if merged > 1:
        parts.append(words["why.merged"].format(n=merged))
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]
