"""The relevance filter: labels per kind and category in six languages, facts, hard cases, the safety rule."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listener.errors import ConfigError
from listener.models import Kind, Post
from listener.relevance import CustomerHints, RuleClassifier, bundled_rules_dir, load_classifier
from listener.relevance.evaluate import evaluate, read_labelled
from listener.relevance.rules import load_rules, read_rules_file

DATA = Path(__file__).parent / "data" / "relevance"
CHECK = DATA / "check.jsonl"
# Fresh posts, written in rounds after tuning to see how it carried over (see git log): fresh.jsonl (90),
# fresh3-8.jsonl (50, 50, 50, 50, 30, 120). Each round was scored before tuning on it (figures in git log);
# the targets hold on every round since.
FRESH = sorted(DATA.glob("fresh*.jsonl"))
DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


@pytest.fixture(scope="module")
def classifier() -> RuleClassifier:
    loaded = load_classifier()
    assert isinstance(loaded, RuleClassifier)
    return loaded


def post(title: str, text: str = "", lang: str = "", source: str = "rss") -> Post:
    return Post("t", "", title, text, None, lang=lang, source_kind=source)


# (lang, title, text, expected category): short posts in the voices of many trades, one per line.
CASES = [
    # --- wins
    ("en", "Loomwise raises $8M seed round", "The round was led by Kestrel Ventures.", "funding"),
    ("es", "Granja Solana levanta 2 millones en su ronda semilla", "Con inversores de Valencia.", "funding"),
    ("de", "Kältewerk sammelt 5 Millionen Euro ein", "Die Finanzierungsrunde führt ein Family Office an.", "funding"),
    ("it", "Pastificio Lume raccoglie 3 milioni di euro", "Il round è guidato da un fondo di Torino.", "funding"),
    ("fr", "Atelier Brume lève 4 millions d'euros", "Pour ouvrir deux ateliers.", "funding"),
    ("pt", "Cafeteria Serra capta R$ 5 milhões", "A rodada foi liderada pela Monashees.", "funding"),
    ("en", "Tallyhq acquires Ledgerbird", "The two teams join forces in Denver.", "acquisition"),
    ("es", "Clínicas Aurora adquiere el grupo Dentalia", "Suma once clínicas.", "acquisition"),
    ("en", "Introducing Fernwood Notes 2.0", "Now available on iOS and Android.", "launch"),
    ("es", "Lanzamos nuestra nueva app de reservas", "Ya está disponible.", "launch"),
    ("de", "Unsere neue App ist ab sofort verfügbar", "Termine jetzt online buchen.", "launch"),
    ("it", "Lanciamo la nuova linea di gelati vegani", "Da oggi in tutti i negozi.", "launch"),
    ("en", "Copperpot Kitchen wins Best New Restaurant award", "Voted by readers of the city weekly.", "award"),
    ("es", "Bodega Alta, premiada con la medalla de oro", "En el concurso regional de vinos.", "award"),
    ("de", "Gärtnerei Blum als Top-Arbeitgeber ausgezeichnet", "", "award"),
    ("it", "Il nostro caseificio premiato come migliore d'Italia", "", "award"),
    ("en", "Happy 20th anniversary to us!", "Twenty years of fixing roofs in Ohio.", "milestone"),
    ("es", "Hoy cumplimos quince años", "Gracias a todos los clientes.", "milestone"),
    ("de", "Wir feiern 30 Jahre Tischlerei Brandt", "", "milestone"),
    ("it", "Festeggiamo 25 anni di attività", "", "milestone"),
    ("pt", "Completamos 10 anos!", "Obrigado a todos.", "milestone"),
    ("en", "Our second store opens in Portland", "Doors open Friday on Alberta Street.", "expansion"),
    ("es", "Abrimos nueva tienda en Sevilla", "En pleno centro.", "expansion"),
    ("de", "Wir eröffnen einen neuen Standort in Köln", "", "expansion"),
    ("it", "Apriamo una nuova sede a Bari", "", "expansion"),
    ("en", "Quayside partners with Stripe", "Pay invoices straight from the app.", "partnership"),
    ("es", "Alianza con la Universidad de Granada", "Para investigar nuevos cultivos.", "partnership"),
    ("de", "Neue Partnerschaft mit dem Roten Kreuz", "", "partnership"),
    ("en", "Bolt Civil wins $4M school renovation contract", "", "customer_win"),
    ("es", "Nuevo cliente: Hoteles Brisa confía en nosotros", "", "customer_win"),
    ("it", "Ediltech si aggiudica l'appalto per la nuova scuola", "", "customer_win"),
    ("en", "Meridian Care appoints Lena Shah as CEO", "She joins from Kaiser.", "leadership"),
    ("es", "Nombramos a Ana Gil nueva directora general", "", "leadership"),
    ("en", "Our founder was interviewed on the Morning Show podcast", "", "press"),
    ("es", "Nuestra CEO, entrevistada en El Mundo", "", "press"),
    # --- news
    ("en", "Case study: cutting food waste by 30%", "How a school kitchen did it.", "content"),
    ("es", "Guía práctica para elegir un software de nóminas", "", "content"),
    ("en", "Join us at the Retail Tech Summit", "Booth 14, March 3-5.", "event"),
    ("es", "Te esperamos en la feria Alimentaria", "Stand 3B.", "event"),
    ("en", "We're hiring a pastry chef", "Apply at the counter or send your CV.", "hiring"),
    ("es", "Buscamos enfermera para turno de noche", "Envía tu CV.", "hiring"),
    ("de", "Wir suchen Verstärkung im Lager (m/w/d)", "", "hiring"),
    ("en", "Changes to our pricing in March", "The Team plan moves to per-seat pricing.", "update"),
    ("es", "Cambiamos de nombre", "Ahora somos Salud Norte.", "update"),
    # --- goals
    ("en", "Our goal for 2027: zero waste", "We plan to cut landfill waste to zero by 2027.", "plan"),
    ("es", "Nuestro objetivo: 20 tiendas en 2026", "Queremos llegar a todo el norte.", "plan"),
    # --- challenges
    ("en", "Restructuring our company", "We are reducing our workforce by 10%.", "layoffs"),
    ("es", "La empresa anuncia un ERE para 60 personas", "", "layoffs"),
    ("de", "Druckerei Hahn streicht 80 Stellen", "", "layoffs"),
    ("it", "Annunciati 50 esuberi alla Tessitura Monti", "", "layoffs"),
    ("fr", "Plan social : 70 postes supprimés", "", "layoffs"),
    ("pt", "Rede Lumi demite 90 funcionários", "", "layoffs"),
    ("en", "Service outage this morning", "Customers could not log in for two hours.", "incident"),
    ("es", "Incidencia en los pagos con tarjeta", "Estamos trabajando para solucionarlo.", "incident"),
    ("de", "Störung im Online-Shop", "Bestellungen sind derzeit nicht möglich.", "incident"),
    ("it", "Disservizio sul sito", "Alcuni clienti non riescono ad accedere.", "incident"),
    ("fr", "Panne sur notre application", "", "incident"),
    ("pt", "Instabilidade no aplicativo", "", "incident"),
    ("en", "Greystone Foods sued over mislabeled snacks", "A class action was filed Monday.", "legal"),
    ("es", "Multa de 200.000 euros a Transportes Ruiz", "", "legal"),
    ("de", "Bußgeld gegen Molkerei Weiss", "", "legal"),
    ("it", "L'Antitrust multa Caffè Roma", "", "legal"),
    ("en", "Our CEO Dana Wu is stepping down", "The board has started the search for a successor.", "departure"),
    ("es", "Nuestro fundador deja la compañía", "", "departure"),
    ("de", "Geschäftsführer Jan Roth verlässt das Unternehmen", "", "departure"),
    ("en", "We're closing our downtown store", "Our last day is May 31.", "downturn"),
    ("es", "Cerramos la tienda de la calle Mayor", "", "downturn"),
    ("de", "Modehaus Krüger meldet Insolvenz an", "", "downturn"),
    ("it", "Chiude dopo quarant'anni la pasticceria Dolce", "", "downturn"),
    ("fr", "Fermeture définitive de la boutique", "", "downturn"),
    # --- none
    ("en", "", "Flash sale: 30% off all boots with code SNOW30", "promo"),
    ("es", "", "¡Sorteamos una cesta de Navidad! Participa con un comentario.", "promo"),
    ("en", "", "Happy Friday, everyone! Coffee or tea?", "chatter"),
    ("es", "", "¡Feliz Navidad a todos!", "chatter"),
    ("de", "", "Frohe Weihnachten und einen guten Rutsch!", "chatter"),
    ("it", "", "Buon Natale da tutto il team!", "chatter"),
    # --- families of wordings found by the blind round 8 (fresh8.jsonl), in other words than its posts
    ("en", "", "Teaming up with Hollow Creek Farms to bring local eggs to all five stores.", "partnership"),
    ("en", "", "So happy to welcome Orchard Health as our newest client 🎉", "customer_win"),
    ("en", "We landed our biggest account yet", "Three hospitals in Ohio.", "customer_win"),
    ("en", "A note on our team", "We are reducing the size of our team by 12%.", "layoffs"),
    ("en", "", "We got the grant! $40k from the county arts council for our mural program.", "funding"),
    ("en", "Setting the record straight", "We have no plans to close the Elm Street store.", "other"),
    ("en", "Free public workshop on home composting this Saturday", "Hosted at our garden center.", "event"),
    ("en", "", "Happy 4th of July, everyone! Stay safe out there 🎆", "chatter"),
    ("en", "Trying to reach 1,000 members by spring", "", "plan"),
    ("en", "Harlow Group pledges $5 million to local schools", "Over the next three years.", "plan"),
    ("en", "Pinecone Dental is becoming part of Smile Partners", "Your dentist stays the same.", "update"),
    ("es", "Nueva imagen para Panadería Robles", "Estrenamos logotipo y escaparate.", "update"),
    ("pt", "Padaria Sol apresenta a sua nova identidade visual", "", "update"),
    ("fr", "Découvrez notre nouveau logo", "", "update"),
    ("es", "", "¡Cerramos nuestra campaña de micromecenazgo con 300 mecenas!", "funding"),
    ("es", "Construcciones Lema gana el concurso para reformar el mercado municipal", "", "customer_win"),
    ("es", "Farmacias Olmo llega a Bilbao", "La nueva farmacia empleará a 12 personas.", "expansion"),
    ("en", "We just closed our Series A. AMA about our pitch deck", "Ask me anything, here all day.", "funding"),
    ("en", "A note about this weekend", "To be clear, we have no plans to close our Elm Street bakery.", "other"),
    ("en", "State fines Harbor Gas $400,000 after pipeline leak", "The leak forced 200 homes to evacuate.", "legal"),
]


@pytest.mark.parametrize(("lang", "title", "text", "category"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_category_per_language(classifier: RuleClassifier, lang: str, title: str, text: str, category: str) -> None:
    insight = classifier.classify(post(title, text, lang))
    assert (insight.category, insight.lang) == (category, lang), insight.evidence
    assert insight.evidence or insight.kind is Kind.NONE
    assert 0.0 <= insight.score <= 1.0


HARD = [
    ("negated news", "No layoffs planned this year", "The CEO said hiring continues.", "other"),
    ("denied rumour", "No, we are not closing", "A post claimed our clinic shuts down. That is not true.", "other"),
    ("someone else's win", "", "Congrats to our friends at Brightly on their Series A!", "content"),
    ("someone else's win es", "", "¡Enhorabuena a nuestros amigos de Kiwa por su ronda Serie B!", "content"),
    ("promotional number", "", "Join over 10,000 happy customers: get 2 months free today.", "promo"),
    (
        "mixed news, win headline",
        "Ardent raises $30M Series B",
        "We are also restructuring sales; some roles will be eliminated.",
        "funding",
    ),
    ("mixed news, cuts headline", "Ardent cuts 200 jobs after its Series B", "The round closed in March.", "layoffs"),
    (
        "euphemism",
        "Streamlining for the next chapter",
        "Some positions will be eliminated as we consolidate teams.",
        "layoffs",
    ),
    ("euphemism es", "", "Hoy nos despedimos de 12 compañeros: hemos tenido que ajustar la plantilla.", "layoffs"),
    (
        "positive shutdown",
        "Saying goodbye to Pebble Notes",
        "We will sunset the app on June 1. Thank you for everything!",
        "downturn",
    ),
    ("complaint about the customer", "Is Ferrytix down for anyone else?", "Checkout just spins.", "incident"),
    ("rumour", "Sources: Halden in talks to buy a rival", "People familiar with the matter say so.", "update"),
    ("being acquired", "Mapleton to be acquired by Corvid Group", "Service continues as usual.", "update"),
    ("holiday greeting is not a milestone", "", "Happy holidays from all of us at Birch & Co!", "chatter"),
    ("years after a departure", "", "Después de 31 años, nuestro fundador se retira de la empresa.", "departure"),
    ("negated de", "Keine Entlassungen bei Müller Logistik", "Die Geschäftsführung dementiert Berichte.", "other"),
    ("someone else's win de", "", "Herzlichen Glückwunsch an unseren Partner Feldwerk zur Series A!", "content"),
    ("rumour de", "Gerüchte: Brauhaus Kern soll vor Übernahme stehen", "Das Unternehmen schweigt.", "update"),
    ("promotional number de", "", "Über 10.000 zufriedene Kunden! Jetzt 20 % sparen mit dem Code HERBST.", "promo"),
    (
        "euphemism de",
        "Anpassung unserer Organisation",
        "Dabei werden 40 Stellen wegfallen.",
        "layoffs",
    ),
    (
        "positive shutdown de",
        "Danke für 25 schöne Jahre",
        "Wir schließen unser Geschäft.",
        "downturn",
    ),
    ("complaint de", "Finger weg von Umzug Schnell", "Möbel beschädigt, seit Wochen keine Antwort.", "incident"),
    ("false friend de", "Wir feiern unser zehnjähriges Jubiläum", "", "milestone"),
    ("negated it", "Nessun licenziamento in vista", "L'azienda smentisce le voci di tagli.", "other"),
    (
        "someone else's win it",
        "",
        "Complimenti ai nostri amici di Verdeblu per il round!",
        "content",
    ),
    ("promotional number it", "", "Oltre 10.000 clienti soddisfatti: approfitta dello sconto del 20%!", "promo"),
    ("euphemism it", "Riorganizzazione aziendale", "Saranno ridotte 35 posizioni nell'area amministrativa.", "layoffs"),
    (
        "positive shutdown it",
        "Grazie di tutto",
        "Dopo 15 anni chiudiamo definitivamente.",
        "downturn",
    ),
    ("promotional number es", "", "Más de 5.000 clientes confían en nosotros. ¡Pruébanos gratis 30 días!", "promo"),
    ("a real count is a milestone", "", "Thanks to you we just hit 10,000 customers!", "milestone"),
    ("not being acquired", "", "No, we're not being acquired. Saw the rumor going around.", "other"),
    ("money with a magnitude", "Acme raises $25M", "", "funding"),
    ("launch opener", "Meet Tallyo 4.0: faster invoices", "", "launch"),
    ("launch opener de", "Tallyo Pay ist da!", "", "launch"),
    ("launch opener it", "Ora disponibile: la nuova app di Banca Tirrena", "", "launch"),
    ("passive shutdown", "Tallyo Classic will be retired on June 1", "", "downturn"),
    ("passive shutdown de", "Tallyo Classic wird eingestellt", "", "downturn"),
    ("a new chapter is a farewell", "", "Hoy se nos va Carmen tras 18 años. ¡Suerte en tu nueva etapa!", "departure"),
    ("a rumoured sale es", "", "Rumores de venta de Bodegas Laurel: estaría negociando con un fondo.", "update"),
]


@pytest.mark.parametrize(("case", "title", "text", "category"), HARD, ids=[h[0] for h in HARD])
def test_hard_cases(classifier: RuleClassifier, case: str, title: str, text: str, category: str) -> None:
    assert classifier.classify(post(title, text)).category == category


def test_mixed_news_never_congratulates_the_cuts(classifier: RuleClassifier) -> None:
    insight = classifier.classify(post("Ardent raises $30M Series B", "Some roles will be eliminated."))
    assert insight.kind is Kind.WIN
    assert insight.facts.get("caution") == "mentions job cuts"
    assert not any("eliminated" in e for e in insight.evidence)


FACTS = [
    ("Acme raises $20M Series B", "", {"amount": "$20M", "currency": "USD", "amount_value": 20e6, "round": "Series B"}),
    ("Tramo levanta €5 millones en su ronda semilla", "", {"currency": "EUR", "amount_value": 5e6, "round": "Seed"}),
    ("Agrovia capta 2,5 mil millones de reales", "", {"currency": "BRL", "amount_value": 2.5e9}),
    ("Ortofresco raccoglie 40 milioni di euro", "", {"currency": "EUR", "amount_value": 40e6}),
    ("Lagerwerk sammelt 12 Millionen Euro ein", "", {"currency": "EUR", "amount_value": 12e6}),
    ("Velomax raises CHF 3 Mio. in seed funding", "", {"currency": "CHF", "amount_value": 3e6}),
    ("We cut 15% of our workforce", "", {"percent": "15%"}),
    ("Estudio Arco cumple diez años", "", {"years": 10}),
    ("Celebrating ten years of Quillmate", "", {"years": 10}),
    ("Wir feiern 25 Jahre Bäckerei Ott", "", {"years": 25}),
    ("Cantina Belvedere festeggia quarant'anni", "", {"years": 40}),
    ("Juniper Bakehouse opens its third location in Austin", "", {"place": "Austin"}),
    ("Ember Analytics appoints Priya Raman as Chief Financial Officer", "", {"person": "Priya Raman"}),
    ("Caldera wins the Golden Spoon award from Food Weekly", "", {"award": "Golden Spoon"}),
    ("Vantage partners with Slackline", "", {"partner": "Slackline"}),
    ("Harbor Freightways signs a contract with the City of Tacoma", "", {"partner": "City of Tacoma"}),
    ("Quillmate launches Inkwell 3.0", "Today we launch Inkwell 3.0, our new editor.", {"product": "Inkwell 3.0"}),
    ("Lanzamos la nueva app Pedido Rápido", "", {"product": "Pedido Rápido"}),
    ("Introducing Ledgerly Pay", "Our new wallet is live.", {"product": "Ledgerly Pay"}),
]


@pytest.mark.parametrize(("title", "text", "expected"), FACTS, ids=[f[0][:30] for f in FACTS])
def test_facts(classifier: RuleClassifier, title: str, text: str, expected: dict[str, object]) -> None:
    facts = classifier.classify(post(title, text)).facts
    for key, value in expected.items():
        assert key in facts, facts
        assert facts[key] == value or (isinstance(value, str) and str(value) in str(facts[key])), facts
        assert "\n" not in str(facts[key])  # a name never runs from the headline into the body


def test_customer_name_is_not_evidence(classifier: RuleClassifier) -> None:
    hints = CustomerHints(name="Estudio Arco", language="es")
    insight = classifier.classify(post("Estudio Arco cumple diez años", ""), hints)
    assert (insight.kind, insight.category) == (Kind.WIN, "milestone")
    assert all("Estudio" not in e for e in insight.evidence)
    # Aliases count too, and the name is masked wherever it appears, in any case.
    hints = CustomerHints(name="Summit Labs", aliases=("Summit",))
    assert classifier.classify(post("", "Summit turns 5 today! Thank you all."), hints).category == "milestone"


@pytest.mark.parametrize(
    ("text", "amount"), [("Tudo por R$29,90 nesta semana", "R$29,90"), ("r$1.500 de desconto", "r$1.500")]
)
def test_a_short_word_joined_to_a_symbol_still_starts_its_phrases(
    classifier: RuleClassifier, text: str, amount: str
) -> None:
    """pt's "r$#" (reais): the word "r" is a candidate where a "$" follows it; "r$29" is not taken for one word."""
    assert amount in classifier.classify(Post("1", "", "", text, None, lang="pt")).evidence


