"""The general rules behind the errors seen on real posts (issue #12), each in English and Spanish.

The sentences are written for these tests, in the shapes real posts take (wire releases, status pages,
changelogs, investor notices); none is copied from an evaluation file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from listener.errors import ConfigError
from listener.models import Kind, Post
from listener.relevance import RuleClassifier, bundled_rules_dir, load_classifier
from listener.relevance.lexicon import bundled_lexicon, read_lexicon
from listener.relevance.money import find_money
from listener.relevance.numbers import NUMBER_WORDS, number_value
from listener.relevance.rules import LANGUAGES, VETO_FALSE_FRIENDS, load_rules


@pytest.fixture(scope="module")
def classifier() -> RuleClassifier:
    found = load_classifier()
    assert isinstance(found, RuleClassifier)
    return found


def post(title: str, text: str = "", lang: str = "") -> Post:
    return Post("t", "", title, text, None, lang=lang)


# (rule, lang, title, text, expected "kind/category")
CASES = [
    # "Demanda" is market demand far more often than a lawsuit: only a suit filed, sued, or "demanda contra/judicial".
    ("demand", "es", "Así cambió la demanda de paneles solares en el norte", "Un repaso a los datos del trimestre.",
     "news/content"),
    ("demand", "es", "Vecinos presentan una demanda contra la constructora Altamira", "", "challenge/legal"),
    ("demand", "es", "Clientes demandaron a la aerolínea Brisa por las cancelaciones", "", "challenge/legal"),
    ("demand", "en", "Demand for our cold-chain service keeps growing", "", "none/other"),
    # Closing a year, a quarter or a fiscal year is no closure; closing a shop is.
    ("close", "es", "Cerramos el año con récord de pedidos", "", "win/milestone"),
    ("close", "es", "Cerramos nuestra tienda de Sevilla tras 20 años", "", "challenge/downturn"),
    # A goodbye to colleagues, in either gender, is a layoff.
    ("layoffs", "es", "Cambios en el equipo de ventas", "Nos despedimos de 12 compañeras del área comercial.",
     "challenge/layoffs"),
    # Acquisitions in both directions: to acquire is a win, to be acquired is company news.
    ("acquire", "en", "Northwind to acquire Blue Harbor Logistics", "", "win/acquisition"),
    ("acquire", "es", "Grupo Sol acuerda comprar la cadena de panaderías Trigal", "", "win/acquisition"),
    ("acquired", "en", "Blue Harbor announces acquisition by Northwind", "", "news/update"),
    ("acquired", "es", "La cadena Trigal, adquirida por Grupo Sol", "", "news/update"),
    # Buying an asset is not the acquisition of a company.
    ("asset", "en", "Northwind acquires three office buildings in Denver", "", "news/update"),
    ("asset", "es", "Grupo Sol adquiere dos edificios en Valencia", "", "news/update"),
    # Investor notices: presenting at conferences is an event, not a launch or a milestone.
    ("investor", "en", "Northwind to present at upcoming investor conferences", "Northwind (NYSE: NWD) today said...",
     "news/event"),
    ("investor", "es", "Grupo Sol participará en la conferencia anual de inversores de Madrid", "", "news/event"),
    # A finalist is not a winner.
    ("finalist", "en", "Northwind named a finalist for the Regional Logistics Awards", "", "news/event"),
    ("finalist", "es", "Grupo Sol, finalista del concurso de innovación logística", "", "news/event"),
    # Whoever runs an award announcing its finalists or winners hosts an event; the award is not theirs.
    ("organiser", "en", "Harbor Design Awards announces this year's finalists", "", "news/event"),
    ("organiser", "es", "La revista Pyme Hoy premia a las mejores empresas del año", "", "news/event"),
    # Status pages: Investigating/Monitoring notes and "we are aware" are incidents.
    ("status", "en", "Slow dashboards", "Investigating - Some dashboards load slowly. We will post an update soon.",
     "challenge/incident"),
    ("status", "en", "", "We are aware of issues with checkout and are looking at it.", "challenge/incident"),
    ("status", "es", "", "Presentamos fallas en la app. Estamos trabajando para solucionarlas.", "challenge/incident"),
    # Third-party reports of a problem with the company are incidents too.
    ("reports", "en", "", "Users are reporting problems with Northwind's mobile app this morning.",
     "challenge/incident"),
    ("reports", "es", "", "Usuarios reportan fallas en el servicio de Grupo Sol desde esta mañana.",
     "challenge/incident"),
    # Plans and intentions are goals, not wins.
    ("plan", "en", "", "Northwind will invest $50 million in its Ohio plant over the next five years.", "goal/plan"),
    ("plan", "es", "", "Grupo Sol invertirá 50 millones en su planta en los próximos cinco años.", "goal/plan"),
    # The headline says what the post is about.
    ("headline", "en", "Northwind opens two offices in Texas", "It plans to hire 40 people this year.",
     "win/expansion"),
    ("headline", "es", "Grupo Sol abre oficinas en Sevilla y Málaga",
     "La empresa prevé contratar a 40 personas este año.", "win/expansion"),
    # A company testing or changing a feature tells its users news.
    ("update", "en", "", "We're testing a way to pin replies at the top of a thread.", "news/update"),
    ("update", "es", "", "Estamos probando una forma de fijar respuestas en los hilos.", "news/update"),
    # Head-count milestones are milestones, not hiring.
    ("headcount", "en", "We just reached 500 employees!", "", "win/milestone"),
    ("headcount", "es", "Hemos alcanzado los 500 empleados", "", "win/milestone"),
    # Portuguese look-alikes, as in Spanish: a bug fix is no incident, a health plan no goal, "Magazine" a shop's name.
    ("bug fix", "pt", "Versão 3.2.1 lançada", "Esta versão traz a correção de bugs na exportação.", "news/update"),
    ("health plan", "pt", "Unimed amplia a rede do plano de saúde empresarial",
     "Mais hospitais para os clientes do plano de saúde.", "none/other"),
    ("false friend", "pt", "Magazine Luiza inaugura loja em Belém", "A varejista abre sua primeira loja no Pará.",
     "win/expansion"),
    ("record", "pt", "Acme bate recorde de vendas no trimestre", "", "win/milestone"),
    ("record", "pt", "Lucro da Acme cresce 30% no semestre", "", "win/milestone"),
    ("profit fall", "pt", "Lucro da Acme cai 30% no semestre", "", "challenge/downturn"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "lang", "title", "text", "expected"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_general_rules(classifier: RuleClassifier, rule: str, lang: str, title: str, text: str, expected: str) -> None:
    insight = classifier.classify(post(title, text, lang))
    assert f"{insight.kind.value}/{insight.category}" == expected, (rule, insight.evidence)


# (rule, lang, title, text, the kind the look-alike must not produce)
LOOK_ALIKES = [
    ("retirement plan", "en", "", "Northwind now offers a retirement plan to every employee.", Kind.CHALLENGE),
    ("retirement plan", "es", "", "Grupo Sol ofrece un plan de pensiones a todo su equipo.", Kind.CHALLENGE),
    ("last day of the sale", "en", "Last day of our summer sale", "30% off everything until midnight.", Kind.CHALLENGE),
    ("last day of the sale", "es", "Último día de rebajas", "30% de descuento en todo hasta medianoche.",
     Kind.CHALLENGE),
    ("thank-you note", "en", "", "Thank you for a wonderful year, see you in January!", Kind.CHALLENGE),
    ("thank-you note", "es", "", "¡Gracias por confiar en nosotros este año! Nos vemos en enero.", Kind.CHALLENGE),
    ("code signing", "en", "How code signing keeps your installers safe", "", Kind.WIN),
    ("exit survey", "en", "Try our exit survey template", "Learn why customers leave.", Kind.CHALLENGE),
    ("bug-fix changelog", "en", "Release 2.3.1", "### Fixed - Fix crash when exporting reports - Fix error on login",
     Kind.CHALLENGE),
    ("bug-fix changelog", "es", "Versión 2.3.1",
     "Corrige un error al exportar informes y soluciona un fallo de acceso.", Kind.CHALLENGE),
    ("maintenance notice", "en", "Database maintenance",
     "Scheduled - On Saturday we will be performing maintenance. We do not expect any downtime.", Kind.CHALLENGE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "lang", "title", "text", "wrong"), LOOK_ALIKES, ids=[f"{c[0]}-{c[1]}" for c in LOOK_ALIKES]
)
def test_look_alike_phrases_do_not_decide(
    classifier: RuleClassifier, rule: str, lang: str, title: str, text: str, wrong: Kind
) -> None:
    insight = classifier.classify(post(title, text, lang))
    assert insight.kind is not wrong, (rule, insight.category, insight.evidence)


# The safety veto: closures after N years and withdrawals of products are challenges, never wins.
VETO = [
    ("en", "Northwind Bakery closes its doors after 30 years", "Proud of every loaf. Celebrating 30 years with you."),
    ("es", "La panadería Trigal cierra tras 30 años", "Orgullosos de estos 30 años. ¡Gracias a todos!"),
    ("en", "Northwind withdraws its Pulse app from the market", "Thrilled to have served 10,000 users since launch."),
    ("es", "Grupo Sol retira del mercado su app Pulso", "Estamos orgullosos de los 10.000 usuarios que la usaron."),
    ("en", "", "Standard maintenance and support will stop for all licenses on December 31."),
    ("es", "", "La tienda anuncia el cese de su actividad tras diez años."),
]


@pytest.mark.parametrize(("lang", "title", "text"), VETO)
def test_closures_and_withdrawals_are_challenges(classifier: RuleClassifier, lang: str, title: str, text: str) -> None:
    insight = classifier.classify(post(title, text, lang))
    assert insight.kind is Kind.CHALLENGE, insight.evidence
    assert insight.category == "downturn"


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "the office smells like pumpkin spice again 🎃"),
        ("es", "la oficina huele otra vez a calabaza y canela 🎃"),
    ],
)
def test_a_tweet_without_business_news_is_small_talk(classifier: RuleClassifier, lang: str, text: str) -> None:
    tweet = Post("t", "", "", text, None, lang=lang, source_kind="twitter")
    assert (classifier.classify(tweet).kind, classifier.classify(tweet).category) == (Kind.NONE, "chatter")
    feed_item = Post("t", "", "", text, None, lang=lang, source_kind="rss")
    assert classifier.classify(feed_item).kind is Kind.NONE


# --- the lexicon: language knowledge lives in config/rules/<lang>.toml


def test_the_lexicon_is_read_from_the_language_files() -> None:
    lexicon = bundled_lexicon()
    assert set(LANGUAGES) == {"en", "es", "pt", "fr", "de", "it", "ca"}
    assert number_value("diez") == 10 and number_value("zwanzig") == 20 and NUMBER_WORDS["vinte e cinco"] == 25
    assert {"the", "and"} <= lexicon.function_words["en"] and "los" in lexicon.function_words["es"]
    assert "jubila*" in VETO_FALSE_FRIENDS
    amounts = find_money("2 millones de dólares y 3 reais")
    assert [(m.value, m.currency) for m in amounts] == [(2e6, "USD"), (3.0, "BRL")]


# English phrases run on every language's posts; an English cue word that is an ordinary word of the post's
# language ([lexicon] english_false_friends) is neither a cue nor a veto there, and still both in English.
@pytest.mark.parametrize(
    ("lang", "title", "text", "not_category"),
    [
        ("it", "Acme presenta i risultati del trimestre", "Acme e le sue squadre ringraziano i suoi clienti.", "legal"),
        (
            "fr",
            "Acme : l'issue des discussions avec la région",
            "Un accord sera signé à l'issue de la réunion.",
            "incident",
        ),
        ("es", "Cinco hábitos para cuidar la espalda", "Dos minutos de movilidad de cuello a media mañana.", "press"),
        ("de", "Acme lädt zur Probe des neuen Orchesters", "Die Probe beginnt um 18 Uhr im Saal.", "legal"),
    ],
)
def test_an_english_cue_that_is_an_ordinary_word_of_the_language_does_not_count(
    classifier: RuleClassifier, lang: str, title: str, text: str, not_category: str
) -> None:
    insight = classifier.classify(post(title, text, lang))
    assert insight.lang == lang and insight.category != not_category, insight
    assert not any(fold_word in bundled_lexicon().english_false_friends[lang] for fold_word in map(str.lower,
                   insight.evidence)), insight.evidence  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("it", "Acme e le sue squadre vincono il premio Innovazione"),
        ("fr", "Acme : une issue heureuse, le prix est à nous"),
    ],
)
def test_an_english_false_friend_in_the_headline_vetoes_no_win(
    classifier: RuleClassifier, lang: str, title: str
) -> None:
    assert classifier.win_check(post(title, "", lang)) == ("", "")


def test_the_english_words_keep_their_meaning_in_english(classifier: RuleClassifier) -> None:
    assert classifier.classify(post("Acme sues Initech over its patents", "", "en")).category == "legal"
    assert classifier.win_check(post("Investors sue Acme after the award", "", "en"))[0] == "legal"
    assert classifier.classify(post("Acme featured in the media this week", "", "en")).category == "press"


def _copy_bundled(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(bundled_rules_dir(), folder)
    return folder


def test_a_new_language_is_one_data_file(tmp_path: Path) -> None:
    folder = _copy_bundled(tmp_path)
    (folder / "nl.toml").write_text(
        'language = "nl"\n[lexicon]\nfunction_words = ["de", "het", "een"]\nmoney_words = { gulden = "NLG" }\n'
        "[lexicon.number_words]\ntwintig = 20\n",
        encoding="utf-8",
    )
    lexicon = read_lexicon(folder)
    assert "nl" in lexicon.languages
    assert lexicon.function_words["nl"] == {"de", "het", "een"}
    assert lexicon.number_words["twintig"] == 20 and lexicon.money_words["gulden"] == "NLG"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[lexicon]\ncolour = []\n", "lexicon.colour: unknown key"),
        ('[lexicon]\nfunction_words = "de"\n', "lexicon.function_words: expected a list"),
        ('[lexicon.number_words]\ntwintig = "20"\n', "lexicon.number_words.twintig: expected a int"),
        ('[lexicon]\nmoney_words = { gulden = "gulden" }\n', "lexicon.money_words.gulden: expected an ISO 4217"),
        ('[lexicon]\nenglish_false_friends = "sue"\n', "lexicon.english_false_friends: expected a list"),
    ],
)
def test_a_bad_lexicon_is_one_line_naming_the_key(tmp_path: Path, table: str, message: str) -> None:
    folder = _copy_bundled(tmp_path)
    (folder / "nl.toml").write_text('language = "nl"\n' + table, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as raised:
        read_lexicon(folder)
    assert "\n" not in str(raised.value) and "nl.toml" in str(raised.value)


def test_a_lexicon_outside_the_bundled_rules_is_refused(tmp_path: Path) -> None:
    extra = tmp_path / "mine"
    extra.mkdir()
    (extra / "more.toml").write_text('language = "en"\n[lexicon]\nfunction_words = ["the"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="only the bundled rules"):
        load_rules([bundled_rules_dir(), extra])
