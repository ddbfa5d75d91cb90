"""The rules of the languages other than English (issue #12): Catalan, and the general fixes in Spanish, French,
Portuguese, German and Italian.

Every sentence is written for these tests in the shapes real posts take (press releases, business news, status
pages, investor notices); none is copied from an evaluation file.
"""

from __future__ import annotations

import pytest

from listener.models import Kind, Post
from listener.relevance import RuleClassifier, load_classifier
from listener.relevance.language import detect_language
from listener.relevance.rules import LANGUAGES


@pytest.fixture(scope="module")
def classifier() -> RuleClassifier:
    found = load_classifier()
    assert isinstance(found, RuleClassifier)
    return found


def label(classifier: RuleClassifier, title: str, text: str = "", lang: str = "") -> str:
    insight = classifier.classify(Post("t", "", title, text, None, lang=lang))
    return f"{insight.kind.value}/{insight.category}"


# --- Catalan: one data file, every category


CATALAN = [
    ("Fintech Nord tanca una ronda de finançament de 6 milions d'euros", "", "win/funding"),
    ("", "L'empresa ha captat 3 milions en una ronda liderada per un fons de Barcelona.", "win/funding"),
    ("Grup Serra adquireix l'empresa de logística Rutes Verdes", "", "win/acquisition"),
    ("La cooperativa llança una nova aplicació per fer comandes", "", "win/launch"),
    ("El celler Vall Fosca guanya el premi al millor vi negre de l'any", "", "win/award"),
    ("La pastisseria Cal Pere celebra 50 anys d'història al barri", "", "win/milestone"),
    ("Grup Serra obre una nova botiga a Girona", "", "win/expansion"),
    ("Fintech Nord signa un acord de col·laboració amb CaixaBank", "", "win/partnership"),
    ("L'enginyeria Traçat s'adjudica el contracte de manteniment del port", "", "win/customer_win"),
    ("Grup Serra nomena Marta Puig nova directora general", "", "win/leadership"),
    ("L'empresa se suma a la jornada sobre indústria 4.0 que organitzem a Lleida", "", "news/event"),
    ("Busquem un desenvolupador backend per a l'equip de Barcelona", "Envia'ns el teu CV.", "news/hiring"),
    ("Grup Serra preveu obrir deu botigues més en els propers tres anys", "", "goal/plan"),
    ("Fintech Nord acomiada 40 treballadors", "", "challenge/layoffs"),
    ("La fàbrica de Manlleu presenta un ERO que afecta 120 treballadors", "", "challenge/layoffs"),
    ("Incidència en el servei de pagaments", "Estem investigant la causa. Disculpeu les molèsties.",
     "challenge/incident"),
    ("Caiguda del servei de banca en línia durant el matí", "", "challenge/incident"),
    ("La CNMC multa Grup Serra amb 2 milions d'euros", "", "challenge/legal"),
    ("El conseller delegat de Fintech Nord dimiteix", "", "challenge/departure"),
    ("La llibreria Els Llibres del Pi tanca després de 60 anys", "", "challenge/downturn"),
    ("Teixits Vidal entra en concurs de creditors", "", "challenge/downturn"),
    ("Rebaixes d'estiu: 30% de descompte en tota la botiga", "", "none/promo"),
    ("Bon Nadal i bones festes a tothom!", "", "none/chatter"),
]  # fmt: skip


@pytest.mark.parametrize(("title", "text", "expected"), CATALAN, ids=[c[2] for c in CATALAN])
def test_catalan_rules_cover_every_kind(classifier: RuleClassifier, title: str, text: str, expected: str) -> None:
    assert label(classifier, title, text, "ca") == expected


def test_catalan_is_a_rule_language() -> None:
    assert "ca" in LANGUAGES