def test_classify_is_deterministic(classifier: RuleClassifier) -> None:
    p = post("Webinar: closing the books faster", "Join our CFO on Thursday.")
    first = classifier.classify(p)
    assert all(classifier.classify(p) == first for _ in range(3))


def _rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _challenge_rows() -> list[dict[str, str]]:
    rows = [r for path in (CHECK, *FRESH) for r in _rows(path) if r["kind"] == "challenge"]
    if DEV.is_file():
        rows += [r for r in _rows(DEV) if r["kind"] == "challenge"]
    return rows


@pytest.mark.parametrize("row", _challenge_rows(), ids=lambda r: r["id"])
def test_safety_a_challenge_is_never_a_win(classifier: RuleClassifier, row: dict[str, str]) -> None:
    p = Post(
        row["id"], "", row.get("title", ""), row["text"], None, lang=row.get("lang", ""), source_kind=row["source"]
    )
    assert classifier.classify(p).kind is not Kind.WIN


CHALLENGE_HEADLINES = [
    "Acme lays off 120 employees",
    "Data breach at Acme: what you need to know",
    "Acme recalls 2,000 space heaters",
    "Acme fined $3M by regulators",
    "Acme CEO steps down",
    "Acme files for bankruptcy",
    "Acme anuncia un ERE",
    "Acme streicht 300 Stellen",
    "Acme, 80 esuberi nello stabilimento",
    "Plan social chez Acme",
    "Acme demite 50 funcionários",
    "Outage: Acme dashboard is down",
]
WIN_WORDS = st.sampled_from(
    [
        "we raised a $40M Series C", "thrilled to announce", "award-winning", "we won the award",
        "celebrating 10 years", "new office in Berlin", "partnership with Stripe", "new customer",
        "congratulations", "milestone", "record quarter", "launching today", "welcome our new CEO",
        "ronda de financiación", "premio", "Jubiläum", "anniversario", "lançamento", "proud", "huge win",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(headline=st.sampled_from(CHALLENGE_HEADLINES), body=st.lists(WIN_WORDS, min_size=1, max_size=8))
def test_safety_property_challenge_headline_with_win_body(
    classifier: RuleClassifier, headline: str, body: list[str]
) -> None:
    insight = classifier.classify(post(headline, ". ".join(body) + "."))
    assert insight.kind is not Kind.WIN


@pytest.mark.parametrize("path", FRESH, ids=lambda p: p.name)
def test_eval_targets_on_the_fresh_posts(classifier: RuleClassifier, path: Path) -> None:
    with path.open(encoding="utf-8") as stream:
        overall = evaluate(classifier, read_labelled(stream)).overall
    assert overall.n >= 30
    assert overall.f1 >= 0.90
    assert overall.kind_accuracy >= 0.85
    assert overall.category_macro_f1 >= 0.75
    assert overall.challenges_called_wins == 0


def test_eval_targets_on_all_fresh_posts_together(classifier: RuleClassifier) -> None:
    rows = "".join(path.read_text(encoding="utf-8") for path in FRESH)
    report = evaluate(classifier, read_labelled(io.StringIO(rows)))
    overall = report.overall
    assert overall.n >= 140
    assert overall.f1 >= 0.90
    assert overall.kind_accuracy >= 0.85
    assert overall.category_macro_f1 >= 0.75
    assert overall.challenges_called_wins == 0
    for lang in ("es", "de", "it"):
        assert report.by_language[lang].kind_accuracy >= report.by_language["en"].kind_accuracy - 0.05, lang


def test_eval_targets_on_the_independent_check_set(classifier: RuleClassifier) -> None:
    with CHECK.open(encoding="utf-8") as stream:
        report = evaluate(classifier, read_labelled(stream))
    overall = report.overall
    assert overall.n >= 150
    assert overall.f1 >= 0.90
    assert overall.kind_accuracy >= 0.85
    assert overall.category_macro_f1 >= 0.75
    assert overall.challenges_called_wins == 0
    assert report.by_language["es"].kind_accuracy >= report.by_language["en"].kind_accuracy - 0.05


# --- rules are data, validated on load with a one-line error naming the file and key


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('language = "en"\n[categories.funding\n', "not valid TOML"),
        ('language = "xx"\n[categories.funding]\nstrong = ["raised"]\n', "language: must be one of"),
        (
            'language = "en"\n[categories.fundraising]\nstrong = ["raised"]\n',
            "categories.fundraising: unknown category",
        ),
        ('language = "en"\n[categories.funding]\nmighty = ["raised"]\n', "categories.funding.mighty: unknown weight"),
        ('language = "en"\n[categories.funding]\nstrong = "raised"\n', "expected a list of phrases"),
        ('language = "en"\n[categories.funding]\nstrong = [""]\n', "a phrase must be a non-empty string"),
        ('language = "en"\n[categories.funding]\nstrong = ["* raised"]\n', "cannot start with a `*` gap"),
        ('language = "en"\n[categories.funding]\nstrong = ["(|raised) money"]\n', "must start with a word"),
        ('language = "en"\n[signals]\nhunch = ["maybe"]\n', "signals.hunch: unknown signal"),
        ('language = "en"\ncolour = "red"\n', "colour: unknown key"),
        ('[customers."Acme"]\nboost = ["acme"]\nshout = ["x"]\n', "customers.Acme.shout: unknown key"),
        ('language = "es"\n[categories.press]\nstrong = ["habla(mos)? con"]\n', "must be a word of its own"),
        ('language = "en"\n[categories.plan]\nstrong = ["(the )?"]\n', "matches empty text"),
        ('language = "en"\n[categories.plan]\nstrong = ["(a|b (c|d))"]\n', "cannot hold another choice"),
        ('language = "fr"\n[categories.incident]\nstrong = ["(prives) de reseau"]\n', "needs two alternatives"),
        ('language = "fr"\n[categories.incident]\nstrong = ["(hors service) depuis"]\n', "needs two alternatives"),
    ],
)
def test_malformed_rules_file_gives_a_clear_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError) as raised:
        read_rules_file(path)
    explained = str(raised.value)
    assert message in explained
    assert str(path) in explained
    assert "\n" not in explained


