"""Facts a suggestion needs, pulled from the post once its category is known.

Keys: amount, amount_value, currency, round, percent, role, person, award, award_by, partner, product, place,
event, years, topic.

Cue words are searched in the folded text (lower case, no accents) without IGNORECASE, which is several times
faster; names are then read from the original text at the same offsets, with their capitals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from listener.relevance.lexicon import FactWords, bundled_lexicon, cue_pattern
from listener.relevance.money import find_money, find_percent, find_round, might_hold_percent
from listener.relevance.numbers import NUMBER_WORDS, number_value
from listener.relevance.text import Prepared, fold

# The words come from each language's [facts] table (config/rules/<lang>.toml), compiled once per language when
# Listener starts; a post is read with its language's cues and the English ones (English mixes into every
# language), a language without a [facts] table with the English ones.
# Cue patterns check the word boundary once, before the alternation: a `\b` inside every branch makes the
# regex engine try each branch at each position (150 µs a post instead of 8).
# A proper name: capitalised words, with the small joiners names carry ("Bank of Ireland", "Cámara de Comercio").
_CAP = r"(?:[A-ZÁÉÍÓÚÑÜÇÀÈÌÒÙÂÊÎÔÛÄÖ0-9][\w&'’.\-]*|@\w+)"
_UPPER = "A-ZÁÉÍÓÚÑÄÖÜ"
_LOWER = "a-záéíóúñüçãõâêôàèìòùäöß'’"
_YEAR_NUMBER = "|".join(sorted((w.replace(" ", r"\s+") for w in NUMBER_WORDS), key=len, reverse=True))


@dataclass(frozen=True)
class Cues:
    """The compiled fact patterns of one language (with the English ones)."""

    name: re.Pattern[str]
    person: re.Pattern[str]
    role: re.Pattern[str]
    award: re.Pattern[str]
    award_by: re.Pattern[str]
    partner: re.Pattern[str]
    product: re.Pattern[str]
    product_tail: re.Pattern[str]  # the common noun a name modifies: "our Android app", "Spanish course catalogs"
    place: re.Pattern[str]
    event: re.Pattern[str]
    years: re.Pattern[str]
    years_phrases: dict[str, int]
    title_prefix: re.Pattern[str]
    not_person: frozenset[str]  # folded words that make a capitalised run no personal name (Group, Joins)
    role_joiners: frozenset[str]  # "and" between two roles of one person
    new_words: frozenset[str]  # folded "new" words: "new CEO" is the role "CEO" (the drafts say "the new role")


def compile_cues(words: FactWords, names: FactWords) -> Cues:
    """Turn one language's fact words into patterns (once, at start-up).

    Names travel between languages ("Banco de Chile" in an English post), so their small words come from
    `names`, every language's.
    """
    articles = f"(?:{cue_pattern(words.words('articles'))}\\s+)?"
    joiners = cue_pattern(names.words("name_joiners"))
    particles = cue_pattern(names.words("name_particles"))
    determiners = cue_pattern((*words.words("articles"), *words.words("product_determiners")))
    # A personal name: two to four capitalised words ("Jean-Dominique Senard"), particles ("de la") and
    # middle initials ("Ernesto M. Hernández") between them.
    word = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
    gap = r"[^\S\n]+"  # no name runs from the headline into the body ("... Levin Holle\nLevin Holle wird")
    modifiers = cue_pattern(words.words("role_modifiers"))
    return Cues(
        name=re.compile(rf"{_CAP}(?:{gap}(?:{joiners}{gap})?{_CAP}){{0,6}}"),
        person=re.compile(rf"{word}(?:{gap}(?:{particles}{gap})?(?:[{_UPPER}]\.{gap})?{word}){{1,3}}"),
        not_person=frozenset(words.words("not_person_words")),
        role_joiners=frozenset(words.words("role_joiners")),
        new_words=frozenset(fold(w) for w in words.words("product_new_words")),
        role=re.compile(rf"(?<!\w)(?:{modifiers}\s+){{0,2}}{cue_pattern(words.words('roles'))}(?!\w)"),
        award=re.compile(rf"(?<!\w){cue_pattern(words.words('award_cues'))}\s+{articles}"),
        award_by=re.compile(rf"(?<!\w){cue_pattern(words.words('award_giver_cues'))}\s+{articles}"),
        partner=re.compile(rf"(?<!\w){cue_pattern(words.words('partner_cues'))}[:,.!]?\s+{articles}"),
        product=re.compile(
            rf"(?<!\w){cue_pattern(words.words('product_cues'))}\s+(?:{determiners}\s+)*"
            rf"(?:{cue_pattern(words.words('product_new_words'))}\s+)?(?:{cue_pattern(words.words('product_nouns'))}\s+)?"
        ),
        # A capitalised run followed by a product noun names what the noun is about, not the product: "launching our
        # Spanish and Portuguese course catalogs" launches catalogs. Up to two words before the noun (the longest run
        # that ends in one), plurals too.
        product_tail=re.compile(
            rf"[^\S\n]+((?:[{_LOWER}][{_LOWER}-]*[^\S\n]+){{0,2}}{cue_pattern(words.words('product_nouns'))}s?)(?!\w)"
        ),
        # No article before a place: "in the JdV by Hyatt portfolio" is no place ("the U.S." is then missed).
        place=re.compile(rf"(?<!\w){cue_pattern(words.words('place_cues'))},?\s+"),
        event=re.compile(rf"(?<!\w){cue_pattern(words.words('event_cues'))}:?\s+{articles}"),
        years=re.compile(
            rf"(?<!\w)(\d{{1,3}}|{_YEAR_NUMBER})(?:{cue_pattern(words.words('ordinal_suffixes'))}|\.)?(?:-|\s)?"
            rf"{cue_pattern(words.words('year_words'))}(?!\w)"
            rf"|(?<!\w)({cue_pattern(words.table('years_phrases'))})(?!\w)"
        ),
        years_phrases=words.table("years_phrases"),
        title_prefix=re.compile(rf"^{cue_pattern(words.words('title_prefixes'))}\s*[:\-–—|]\s*"),
    )


_LEXICON = bundled_lexicon()
_ALL_FACTS = _LEXICON.all_facts()
_CUES = {lang: compile_cues(_LEXICON.facts_for(lang), _ALL_FACTS) for lang in _LEXICON.languages}
_DEFAULT_CUES = compile_cues(_LEXICON.facts_for("en"), _ALL_FACTS)
_STOP_NAMES = _LEXICON.name_stop_words  # each language's [lexicon] name_stop_words


def cues_for(lang: str) -> Cues:
    """The compiled cues for a post in `lang` (English ones for a language without a [facts] table)."""
    return _CUES.get(lang, _DEFAULT_CUES)


_SENTENCE_END = re.compile(r"(?<=[a-zà-ÿ]{2})\.\s")  # "Portugal. La cadena": not "U.S. Bank"
_MAX_NAME_WORDS = 5  # a longer capitalised run is a Title Case phrase ("to Better Serve Clients"), not a name


def _name_at(cues: Cues, original: str, offset: int) -> str:
    found = cues.name.match(original, offset)
    if found is None:
        return ""
    name = found.group(0).split("\n", 1)[0]  # the headline ends at its line break
    name = _SENTENCE_END.split(name, 1)[0].strip(" .,'’")
    # "As Classic Vehicle...", "We": a capitalised function word starts a sentence or a title, not a name.
    first = fold(name.split(" ", 1)[0]) if name else ""
    return "" if first in _STOP_NAMES else name


def _name_after(
    cues: Cues, cue: re.Pattern[str], prepared: Prepared, max_words: int = 0, letter_first: bool = False
) -> tuple[str, int]:
    """The first name after a cue; with `max_words`, a longer run is no name; `letter_first`: no "2022"."""
    for m in cue.finditer(prepared.folded):
        name = _name_at(cues, prepared.original, m.end())
        if not name:
            continue
        if max_words and len(name.split()) > max_words:
            continue
        if letter_first and not name[0].isalpha():
            continue
        return name, m.end() + len(name)
    return "", -1


def _people(cues: Cues, text: str, start: int, end: int) -> list[re.Match[str] | str]:
    """Personal names in text[start:end], in order; a run holding a company or headline word ("Acme Names
    Jane Doe", "Jane Doe Joins Acme") is cut there, and its part before that word kept if it is a name."""
    found: list[re.Match[str] | str] = []
    position = start
    while (m := cues.person.search(text, position, end)) is not None:
        words = list(re.finditer(r"[^\s\-]+", m.group(0)))
        stop = next((w for w in words if fold(w.group(0)) in cues.not_person), None)
        if stop is None:
            found.append(m)
            position = m.end()
            continue
        head = m.group(0)[: stop.start()].strip()
        # "Cambium Learning Group", "Parts Town Names": a run that ends with such a word names a company.
        if len(head.split()) >= 2 and stop is not words[-1]:
            found.append(head)
        position = m.start() + stop.end()
    return found


def _without_new(cues: Cues, role: str) -> str:
    """The role without a leading "new": the drafts say "on the new role as CEO", "por su nuevo puesto de
    directora médica", never "as new CEO"; "interim" and "acting" stay, they are part of the role."""
    words = role.split()
    while len(words) > 1 and fold(words[0]) in cues.new_words:
        words.pop(0)
    return " ".join(words)


def _person_and_role(cues: Cues, prepared: Prepared) -> dict[str, Any]:
    role = cues.role.search(prepared.folded)
    if not role:
        return {}
    text = prepared.original
    facts: dict[str, Any] = {"role": _without_new(cues, text[role.start() : role.end()])}
    # The person is the nearest personal name before the role, within one clause, or right after it with
    # nothing but punctuation, other roles and "and" between ("Founder and CEO Tom Reyes"; not "président et
    # Thierry Bolloré", another person's role). Company names and Title Case headline words are no person.
    before = _people(cues, text, max(0, role.start() - 80), role.start())
    after = [m for m in _people(cues, text, role.end(), role.end() + 60) if isinstance(m, re.Match)][:1]
    if after:
        gap = prepared.folded[role.end() : after[0].start()]
        words = re.findall(r"[^\W\d_]+", cues.role.sub(" ", gap))
        if (not words or cues.role.search(gap)) and all(word in cues.role_joiners for word in words):
            facts["person"] = after[0].group(0)
            return facts
    if before:
        last = before[-1]
        facts["person"] = last if isinstance(last, str) else last.group(0)
    return facts


def _topic(cues: Cues, prepared: Prepared) -> str:
    headline = prepared.original[: prepared.headline_end].strip()
    prefix = cues.title_prefix.match(prepared.folded)
    topic = headline[prefix.end() :] if prefix else headline
    topic = topic.strip(" .!:;—-\n")
    if len(topic) > 100:
        topic = topic[:100].rsplit(" ", 1)[0] + "…"
    return topic


def _category_facts(cues: Cues, prepared: Prepared, category: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if category in ("leadership", "departure"):
        facts.update(_person_and_role(cues, prepared))
    elif category == "award":
        award, end = _name_after(cues, cues.award, prepared)
        if award and (count := fold(award.split(" ", 1)[0])).isalpha() and number_value(count):
            award = ""  # "wins Ten 2022 ASTORS awards": a count, then the name
        if award:
            facts["award"] = award
            by = cues.award_by.search(prepared.folded, end, end + 40)
            giver = _name_at(cues, prepared.original, by.end()) if by else ""
            if giver and giver != award:
                facts["award_by"] = giver
    elif category in ("partnership", "customer_win", "acquisition"):
        partner, _ = _name_after(cues, cues.partner, prepared, _MAX_NAME_WORDS)
        if partner.endswith(("'s", "’s")):
            partner = ""  # "with Linden's team": a possessive names whose team, not a partner
        if partner:
            facts["partner"] = partner.lstrip("@")
    elif category == "launch":
        product, end = _name_after(cues, cues.product, prepared, _MAX_NAME_WORDS)
        tail = cues.product_tail.match(prepared.original, end) if product else None
        # "Orbit for our app" is no product noun run: the words before the noun are modifiers, never function words.
        if tail and not any(fold(word) in _STOP_NAMES for word in tail.group(1).split()[:-1]):
            product = f"{product} {tail.group(1)}"
        if product:
            facts["product"] = product
    elif category in ("expansion", "event"):
        place, _ = _name_after(cues, cues.place, prepared, _MAX_NAME_WORDS, letter_first=True)
        if place:
            facts["place"] = place
        if category == "event":
            event, _ = _name_after(cues, cues.event, prepared)
            if event:
                facts["event"] = event
    elif category == "milestone":
        years = cues.years.search(prepared.folded)
        if years:
            if years.group(1):
                value = number_value(years.group(1))
            else:  # a whole phrase: "a decade", "trent'anni"
                value = cues.years_phrases.get(" ".join(years.group(2).split()), 0)
            if value:
                facts["years"] = value
    return facts


def extract_facts(prepared: Prepared, category: str, lang: str) -> dict[str, Any]:
    """The facts worth quoting for this category; keys absent when not found."""
    facts: dict[str, Any] = {}
    money = find_money(prepared.original, prepared.folded, lang)
    if money:
        first = money[0]
        facts.update(amount=first.text, amount_value=first.value, currency=first.currency)
    if category == "funding" and (round_label := find_round(prepared.folded)):
        facts["round"] = round_label
    if "%" in prepared.original or might_hold_percent(prepared.folded):
        percent = find_percent(prepared.folded)
        if percent:
            facts["percent"] = percent
    cues = cues_for(lang)
    facts.update(_category_facts(cues, prepared, category))
    if category in ("content", "press", "launch", "update", "event", "plan"):
        topic = _topic(cues, prepared)
        if topic:
            facts["topic"] = topic
    return facts