# Enough text for the detector to work on, with no declared language.
CATALAN_TEXTS = [
    "La cooperativa ha obert una nova botiga a Girona i contractarà vint persones aquest any.",
    "Avui celebrem els nostres 25 anys amb tots els clients que ens han acompanyat.",
    "L'empresa tanca una ronda de finançament per ampliar la seva fàbrica de Manresa.",
]
SPANISH_TEXTS = [
    "La cooperativa ha abierto una nueva tienda en Girona y contratará a veinte personas este año.",
    "Hoy celebramos nuestros 25 años con todos los clientes que nos han acompañado.",
    "La empresa cierra una ronda de financiación para ampliar su fábrica de Manresa.",
]


@pytest.mark.parametrize("text", CATALAN_TEXTS)
def test_the_detector_recognises_catalan(text: str) -> None:
    assert detect_language(text) == "ca"
    assert detect_language(text, hint="ca") == "ca"
    assert detect_language(text, hint="es") == "ca"  # a feed that says Spanish but writes Catalan


@pytest.mark.parametrize("text", SPANISH_TEXTS)
def test_the_detector_does_not_take_spanish_for_catalan(text: str) -> None:
    assert detect_language(text) == "es"
    assert detect_language(text, hint="es") == "es"
    assert detect_language(text, hint="ca") == "es"  # a feed that says Catalan but writes Spanish


# Words that mean something else in context, in Catalan.
CATALAN_LOOK_ALIKES = [
    ("Tanquem l'any amb un rècord de comandes", "", Kind.CHALLENGE),
    ("L'empresa ofereix un pla de pensions a tota la plantilla", "", Kind.CHALLENGE),
    ("Versió 3.2", "Corregeix un error en exportar informes i soluciona un problema d'accés.", Kind.CHALLENGE),
    ("Grup Serra, finalista dels premis a la innovació logística", "", Kind.WIN),
]


@pytest.mark.parametrize(("title", "text", "wrong"), CATALAN_LOOK_ALIKES)
def test_catalan_look_alikes_do_not_decide(classifier: RuleClassifier, title: str, text: str, wrong: Kind) -> None:
    insight = classifier.classify(Post("t", "", title, text, None, lang="ca"))
    assert insight.kind is not wrong, (insight.category, insight.evidence)


def test_catalan_challenge_words_do_not_veto_other_languages(classifier: RuleClassifier) -> None:
    # "ero" is Italian for "I was", "vaga" Spanish and Italian for "vague", "idle": never a veto alone.
    assert (
        label(classifier, "Ero al lancio del nostro nuovo prodotto: ecco com'è andata", "", "it") != "challenge/layoffs"
    )
    assert label(classifier, "Lanzamos una nueva app: adiós a la gestión vaga de pedidos", "", "es") == "win/launch"


# --- Spanish: general fixes by cause (each rule with sentences written for it)