def test_rules_folder_must_exist_and_cover_english_and_spanish(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_rules([tmp_path / "missing"])
    _write(tmp_path, "en.toml", 'language = "en"\n[categories.funding]\nstrong = ["raised"]\n')
    with pytest.raises(ConfigError, match="no rules for language 'es'"):
        load_rules([tmp_path])


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("by (the end of )?20#", "by the end of 2027", True),
        ("by (the end of )?20#", "by 2027", True),
        ("by (the end of )?20#", "by the way", False),
        ("(superamos|alcanzamos) (los|las)? ?#", "alcanzamos los 5.000", True),
        ("(superamos|alcanzamos) (los|las)? ?#", "superamos 5.000", True),
        ("(kommt es|gibt es) (zu )?(einer |einem )?(storung|ausfall)", "kommt es zu einer störung", True),
        ("(wir )?stellen * vor", "stellen heute vor", True),
    ],
)
def test_optional_choices(tmp_path: Path, phrase: str, text: str, found: bool) -> None:
    _write(tmp_path, "en.toml", f'language = "en"\n[categories.plan]\nstrong = [{json.dumps(phrase)}]\n')
    _write(tmp_path, "es.toml", 'language = "es"\n[categories.plan]\nstrong = ["meta"]\n')
    classifier = RuleClassifier(load_rules([tmp_path]))
    assert (classifier.classify(post(text, "", "en")).category == "plan") is found


def test_extra_rules_folder_adds_phrases(tmp_path: Path) -> None:
    _write(tmp_path, "extra.toml", 'language = "en"\n[categories.award]\nstrong = ["golden widget"]\n')
    classifier = RuleClassifier(load_rules([bundled_rules_dir(), tmp_path]))
    assert classifier.classify(post("Our golden widget is in", "")).category == "award"


def test_bundled_rules_load() -> None:
    rules = load_rules([bundled_rules_dir()])
    assert {"en", "es", "de", "it", "fr", "pt"} <= set(rules.languages)
