"""Facts for the drafts: the cue words come from each language's [facts] table; what they extract is checked
on sentences written for these tests, in every language the rules cover."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from listener.errors import ConfigError
from listener.relevance import bundled_rules_dir
from listener.relevance.facts import compile_cues, cues_for, extract_facts
from listener.relevance.lexicon import FACTS_KEYS, bundled_lexicon, read_lexicon
from listener.relevance.rules import LANGUAGES, load_rules
from listener.relevance.text import prepare


def facts(category: str, title: str, text: str = "", lang: str = "en") -> dict[str, Any]:
    found = extract_facts(prepare(title, text), category, lang)
    found.pop("topic", None)
    return found


# --- the [facts] table: language knowledge as data


def test_every_bundled_language_has_a_facts_table_with_every_key() -> None:
    lexicon = bundled_lexicon()
    for lang in LANGUAGES:
        assert lang in lexicon.facts, lang
    english = lexicon.facts["en"]
    # English names every kind of cue, so a language without a table (or without a key) falls back on it.
    assert set(english.lists) | set(english.tables) == set(FACTS_KEYS) - {"ambiguous_symbols"}


def test_a_post_is_read_with_its_language_cues_and_the_english_ones() -> None:
    spanish = bundled_lexicon().facts_for("es")
    assert "adquiere" in spanish.words("partner_cues") and "with" in spanish.words("partner_cues")
    english = bundled_lexicon().facts_for("en")
    assert "adquiere" not in english.words("partner_cues")
    # The Spanish cue works in a Spanish post, not in an English one ("con" is no English word).
    assert facts("partnership", "Ferrovial firma una alianza con Grupo Norte", lang="es")["partner"] == "Grupo Norte"
    assert "partner" not in facts("partnership", "Chili con Carne Festival is back", lang="en")


def _copy_bundled(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(bundled_rules_dir(), folder)
    return folder


def test_a_language_file_without_facts_reads_with_the_english_cues(tmp_path: Path) -> None:
    folder = _copy_bundled(tmp_path)
    (folder / "ca.toml").write_text(
        'language = "ca"\n[lexicon]\nfunction_words = ["els", "amb", "per"]\n', encoding="utf-8"
    )
    lexicon = read_lexicon(folder)
    assert "ca" in lexicon.languages and "ca" not in lexicon.facts
    assert lexicon.facts_for("ca") == lexicon.facts_for("en")
    cues = compile_cues(lexicon.facts_for("ca"), lexicon.all_facts())
    assert cues.partner.search("acord amb Caixa Nova") is None  # no Catalan cue: nothing, rather than a guess
    assert cues.partner.search("partnership with caixa nova") is not None
    # And a language the bundled files do not know at all is read with the English cues.
    assert cues_for("nl") is cues_for("xx")
    assert facts("award", "Studio Kade won the Dutch Design Award", lang="nl")["award"] == "Dutch Design Award"


def test_a_new_language_is_its_facts_table(tmp_path: Path) -> None:
    folder = _copy_bundled(tmp_path)
    (folder / "nl.toml").write_text(
        'language = "nl"\n[lexicon]\nfunction_words = ["de", "het", "een"]\n'
        '[facts]\npartner_cues = ["samen met", "werkt samen met"]\narticles = ["de", "het"]\n'
        'year_words = ["jaar"]\npercent_words = ["procent"]\nscale_words = { miljoen = 1_000_000 }\n',
        encoding="utf-8",
    )
    lexicon = read_lexicon(folder)
    cues = compile_cues(lexicon.facts_for("nl"), lexicon.all_facts())
    found = cues.partner.search("bakkerij ott werkt samen met de gemeente")
    assert found is not None and found.end() == len("bakkerij ott werkt samen met de ")
    assert cues.years.search("wij vieren 25 jaar") is not None
    assert lexicon.all_facts().table("scale_words")["miljoen"] == 1_000_000


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[facts]\ncolour = []\n", "facts.colour: unknown key"),
        ('[facts]\npartner_cues = "met"\n', "facts.partner_cues: expected a list"),
        ('[facts]\nyears_phrases = { "een decennium" = "10" }\n', "facts.years_phrases.een decennium: expected a int"),
        ('[facts]\ncurrency_symbols = { "f$" = "gulden" }\n', "facts.currency_symbols.f\\$: expected an ISO 4217"),
        ('[facts]\ncurrency_symbols = { "nlgd" = "NLG" }\n', "facts.currency_symbols.nlgd: a code has three letters"),
        ("[facts]\nscale_words = { miljoen = 0 }\n", "facts.scale_words.miljoen: expected a positive number"),
    ],
)
def test_a_bad_facts_table_is_one_line_naming_the_key(tmp_path: Path, table: str, message: str) -> None:
    folder = _copy_bundled(tmp_path)
    (folder / "nl.toml").write_text('language = "nl"\n[lexicon]\nfunction_words = ["de"]\n' + table, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as raised:
        read_lexicon(folder)
    assert "\n" not in str(raised.value) and "nl.toml" in str(raised.value)


def test_a_facts_table_outside_the_bundled_rules_is_refused(tmp_path: Path) -> None:
    extra = tmp_path / "mine"
    extra.mkdir()
    (extra / "more.toml").write_text('language = "en"\n[facts]\npartner_cues = ["alongside"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"only the bundled rules .* may hold a facts table"):
        load_rules([bundled_rules_dir(), extra])


# --- correctness: sentences written for these tests, one cause each (a wrong fact costs a relationship, so
# "nothing" is the expected answer wherever a guess would be wrong)

RIGHT = [
    # person and role: the name before the role, or right after it (other roles and "and" between)
    ("leadership", "Dana Whitfield Joins Orbis Learning Group as Chief Operating Officer", "en",
     {"person": "Dana Whitfield"}),
    ("leadership", "Harlow Foods Names Priya Raman to Newly Created Role of Chief Digital Officer", "en",
     {"person": "Priya Raman"}),
    ("departure", "Founder and CEO Tom Reyes to step down", "en", {"person": "Tom Reyes"}),
    ("leadership", "Carmen de la Vega, nueva directora general de Grupo Norte", "es",
     {"person": "Carmen de la Vega"}),
    ("departure", "Motores del Sur anunció que Ernesto M. Salas, su presidente, se retira", "es",
     {"person": "Ernesto M. Salas"}),
    ("leadership", "Jean-Luc Morel a été nommé président et Claire Dubois directrice générale", "fr",
     {"person": "Jean-Luc Morel", "role": "président"}),
    # "new" is not part of the role (the drafts say "the new role as CEO"); "interim" is
    ("leadership", "Kestrel Bank names Jane Roe new chief executive officer", "en",
     {"person": "Jane Roe", "role": "chief executive officer"}),
    ("leadership", "Kestrel Bank names Jane Roe interim CEO", "en", {"person": "Jane Roe", "role": "interim CEO"}),
    # titles beyond the chief executive's, in each language (a role not read leaves the draft without the name)
    ("leadership", "La doctora Inés Calvo, nueva directora médica de Clínicas Roble", "es",
     {"person": "Inés Calvo", "role": "directora médica"}),
    ("leadership", "Marcos Lemos assume como vice-presidente de operações da Ferrovia Azul", "pt",
     {"person": "Marcos Lemos", "role": "vice-presidente de operações"}),
    ("leadership", "Hélène Martin devient directrice financière du groupe Ardoise", "fr",
     {"person": "Hélène Martin", "role": "directrice financière"}),
    ("leadership", "Giulia Ferri è la nuova direttrice commerciale di Olivetta", "it",
     {"person": "Giulia Ferri", "role": "direttrice commerciale"}),
    ("leadership", "Lena Vogt wird neue Finanzvorständin der Nordbahn", "de",
     {"person": "Lena Vogt", "role": "Finanzvorständin"}),
    ("leadership", "Pere Soler, nou director tècnic de Cooperativa Garrigues", "ca",
     {"person": "Pere Soler", "role": "director tècnic"}),
    # places: a proper name after a place cue
    ("expansion", "Harbor Labs opens its first office in the Nordics hub in Oslo", "en", {"place": "Oslo"}),
    ("expansion", "Mercato Verde abrirá sus primeras tiendas en Portugal. La cadena invertirá más", "es",
     {"place": "Portugal"}),
    ("expansion", "A Casa Nobre vai construir uma fábrica em Recife", "pt", {"place": "Recife"}),
    # amounts, rounds, percentages in every language
    ("funding", "Velora schließt eine Series-B-Finanzierungsrunde über 20 Mio. Euro ab", "de",
     {"round": "Series B", "amount_value": 20e6, "currency": "EUR"}),
    ("funding", "Brindle raises $1.2 billion", "en", {"amount_value": 1.2e9, "currency": "USD"}),
    ("funding", "Tramo capta 1,2 mil millones de euros", "es", {"amount_value": 1.2e9, "currency": "EUR"}),
    ("funding", "Lumen lève 3,5 M€ en amorçage", "fr", {"amount_value": 3.5e6, "currency": "EUR", "round": "Seed"}),
    ("funding", "Mercado Sur recibe u$s 300 millones", "es", {"amount_value": 300e6, "currency": "USD"}),
    ("layoffs", "Ortofresco taglia il 12 per cento del personale", "it", {"percent": "12%"}),
    ("layoffs", "Lagerwerk streicht 8 Prozent der Stellen", "de", {"percent": "8%"}),
    ("milestone", "Bakehouse celebrates its 21st anniversary", "en", {"years": 21}),
    ("milestone", "Atelier Nord fête une décennie d'innovation", "fr", {"years": 10}),
    ("award", "Brightline wins 2024 International Design Awards", "en", {"award": "2024 International Design Awards"}),
    # a product: a name that modifies a product noun names the noun's subject, so the noun is part of the product
    ("launch", "Harbor Learn is launching its Italian and German course catalogs", "en",
     {"product": "Italian and German course catalogs"}),
    ("launch", "Brightwell launches its Android app for field teams", "en", {"product": "Android app"}),
    ("launch", "We launched Orbit for our app users", "en", {"product": "Orbit"}),
]  # fmt: skip

NOTHING = [
    ("leadership", "Kestrel Capital Partners appoints a new CEO", "en", "person"),
    ("departure", "Le président de Norvale Jean-Marc Petit évoque le départ du directeur général", "fr", "person"),
    ("expansion", "Juniper opens its first hotel in the Harbor by Juniper portfolio", "en", "place"),
    ("expansion", "Orbital Systems Opens Regional Headquarters to Better Serve Clients", "en", "place"),
    ("expansion", "Mercato Verde abrirá un centro en 2026", "es", "place"),
    ("expansion", "A Casa Nobre, de Lisboa, vai construir uma nova fábrica", "pt", "place"),
    ("launch", "Fellwood Launches As Classic Vehicle Conversion Systems Provider", "en", "product"),
    ("partnership", "Ardent strengthens relationship with Enhanced Document and Data Management Technology", "en",
     "partner"),
    ("partnership", "We partnered with Linden's team on the new menu", "en", "partner"),
    ("award", "Cyberline Wins Ten 2024 Security Awards", "en", "award"),
    ("legal", "La aerolínea podría ser multada hasta por $19.267.753.900", "es", "currency"),
]  # fmt: skip


def test_a_name_at_the_end_of_the_headline_does_not_run_into_the_body() -> None:
    # The headline and the body are one text joined by a line break; a name never spans it.
    found = facts("leadership", "Nordbahn: neue Finanzvorständin Lena Vogt", "Lena Vogt kommt von der Südbank.", "de")
    assert found["person"] == "Lena Vogt"


@pytest.mark.parametrize(("category", "title", "lang", "expected"), RIGHT, ids=[r[1][:40] for r in RIGHT])
def test_facts_read_right(category: str, title: str, lang: str, expected: dict[str, Any]) -> None:
    found = facts(category, title, lang=lang)
    for key, value in expected.items():
        assert found.get(key) == value, found


@pytest.mark.parametrize(("category", "title", "lang", "key"), NOTHING, ids=[n[1][:40] for n in NOTHING])
def test_a_doubtful_fact_is_left_out(category: str, title: str, lang: str, key: str) -> None:
    assert key not in facts(category, title, lang=lang)


def test_catalan_has_its_own_cues_and_an_elided_joiner_reads_the_amount() -> None:
    # "d'euros": the joiner elided before a vowel, in Catalan and French, ends a word as a space would.
    found = facts("funding", "Factorial tanca una ronda de 3 milions d'euros", "La sèrie A la lidera Seaya.", lang="ca")
    assert (found["amount_value"], found["currency"], found["round"]) == (3_000_000.0, "EUR", "Series A")
    assert facts("funding", "Alan lève 183 millions d'euros", lang="fr")["amount_value"] == 183_000_000.0
    assert facts("expansion", "Glovo obre una nova oficina a Lisboa", lang="ca")["place"] == "Lisboa"
    found = facts("leadership", "L'empresa nomena Marta Puig com a nova directora general", lang="ca")
    assert found["person"] == "Marta Puig" and found["role"].endswith("directora general")