SPANISH = [
    # Short coverage headlines by others are news about the company, not nothing and not its own launch.
    ("coverage", "Grupo Sol, en el punto de mira de los inversores", "", "news/update"),
    ("coverage", "Así es la nueva sede de Grupo Sol en Valencia", "", "news/update"),
    ("coverage", "Así funciona el almacén automático de Trigal", "", "news/update"),
    # Plans and intentions are goals.
    ("plan", "Grupo Sol prevé abrir 30 tiendas en México", "", "goal/plan"),
    ("plan", "Trigal tiene previsto contratar a 200 personas el próximo año", "", "goal/plan"),
    ("plan", "", "La cadena aspira a duplicar su facturación antes de 2030.", "goal/plan"),
    ("plan", "Grupo Sol invertirá 40 millones en su planta de Zaragoza", "", "goal/plan"),
    # Finalists, nominees and candidates have not won.
    ("finalist", "Trigal, candidata a los premios Pyme del Año", "", "news/event"),
    ("finalist", "Grupo Sol opta al premio a la mejor empresa exportadora", "", "news/event"),
    # Investor notices.
    ("investor", "Grupo Sol: otra información relevante", "La sociedad comunica la convocatoria de su consejo.",
     "news/update"),
    ("investor", "Hecho relevante: Trigal comunica el nombramiento de auditores", "", "news/update"),
    ("plan", "Trigal prepara su salida a bolsa para la primavera", "", "goal/plan"),
    ("investor", "Trigal aplaza su salida a bolsa por la volatilidad", "", "news/update"),
    ("investor", "Grupo Sol presentará sus resultados del tercer trimestre el 28 de octubre", "", "news/update"),
    ("investor", "Grupo Sol convoca la junta general de accionistas", "", "news/event"),
    ("investor", "Trigal presentará en la conferencia de inversores de Londres", "", "news/event"),
    ("listing", "Trigal debuta en bolsa con una subida del 12%", "", "win/milestone"),
    # An investment amount alone is a plan; one that names the plant or the stores it opens is an expansion.
    ("invest", "Grupo Sol invertirá 60 millones en ampliar su fábrica de Burgos", "", "win/expansion"),
    ("invest", "Trigal invertirá 20 millones en abrir diez tiendas en Andalucía", "", "win/expansion"),
    # Acquisitions both ways; signing a purchase agreement is an acquisition, not a partnership.
    ("acquire", "Grupo Sol firma un acuerdo para adquirir la cadena Trigal", "", "win/acquisition"),
    ("acquire", "Grupo Sol lanza una opa sobre Trigal", "", "win/acquisition"),
    ("acquired", "Trigal recibe una opa de Grupo Sol", "", "news/update"),
    ("acquired", "Trigal acepta la oferta de compra del fondo Atlas", "", "news/update"),
    ("acquired", "Grupo Sol recibe tres ofertas de compra por su filial", "", "news/update"),
    # Buying shares or property is not acquiring a company.
    ("asset", "Grupo Sol adquiere una participación del 5% en Trigal", "", "news/update"),
    ("asset", "Trigal adquiere unos solares en Getafe", "", "news/update"),
    # Versions and changelogs are updates.
    ("changelog", "Versión 4.2.0", "Mejoras de rendimiento y nuevos filtros en los informes.", "news/update"),
    ("changelog", "Notas de la versión 2.1", "Añadimos la exportación a PDF.", "news/update"),
    # Status-page stages and "we are experiencing problems" are incidents.
    ("status", "Pagos con tarjeta", "Investigando - Estamos investigando el problema con los pagos.",
     "challenge/incident"),
    ("status", "Acceso a la app", "Identificado - Hemos identificado la causa del fallo y aplicamos una corrección.",
     "challenge/incident"),
    ("status", "", "Estamos experimentando problemas con el envío de facturas. Os mantendremos informados.",
     "challenge/incident"),
    ("status", "", "Usuarios reportan problemas para acceder a la banca en línea de Trigal.", "challenge/incident"),
    # Contracts won are customer wins; executives elected are appointments.
    ("contract", "Grupo Sol logra un contrato de 80 millones con el Ayuntamiento de Sevilla", "", "win/customer_win"),
    ("leadership", "La patronal elige a Ana Ruiz como nueva presidenta", "", "win/leadership"),
    # Revenue and profit growth is a milestone.
    ("growth", "Trigal eleva un 12% sus ventas en el primer semestre", "", "win/milestone"),
    # "La firma" followed by what kind of firm it is: the firm, not a signing.
    ("firm", "La firma alemana Atlas abre oficina en Madrid", "Atlas, firma de ingeniería, llega con 20 personas.",
     "win/expansion"),
    # A regulator acting is legal trouble; its name alone is not.
    ("regulator", "La CNMC multa a Trigal con 3 millones por pactar precios", "", "challenge/legal"),
    ("regulator", "Expediente de la CNMV a Grupo Sol por su folleto", "", "challenge/legal"),
    # Seeking money is a plan, not money raised.
    ("seeking", "Trigal busca nuevos inversores para crecer en Portugal", "", "goal/plan"),
    # An executive hired to strengthen the management team is a leadership win.
    ("hire", "Grupo Sol refuerza su comité de dirección con una exdirectiva de Inditex", "", "win/leadership"),
    # A company's first plant or park is an expansion, also when the money is the headline.
    ("first", "Grupo Sol invertirá 30 millones en sus dos primeros parques eólicos", "", "win/expansion"),
    ("first", "", "La empresa tendrá su primera planta en Nuevo León, donde fabricará puertas.", "win/expansion"),
    # "Hoy hace diez años" is an anniversary; "hace tres años" alone is a time reference.
    ("anniversary", "Hoy hace 15 años abrimos nuestra primera tienda", "", "win/milestone"),
    ("listing", "Trigal debuta hoy en bolsa con una subida del 5%", "", "win/milestone"),
    # Someone else's news on our channel is not our win.
    ("other", "", "¡Felicitamos a nuestro cliente Trigal por su nueva tienda en Bilbao!", "news/content"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "title", "text", "expected"), SPANISH, ids=[f"{c[0]}-{i}" for i, c in enumerate(SPANISH)]
)
def test_spanish_general_rules(classifier: RuleClassifier, rule: str, title: str, text: str, expected: str) -> None:
    assert label(classifier, title, text, "es") == expected, rule


