"""The morning brief's rules, on a real SQLite file: budget and ranking, one story one item (across languages),
the draft's contact and language, locale forms, the fact check, unsure items, the cadence flag, agenda questions
and the .ics. Companies and posts here are made up for these tests, not the demo's."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from icalendar import Calendar

from digests.build import build_digest
from digests.deliver import is_workday
from digests.locale import locale_chain
from digests.model import Digest as DigestModel
from digests.model import Item
from digests.render import render
from listener.cli.app import App
from listener.db.schema import Rep
from listener.settings import Settings
from tests.test_digest_helpers import NOW, TODAY, add_contact, add_customer, add_insight, add_rep, log


def build(app: App, email: str = "ana@example.com", settings: Settings | None = None) -> DigestModel:
    with app.transaction() as session:
        rep = session.query(Rep).filter_by(email=email).one()
        return build_digest(session, settings or app.settings, rep, TODAY, NOW)


def items_of(digest: DigestModel, customer: str) -> list[Item]:
    return [i for i in digest.items() if i.customer == customer]


def test_budget_ranks_customers_and_names_the_rest_in_one_line(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        for n in range(11):
            customer = add_customer(session, rep, f"Firm {n:02d}")
            add_contact(session, customer, f"Kim Lee{n}", role="CEO")
            add_insight(session, customer, "news", "content", f"Notes from the field, part {n}", score=0.7)
            log(session, customer, "call", 3)
        troubled = add_customer(session, rep, "Brightwave Ferries", tier="A")
        add_contact(session, troubled, "Ines Moreau", role="CTO")
        add_insight(session, troubled, "challenge", "incident", "Brightwave booking system outage", score=0.9)
        log(session, troubled, "call", 3)
    digest = build(app)
    assert len(digest.cards) == 8  # digest.max_customers
    assert digest.cards[0].customer == "Brightwave Ferries"  # a challenge at a tier-A account comes first
    assert len(digest.more_customers) == 4 and all(re.fullmatch(r"Firm \d\d \(\d\)", m) for m in digest.more_customers)
    assert digest.today[0].text.startswith("Check in with Brightwave Ferries")
    assert len(digest.today) == 3
    assert digest.subject.startswith("Check in with Brightwave Ferries") and len(digest.subject) < 70
    # The subject counts the other customers (11 firms), not their items (which also hold Monday's gesture).
    assert digest.subject.endswith("· 11 more customers")
    rendered = render(digest)
    assert "Also today: Firm" in rendered.text


def test_the_same_story_in_two_languages_and_three_sources_is_one_item_with_all_links(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        kiln = add_customer(session, rep, "Kiln & Co")
        add_contact(session, kiln, "Paul Durand", role="COO")
        add_insight(session, kiln, "win", "expansion", "¡Ya abrimos en Valparaíso!", language="es",
                    facts={"place": "Valparaíso"}, url="https://x.example/kiln/1", age_hours=30)  # fmt: skip
        add_insight(session, kiln, "win", "expansion", "Kiln & Co opens its Valparaíso studio",
                    text="Kiln & Co opens its Valparaíso studio, 12,000 sq ft of kilns.", facts={"place": "12"},
                    url="https://kiln.example/news/valparaiso", age_hours=20)  # fmt: skip
        add_insight(session, kiln, "win", "expansion", "Inside our new studio in Valparaíso",
                    facts={"place": "Valparaíso"}, url="https://kiln.example/blog/studio", age_hours=10)  # fmt: skip
        # Same kind and category, another place: another story, however alike the titles.
        add_insight(session, kiln, "win", "expansion", "Kiln & Co opens its Porto studio",
                    facts={"place": "Porto"}, url="https://kiln.example/news/porto", age_hours=12)  # fmt: skip
    items = [i for i in items_of(build(app), "Kiln & Co") if i.kind == "win"]
    assert len(items) == 2
    valparaiso = next(i for i in items if "Valparaíso" in i.suggestion or len(i.insight_ids) == 3)
    assert len(valparaiso.insight_ids) == 3
    assert set(valparaiso.links) == {
        "https://x.example/kiln/1", "https://kiln.example/news/valparaiso", "https://kiln.example/blog/studio",
    }  # fmt: skip
    # The English contact gets English, quoting the English post, never the Spanish tweet.
    assert valparaiso.suggestion.startswith("Hi Paul,") and "Ya abrimos" not in valparaiso.headline


def test_draft_goes_to_the_contact_for_that_news_in_their_language(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session, language="en")
        firm = add_customer(session, rep, "Lumen Óptica", language="pt-BR")
        add_contact(session, firm, "Beatriz Souza", role="CEO")
        tech = add_contact(session, firm, "Jonas Weber", role="CTO", email="jonas@lumen.example")
        tech.language = "de"
        add_insight(session, firm, "challenge", "incident", "Lumen: Ausfall der Bestellplattform", language="de",
                    score=0.9)  # fmt: skip
        add_insight(session, firm, "win", "funding", "Lumen Óptica levanta R$ 40 milhões", language="pt",
                    facts={"amount": "R$ 40 milhões", "amount_value": 40e6, "currency": "BRL"}, score=0.9)  # fmt: skip
    by_kind = {i.kind: i for i in items_of(build(app), "Lumen Óptica")}
    incident, funding = by_kind["challenge"], by_kind["win"]
    assert incident.contact_name == "Jonas Weber" and incident.contact_email == "jonas@lumen.example"
    assert incident.language == "de" and incident.suggestion.startswith("Hallo Jonas")
    assert funding.contact_name == "Beatriz Souza" and funding.language == "pt-BR"
    assert funding.suggestion.startswith("Olá Beatriz") and "R$ 40 milhões" in funding.suggestion


def test_spanish_of_the_americas_and_spain_and_a_writer_never_gendered_by_default(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session, language="es")
        for name, lang in (("Textiles Quetzal", "es-MX"), ("Conservas Ribera", "es-ES")):
            customer = add_customer(session, rep, name, language=lang)
            add_contact(session, customer, "Lucía Paredes", role="CEO")
            for n, category in enumerate(("funding", "award", "launch", "expansion", "hiring", "content")):
                add_insight(session, customer, "win" if n < 4 else "news", category, f"{name}: noticia {n}",
                            language="es", score=0.9)  # fmt: skip
    digest = build(app, settings=_wide(app.settings))
    mexico = " ".join(i.suggestion for i in items_of(digest, "Textiles Quetzal"))
    spain = " ".join(i.suggestion for i in items_of(digest, "Conservas Ribera"))
    assert not re.search(r"\b(vosotros|vuestr\w*|enhorabuena|necesitáis|tenéis|os)\b", mexico, re.IGNORECASE)
    assert re.search(r"felicidades", mexico, re.IGNORECASE)
    assert not re.search(r"\bencantad[oa]\b", mexico + spain, re.IGNORECASE)  # no --pronoun: never gendered


def test_pronoun_set_genders_the_writer(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session, language="es", pronoun="she")
        customer = add_customer(session, rep, "Vinos Alba", language="es")
        add_contact(session, customer, "Pau Roig", role="CEO")
        for n in range(3):
            add_insight(session, customer, "news", "hiring", f"Buscamos perfil {n}", language="es", score=0.9)
    suggestions = " ".join(i.suggestion for i in items_of(build(app, settings=_wide(app.settings)), "Vinos Alba"))
    assert "encantado" not in suggestions.lower()


def test_facts_a_draft_states_are_in_the_post(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        mill = add_customer(session, rep, "Northmill Foods")
        add_contact(session, mill, "Ray Okoro", role="COO")
        add_insight(session, mill, "win", "expansion", "Northmill Foods opens a 250,000 sq ft plant",
                    facts={"place": "250"}, score=0.9)  # fmt: skip
        add_insight(session, mill, "win", "funding", "Northmill Foods raises 30 million",
                    facts={"amount": "30", "amount_value": 30, "currency": ""}, score=0.9)  # fmt: skip
    for item in items_of(build(app), "Northmill Foods"):
        assert not re.search(r"\b(250|30)\b(?![,.]\d| million| sq)", item.suggestion), item.suggestion


def test_a_finalist_is_congratulated_on_being_a_finalist(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        studio = add_customer(session, rep, "Halden Studio")
        add_contact(session, studio, "Mia Berg", role="CEO")
        add_insight(session, studio, "win", "award", "Halden Studio is a finalist for the Nordic Design Prize",
                    facts={"award": "Nordic Design Prize"}, score=0.9)  # fmt: skip
    (item,) = [i for i in items_of(build(app), "Halden Studio") if i.kind == "win"]
    assert "finalist" in item.suggestion.lower() and "winning" not in item.suggestion.lower()


def test_unsure_items_show_the_post_and_a_look_line_and_no_draft(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        shop = add_customer(session, rep, "Greyhaven Outfitters")
        add_contact(session, shop, "Sam Patel", role="CEO")
        add_insight(session, shop, "challenge", "layoffs", "Greyhaven says goodbye to the old warehouse",
                    facts={"unsure": "could be a move, not layoffs"}, score=0.8)  # fmt: skip
        add_insight(session, shop, "challenge", "legal", "A note on our team changes", score=0.4)
    items = items_of(build(app), "Greyhaven Outfitters")
    assert len(items) == 2 and all(not i.suggestion and i.look and i.links for i in items)
    assert "could be a move" in " ".join(i.look for i in items)
    # The kind is what is in doubt: the why says neither "a hard moment" nor "good news" beside the look line.
    assert all(i.why == "Something to comment on" for i in items), [i.why for i in items]
    text = render(build(app)).text
    assert "take a look" in text.lower() and "hard moment for them" not in text.lower()


def test_a_challenge_never_gets_congratulations(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        for lang in ("en", "es", "es-MX", "pt", "fr", "de", "it"):
            customer = add_customer(session, rep, f"Corp {lang}", language=lang)
            add_contact(session, customer, "Alex Kim", role="CEO")
            for category in ("layoffs", "incident", "legal", "departure", "downturn"):
                add_insight(session, customer, "challenge", category, f"{category} at Corp {lang}", score=0.9)
    congrats = re.compile(r"congrat|enhorabuena|felicidad|felicita|parab[ée]ns|f[ée]licitation|gl[üu]ckw|complimenti")
    opener = {"en": "checking in", "es": "un saludo", "es-MX": "un saludo", "pt": "um olá", "fr": "des nouvelles",
              "de": "kurz nachgefragt", "it": "un saluto"}  # fmt: skip
    challenges = [i for i in build(app, settings=_wide(app.settings, customers=20, per_card=9)).items()
                  if i.kind == "challenge"]  # fmt: skip
    assert len(challenges) == 35
    for item in challenges:
        assert not congrats.search(item.suggestion.lower()), item.suggestion
        # The reply's subject, in the customer's inbox, names no bad news and no post title, in the draft's language.
        lang = item.customer.removeprefix("Corp ")
        assert item.subject == f"{item.customer}: {opener[lang]}", item.subject


def test_past_cadence_is_flagged_even_with_a_fresh_post(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        quiet = add_customer(session, rep, "Saltmarsh Labs", touch_cadence_days=30)
        add_contact(session, quiet, "Noor Haddad", role="CEO")
        log(session, quiet, "call", 58)
        add_insight(session, quiet, "win", "funding", "Saltmarsh Labs raises $18M Series A", score=0.95,
                    facts={"amount": "$18M", "amount_value": 18e6, "currency": "USD", "round": "Series A"})  # fmt: skip
    digest = build(app)
    card = next(c for c in digest.cards if c.customer == "Saltmarsh Labs")
    assert card.overdue == "28 days past the 30-day cadence"
    assert card.contact == "Noor Haddad, CEO" and card.relationship.startswith("last touch 58 days ago (call)")
    assert card.items[0].why == "58 days since your last touch; they just raised $18M"
    assert "Evidence" in card.items[0].details and "Evidence" not in card.items[0].why


def test_agenda_is_questions_without_noise_and_the_ics_is_for_the_customer(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        for name in ("Orchard Rail", "Tidewater Mills"):
            customer = add_customer(session, rep, name, language="es-MX")
            add_contact(session, customer, "Elena Vidal", role="CEO", email=f"elena@{name[:4].lower()}.example")
            add_contact(
                session, customer, "Hugo Lenz", role="CFO (stepping down)", email=f"hugo@{name[:4].lower()}.example"
            )
            add_insight(session, customer, "win", "expansion", f"{name} abre en Monterrey", language="es",
                        facts={"place": "Monterrey"}, age_hours=10)  # fmt: skip
            add_insight(session, customer, "win", "launch", f"{name} lanza Vía Express", language="es",
                        facts={"product": "Vía Express"}, age_hours=30)  # fmt: skip
            add_insight(session, customer, "challenge", "incident", f"Caída del sistema en {name}", language="es",
                        age_hours=50)  # fmt: skip
            add_insight(session, customer, "news", "hiring", f"{name} contrata becarios", language="es", age_hours=60)
            add_insight(session, customer, "goal", "plan", f"{name}: duplicar las rutas antes de 2028", language="es",
                        age_hours=70)  # fmt: skip
    digest = build(app, settings=_wide(app.settings))
    dates = [i for i in digest.items() if i.kind == "date"]
    assert len(dates) == 2
    for item in dates:
        assert all(t.startswith("¿") and t.endswith("?") for t in item.topics), item.topics
        assert not any("becarios" in t for t in item.topics)  # hiring is not on an agenda
        assert any("Monterrey" in t for t in item.topics)
    starts = set()
    for attachment in digest.attachments:
        event = next(c for c in Calendar.from_ical(attachment.content).walk() if c.name == "VEVENT")
        attendees = [
            str(a)
            for a in (event.get("attendee") if isinstance(event.get("attendee"), list) else [event.get("attendee")])
        ]
        assert not any("hugo@" in a for a in attendees)  # a departing contact is not invited
        description = str(event.get("description"))
        assert "Caída" not in description  # bad news stays out of what the customer reads
        assert str(event.get("summary")).startswith("Puesta al día con")
        starts.add(event.decoded("dtstart"))
    assert len(starts) == 2  # one free slot per draft


def test_weekly_gesture_skips_a_customer_with_a_challenge_that_week(app: App) -> None:
    monday = TODAY - timedelta(days=TODAY.weekday())
    with app.transaction() as session:
        rep = add_rep(session)
        only = add_customer(session, rep, "Pinecrest Dental")
        add_contact(session, only, "Ada Quinn", role="CEO")
        add_insight(session, only, "challenge", "layoffs", "Pinecrest Dental cuts 40 jobs", score=0.9,
                    age_hours=24 * (TODAY - monday).days + 20)  # fmt: skip
        log(session, only, "call", 2)
    with app.transaction() as session:
        rep = session.query(Rep).filter_by(email="ana@example.com").one()
        digest = build_digest(session, app.settings, rep, monday, datetime.combine(monday, NOW.timetz()))
    assert not [i for i in digest.items() if i.kind == "gesture"]


def test_work_days_and_locale_chain() -> None:
    assert is_workday("mon,tue,wed,thu,fri", date(2026, 12, 7)) and not is_workday(
        "mon,tue,wed,thu,fri", date(2026, 12, 6)
    )
    assert is_workday("sun,mon,tue,wed,thu", date(2026, 12, 6))
    assert locale_chain("es-mx") == ["es-MX", "es-419", "es"]
    assert locale_chain("es") == ["es"] and locale_chain("pt-BR") == ["pt-BR", "pt"]


def _wide(settings: Settings, customers: int = 8, per_card: int = 9) -> Settings:
    return replace(settings, digest=replace(settings.digest, max_customers=customers, max_items_per_card=per_card))


def test_a_possessive_name_fact_gives_way_to_the_headlines_full_name_and_the_today_line_names_a_fact(
    app: App,
) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        customer = add_customer(session, rep, "Quillwise")
        add_contact(session, customer, "Samuel Ortiz")
        add_insight(
            session,
            customer,
            "win",
            "customer_win",
            "Linden Hospitality Group picks Quillwise",
            text="A program we're designing with Linden's own trainers.",
            facts={"partner": "Linden's"},
        )
        other = add_customer(session, rep, "Bean Co")
        add_insight(session, other, "win", "award", "Our Oaxaca Pluma takes gold at the Pacific Roasters awards",
                    age_hours=13)  # fmt: skip
    digest = build(app)
    item = next(i for i in digest.items() if i.customer == "Quillwise")
    assert "Linden Hospitality Group" in item.suggestion and "Linden's" not in item.suggestion
    lines = {t.text for t in digest.today}
    # No fact on Bean Co's post: its line says "Congratulate Bean Co", never the title cut short.
    assert lines == {"Congratulate Quillwise on Linden Hospitality Group", "Congratulate Bean Co"}


def test_an_agenda_question_of_a_category_is_asked_only_in_the_customers_own_language(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        customer = add_customer(session, rep, "Padaria Sol", language="pt-BR")
        add_contact(session, customer, "Rita Gomes")
        add_insight(session, customer, "win", "award", "Padaria Sol ganha o Pão de Ouro",
                    facts={"award": "Pão de Ouro"}, language="pt")  # fmt: skip
        add_insight(session, customer, "win", "launch", "Chega o Pão Integral Sol", age_hours=30, language="pt",
                    facts={"product": "Pão Integral Sol"})  # fmt: skip
        add_insight(session, customer, "goal", "plan", "Plano 2027: dez lojas", age_hours=50, language="pt")
    (date_item,) = [i for i in build(app).items() if i.kind == "date"]
    english = ("What ", "How ", "Who ")
    assert date_item.topics and not any(t.startswith(english) for t in date_item.topics), date_item.topics


def test_an_anniversary_a_fresh_post_celebrates_is_one_item(app: App) -> None:
    """A company's founding anniversary in two days and its own post about those years: one item, the post's."""
    with app.transaction() as session:
        rep = add_rep(session)
        founded = TODAY + timedelta(days=2)
        mill = add_customer(session, rep, "Ostra Mill", founded_on=founded.replace(year=founded.year - 12))
        add_contact(session, mill, "Ida Holm", role="CEO")
        add_insight(session, mill, "win", "milestone", "Ostra Mill turns twelve", facts={"years": 12}, score=0.85)
        other = add_customer(session, rep, "Vale Foods", founded_on=founded.replace(year=founded.year - 5))
        add_insight(session, other, "win", "milestone", "Vale Foods turns twelve", facts={"years": 12}, score=0.85)
    digest = build(app)
    mill_items = items_of(digest, "Ostra Mill")
    assert [i.kind for i in mill_items] == ["win"], [(i.kind, i.category, i.headline) for i in mill_items]
    # another customer's anniversary of other years is still coming up
    assert any(i.kind == "upcoming" and i.category == "founded" for i in items_of(digest, "Vale Foods"))