# The safety veto in Spanish: closures after N years, insolvency, ERE/ERTE and withdrawals are challenges, whatever
# the celebration around them.
SPANISH_VETO = [
    ("La librería Trigal cierra sus puertas tras 45 años", "Orgullosos de estos 45 años con vosotros.", "downturn"),
    ("Grupo Sol baja la persiana de su tienda de Gijón", "Gracias por tantos años de cariño.", "downturn"),
    ("Trigal entra en concurso de acreedores", "La empresa celebró el año pasado su 50 aniversario.", "downturn"),
    ("Grupo Sol presenta un ERTE para 300 trabajadores", "La compañía lanzó este año su nueva gama.", "layoffs"),
    ("Trigal discontinúa su app de pedidos", "Gracias a los 20.000 usuarios que la han usado.", "downturn"),
    ("Grupo Sol deja de comercializar su bebida Brisa", "Un producto del que estamos orgullosos.", "downturn"),
]


@pytest.mark.parametrize(("title", "text", "category"), SPANISH_VETO)
def test_spanish_closures_and_withdrawals_are_challenges(
    classifier: RuleClassifier, title: str, text: str, category: str
) -> None:
    assert label(classifier, title, text, "es") == f"challenge/{category}"


# Words that mean something else in context.
SPANISH_LOOK_ALIKES = [
    ("Grupo Sol mejora su plan de pensiones para toda la plantilla", "", Kind.CHALLENGE),
    ("Trigal baja los precios de su menú del día", "", Kind.CHALLENGE),
    ("Grupo Sol despide el año con una cena para todo el equipo", "", Kind.CHALLENGE),
    ("Grupo Sol se despide del año con una cena para todo el equipo", "", Kind.CHALLENGE),
    ("Grupo Sol, finalista de los premios a la innovación", "", Kind.WIN),
    ("El Cuponazo deja en Trujillo dos millones de euros", "", Kind.CHALLENGE),
    ("Nueva etapa en la CNMV con los mismos retos de siempre", "", Kind.CHALLENGE),
    ("Grupo Sol prevé cerrar el año con menos inversión que hace tres años", "", Kind.WIN),
    ("Un vecino de Lugo, premiado con 300.000 euros en la Bonoloto", "", Kind.WIN),
    ("Grupo Sol recibe ofertas para evitar el concurso de acreedores", "", Kind.CHALLENGE),
    ("Grupo Sol anuncia la firma de un acuerdo para adquirir Trigal", "", Kind.NONE),
    ("Las fintech disparan su valoración en 2020", "", Kind.GOAL),
]  # fmt: skip


@pytest.mark.parametrize(("title", "text", "wrong"), SPANISH_LOOK_ALIKES)
def test_spanish_look_alikes_do_not_decide(classifier: RuleClassifier, title: str, text: str, wrong: Kind) -> None:
    insight = classifier.classify(Post("t", "", title, text, None, lang="es"))
    assert insight.kind is not wrong, (insight.category, insight.evidence)


# --- French, Portuguese, German and Italian: the same families, briefer

OTHER_LANGUAGES = [
    # status-page stages
    ("fr", "Paiements", "Identifié - Le problème a été identifié, un correctif est en cours de déploiement.",
     "challenge/incident"),
    ("fr", "", "Nous rencontrons actuellement des perturbations sur l'application mobile.", "challenge/incident"),
    ("pt", "Pagamentos via Pix", "Investigando - Estamos investigando o problema com os pagamentos.",
     "challenge/incident"),
    ("pt", "", "Clientes relatam instabilidade no aplicativo do banco desde cedo.", "challenge/incident"),
    ("de", "Anmeldung", "Es kommt derzeit zu Störungen bei der Anmeldung. Wir untersuchen das Problem.",
     "challenge/incident"),
    ("de", "Zahlungen", "Behoben: Die Störung ist behoben, alle Zahlungen laufen wieder.", "challenge/incident"),
    ("it", "", "Stiamo riscontrando rallentamenti sull'app. Ci scusiamo per il disagio.", "challenge/incident"),
    ("it", "Pagamenti", "Il problema è stato individuato e stiamo lavorando alla soluzione.", "challenge/incident"),
    # investor notices
    ("fr", "Groupe Soleil : assemblée générale des actionnaires du 12 juin", "", "news/event"),
    ("fr", "Groupe Soleil publiera ses résultats du troisième trimestre le 24 octobre", "", "news/update"),
    ("pt", "Grupo Sol: fato relevante", "A companhia comunica ao mercado a renúncia de um conselheiro.",
     "news/update"),
    ("de", "Sonnen AG: Einladung zur ordentlichen Hauptversammlung", "", "news/event"),
    ("de", "Ad-hoc-Mitteilung: Sonnen AG passt Prognose an", "", "news/update"),
    ("it", "Gruppo Sole approva i risultati del terzo trimestre", "", "news/update"),
    ("it", "Gruppo Sole, convocata l'assemblea degli azionisti", "", "news/event"),
    # plans and intentions
    ("fr", "Groupe Soleil prévoit d'ouvrir vingt magasins d'ici 2027", "", "goal/plan"),
    ("pt", "Grupo Sol pretende abrir 15 lojas no Nordeste", "", "goal/plan"),
    ("pt", "", "O Grupo Sol informou que vai abrir dois centros de distribuição no México.", "win/expansion"),
    ("pt", "Grupo Sol anuncia investimento de R$ 300 milhões em sua fábrica", "", "goal/plan"),
    ("de", "Sonnen AG plant einen Börsengang im Frühjahr", "", "goal/plan"),
    ("it", "Gruppo Sole prevede di aprire dieci negozi in Lombardia", "", "goal/plan"),
    # finalists
    ("fr", "Groupe Soleil, finaliste des Trophées de l'innovation", "", "news/event"),
    ("pt", "Grupo Sol é finalista do prêmio de inovação do varejo", "", "news/event"),
    ("de", "Sonnen AG ist Finalist für den Deutschen Innovationspreis", "", "news/event"),
    ("it", "Gruppo Sole tra i finalisti del premio Impresa dell'anno", "", "news/event"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "title", "text", "expected"), OTHER_LANGUAGES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OTHER_LANGUAGES)])  # fmt: skip
def test_other_languages_general_rules(
    classifier: RuleClassifier, lang: str, title: str, text: str, expected: str
) -> None:
    assert label(classifier, title, text, lang) == expected


# Closures after N years and withdrawals, with a celebration around them: never a win.
OTHER_VETO = [
    ("fr", "La librairie du Port ferme ses portes après 40 ans", "Fiers de ces 40 ans passés avec vous !", "downturn"),
    ("fr", "Groupe Soleil arrête la commercialisation de sa gamme Brise", "Merci à nos clients.", "downturn"),
    ("pt", "Livraria Central fecha as portas após 50 anos", "Orgulho de cinco décadas com vocês.", "downturn"),
    ("pt", "Grupo Sol deixa de vender sua linha de sucos", "Obrigado a todos os clientes.", "downturn"),
    ("de", "Buchhandlung Meier schließt nach 60 Jahren", "Wir feiern 60 Jahre mit Ihnen.", "downturn"),
    ("de", "Sonnen AG nimmt ihre App vom Markt", "Danke an 10.000 Nutzer.", "downturn"),
    ("it", "La libreria Rossi chiude dopo 70 anni", "Orgogliosi di questi 70 anni insieme.", "downturn"),
    ("it", "Gruppo Sole ritira dal mercato la sua bevanda Brezza", "Grazie a tutti i clienti.", "downturn"),
]


@pytest.mark.parametrize(("lang", "title", "text", "category"), OTHER_VETO)
def test_other_languages_closures_and_withdrawals_are_challenges(
    classifier: RuleClassifier, lang: str, title: str, text: str, category: str
) -> None:
    assert label(classifier, title, text, lang) == f"challenge/{category}"


REGULATORS = [
    ("fr", "La CNIL inflige une amende de 2 millions d'euros à Groupe Soleil", "challenge/legal"),
    ("pt", "Procon multa Grupo Sol por propaganda enganosa", "challenge/legal"),
    ("de", "Bundeskartellamt verhängt Bußgeld gegen Sonnen AG", "challenge/legal"),
    ("it", "L'Antitrust sanziona Gruppo Sole per pratiche commerciali scorrette", "challenge/legal"),
]
REGULATOR_NAMES_ONLY = [
    ("fr", "Groupe Soleil présente son offre aux membres de la CNIL"),
    ("pt", "Grupo Sol recebe selo de qualidade do Procon"),
    ("it", "La lettera del garante dei clienti di Gruppo Sole"),
]


@pytest.mark.parametrize(("lang", "title", "expected"), REGULATORS)
def test_a_regulator_acting_is_legal_trouble(classifier: RuleClassifier, lang: str, title: str, expected: str) -> None:
    assert label(classifier, title, "", lang) == expected


@pytest.mark.parametrize(("lang", "title"), REGULATOR_NAMES_ONLY)
def test_a_regulator_named_is_not_legal_trouble(classifier: RuleClassifier, lang: str, title: str) -> None:
    assert label(classifier, title, "", lang) != "challenge/legal"


def test_a_portuguese_weekday_is_no_fair(classifier: RuleClassifier) -> None:
    # "quinta-feira" is Thursday: the "feira" in it is no trade fair.
    text = "Na quinta-feira, a rede Sol abriu dois centros de distribuição no México."
    assert label(classifier, "", text, "pt") != "news/event"


# Generic subjects and round-ups, in every language: about other companies, never a win or a challenge of the customer.
ROUND_UPS = [
    ("es", "Las empresas que más despidos anunciaron este año", ""),
    ("es", "Las startups españolas captaron 300 millones en el primer trimestre", ""),
    ("ca", "Les empreses catalanes retallen plantilla per la crisi energètica", ""),
    ("fr", "Les start-up européennes lèvent 2 milliards d'euros en mars", ""),
    ("pt", "Startups portuguesas reduzem equipas e demitem centenas", ""),
    ("de", "Startups entlassen Hunderte Mitarbeiter", ""),
    ("it", "Le startup italiane hanno raccolto 300 milioni nel trimestre", ""),
]


@pytest.mark.parametrize(("lang", "title", "text"), ROUND_UPS)
def test_generic_subjects_are_about_others_in_every_language(
    classifier: RuleClassifier, lang: str, title: str, text: str
) -> None:
    # news/content where the rules' cues are kept as someone else's (as in English), none/other where none is left.
    assert label(classifier, title, text, lang) in ("news/content", "none/other")


def test_a_companys_own_round_is_still_its_win(classifier: RuleClassifier) -> None:
    # The generic-subject phrases need a plural subject: one company's news keeps its label.
    assert label(classifier, "Grupo Sol levanta 5 millones en una ronda liderada por Kibo", "", "es") == "win/funding"
    assert label(classifier, "Grupo Sol anuncia un ERE para 300 trabajadores", "", "es") == "challenge/layoffs"


def test_launching_job_offers_is_hiring(classifier: RuleClassifier) -> None:
    # What is launched decides: job offers are ordinary hiring, not a product launch to congratulate.
    assert label(
        classifier, "", "Grupo Sol lanza nuevas ofertas de empleo en toda España con contrato indefinido.", "es"
    ) == ("news/hiring")
    assert label(classifier, "Grupo Sol lanza su nueva app de pagos", "", "es") == "win/launch"


def test_spanish_departures_said_other_ways(classifier: RuleClassifier) -> None:
    for title, text in (
        ("Grupo Sol cambiará de director general", "Ana Ruiz dejará de estar al frente de la compañía en enero."),
        ("", "El pasado mes terminó mi relación laboral con Grupo Sol: gracias a todos."),
    ):
        assert label(classifier, title, text, "es") == "challenge/departure", (title, text)
    assert label(classifier, "Grupo Sol nombra a Ana Ruiz directora general", "", "es") == "win/leadership"


@pytest.mark.parametrize(
    ("lang", "title", "text", "expected"),
    [
        # Québec French says "compressions" for job cuts; "claque la porte" is a departure; a leak is an incident.
        ("fr", "", "Nouvelles compressions chez Papeterie Nord : 120 postes abolis à l'usine de Trois-Rivières.",
         "challenge/layoffs"),
        ("fr", "Le président de Papeterie Nord claque la porte", "", "challenge/departure"),
        ("fr", "Vol de données chez Papeterie Nord : 40 000 clients touchés", "", "challenge/incident"),
        ("fr", "Le régulateur bloque l'achat de Papeterie Nord par Groupe Sud", "", "challenge/legal"),
        ("de", "", "Am Montag war die Erreichbarkeit von Bäckerei Hofmann online gestört.", "challenge/incident"),
        ("de", "Messe der Bäckerei Hofmann fällt aus", "", "challenge/downturn"),
        ("de", "Bäckerei Hofmann darf nicht mehr mit 'bio' werben", "", "challenge/legal"),
        ("pt", "", "A Padaria Aurora informou que o diretor presidente renunciou ao cargo.", "challenge/departure"),
        ("it", "", "È entrato nel terzo giorno il down delle caselle email di Forno Rossi.", "challenge/incident"),
        ("es", "", "Imputan por corrupción al presidente de Molinos del Sur.", "challenge/legal"),
        # Status notes and coverage said in other words (issue #12, the eleventh collection's development part).
        ("es", "", "Nuestros sistemas están presentando fallas. Lamentamos los inconvenientes.", "challenge/incident"),
        ("es", "", "La aplicación de Molinos del Sur está fallando desde ayer.", "challenge/incident"),
        ("es", "", "Molinos del Sur decidió suspender sus operaciones.", "challenge/downturn"),
        ("es", "", "Nos vemos obligados a cerrar después de 35 años.", "challenge/downturn"),
        ("es", "", "Molinos del Sur se acogió al Capítulo 11 en Nueva York.", "challenge/downturn"),
        ("es", "", "El presidente de Molinos del Sur abandonará el consejo en diciembre.", "challenge/departure"),
        ("es", "", "La justicia procesará al CEO de Molinos del Sur por blanqueo de capitales.", "challenge/legal"),
        # A regulator or a court ordering the company, whatever it orders (here, to appoint a new president).
        ("es", "La Superintendencia ordena designar nuevo presidente de Molinos del Sur", "", "challenge/legal"),
        ("es", "", "Un juez ordena el cierre cautelar de la planta de Molinos del Sur.", "challenge/legal"),
        ("fr", "", "Papeterie Nord va licencier du personnel.", "challenge/layoffs"),
        ("fr", "", "Papeterie Nord a mis à pied jeudi 36 collaborateurs.", "challenge/layoffs"),
        ("fr", "", "Les abonnés ont été privés de réseau mobile toute la journée.", "challenge/incident"),
        ("it", "", "Venticinque persone saranno licenziate da Forno Rossi.", "challenge/layoffs"),
        ("de", "", "Der Chef von Bäckerei Hofmann tritt laut einem Bericht zurück.", "challenge/departure"),
        ("de", "", "Ein Serverausfall bei Bäckerei Hofmann blockierte den Onlineshop.", "challenge/incident"),
        ("pt", "", "Este post explica o incidente ocorrido nesta sexta-feira.", "challenge/incident"),
        ("pt", "", "A Padaria Aurora terá menos 1.600 trabalhadores até ao fim do ano.", "challenge/layoffs"),
        ("en", "", "Harbor Apps loses 2 million daily active users.", "challenge/downturn"),
        ("en", "", "Harbor Foods has lowered its full-year guidance.", "challenge/downturn"),
        ("en", "", "The API began experiencing increased latency and intermittent unresponsiveness.",
         "challenge/incident"),
    ],
)  # fmt: skip
def test_challenge_vocabulary_of_each_language(
    classifier: RuleClassifier, lang: str, title: str, text: str, expected: str
) -> None:
    assert label(classifier, title, text, lang) == expected


@pytest.mark.parametrize(
    ("lang", "title", "text", "expected"),
    [
        # Wins and plans said in words the eleventh collection's development part showed missing (issue #12).
        ("en", "Hey all, I made a free todo list tool", "", "win/launch"),
        ("fr", "", "Salut à tous, j'ai créé Tablio, un outil pour gérer les réservations.", "win/launch"),
        ("en", "", "Harbor Foods said it would hire 500 people in Ohio.", "goal/plan"),
        ("en", "Harbor Apps could go public in 12 to 18 months, its CEO says", "", "goal/plan"),
        ("fr", "", "Papeterie Nord embauchera 1 500 jeunes en 2027.", "goal/plan"),
        ("es", "", "Molinos del Sur se plantea contratar más personal por la demanda.", "goal/plan"),
        ("es", "", "Molinos del Sur ha nombrado este jueves a Ana Ruiz en sustitución de Luis Gil.", "win/leadership"),
        ("de", "", "Lena Vogt tritt als Geschäftsführerin die Nachfolge von Jan Weiss an.", "win/leadership"),
        ("pt", "", "A Padaria Aurora investe sete milhões de euros na Covilhã.", "win/expansion"),
        ("de", "", "Bäckerei Hofmann hat den größten Einzelauftrag der Firmengeschichte erhalten.", "win/customer_win"),
        ("fr", "", "Le transporteur a confirmé une commande de 37 avions à Papeterie Nord.", "win/customer_win"),
        ("pt", "", "A Padaria Aurora comemorou esta semana os seus 50 anos.", "win/milestone"),
        ("es", "", "Molinos del Sur celebró sus 50 años con sus clientes.", "win/milestone"),
        # (guard: a future investment is a plan, not an expansion)
        ("pt", "", "A Padaria Aurora investirá R$ 120 milhões em novas lojas até 2027.", "goal/plan"),
    ],
)  # fmt: skip
def test_win_and_plan_vocabulary_of_each_language(
    classifier: RuleClassifier, lang: str, title: str, text: str, expected: str
) -> None:
    assert label(classifier, title, text, lang) == expected


def test_a_past_appointment_told_beside_a_dismissal_is_no_appointment(classifier: RuleClassifier) -> None:
    # "ha nombrado a" is the news; "fue nombrado" in a story about something else is background.
    got = label(classifier, "", "Molinos del Sur ha optado por sustituir a su director general, que fue nombrado "
                "como su hombre de confianza en 2024.", "es")  # fmt: skip
    assert not got.startswith("win/"), got
