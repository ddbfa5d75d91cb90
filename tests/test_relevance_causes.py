"""Cause-level rules of issue #12 (English and the shared engine): who acts, the headline, formats, the veto.

Every sentence here is written for these tests; none is copied from an evaluation file.
"""

from __future__ import annotations

import pytest

from listener.models import Kind, Post
from listener.relevance import RuleClassifier, load_classifier
from listener.relevance.hints import CustomerHints


@pytest.fixture(scope="module")
def classifier() -> RuleClassifier:
    found = load_classifier()
    assert isinstance(found, RuleClassifier)
    return found


def post(title: str, text: str = "", source: str = "rss") -> Post:
    return Post("t", "", title, text, None, lang="en", source_kind=source)


def label(classifier: RuleClassifier, title: str, text: str = "", customer: str = "", source: str = "rss") -> str:
    hints = CustomerHints(name=customer) if customer else None
    insight = classifier.classify(post(title, text, source), hints)
    return f"{insight.kind.value}/{insight.category}"


# --- 1. Who is the subject -------------------------------------------------------------------------------------

# (customer, title, text, expected): the customer's feed carries posts about other companies.
SUBJECT = [
    # Another company acts, the post names neither the customer nor "we": news about others, not our win.
    ("Larkspur Foods", "Quillon Robotics acquires Tern Vision", "The deal adds machine vision to its arms.",
     "news/content"),
    ("Larkspur Foods", "Marrow & Finch raises $12M Series A", "The round was led by Ostrava Capital.", "news/content"),
    ("Larkspur Foods", "Ferncliff Dairy lays off 80 workers", "The plant will run one shift from March.",
     "news/content"),
    # The same headlines when the customer acts, or speaks as "we", stay its own.
    ("Quillon Robotics", "Quillon Robotics acquires Tern Vision", "The deal adds machine vision to its arms.",
     "win/acquisition"),
    ("Marrow & Finch", "Marrow & Finch raises $12M Series A", "The round was led by Ostrava Capital.", "win/funding"),
    ("Larkspur Foods", "Ferncliff Dairy and our team", "We are laying off 80 workers at the plant.",
     "challenge/layoffs"),
    # The customer is the object of someone else's choice: still its win.
    ("Tern Vision", "Quillon Robotics selects Tern Vision for its warehouse arms", "", "win/customer_win"),
    # A headline that opens with its cue, or with an opener word, is no one else's.
    ("Larkspur Foods", "Introducing oat milk in glass bottles", "Available in every store from Monday.",
     "win/launch"),
]  # fmt: skip


@pytest.mark.parametrize(("customer", "title", "text", "expected"), SUBJECT)
def test_evidence_counts_for_the_customer_only_when_it_acts(
    classifier: RuleClassifier, customer: str, title: str, text: str, expected: str
) -> None:
    assert label(classifier, title, text, customer) == expected


def test_without_a_name_the_headline_subject_is_taken_as_the_customer(classifier: RuleClassifier) -> None:
    # Where the classifier runs without a customer (`listener classify`), a press release's subject is the
    # company that published it: the rule needs the name to tell another company apart.
    assert label(classifier, "Quillon Robotics acquires Tern Vision") == "win/acquisition"


# Generic subjects and round-ups are about others whatever the customer is called.
THIRD_PARTY = [
    ("Why retailers are closing stores this winter", "Three analysts explain the numbers.", "news/content"),
    ("Weekly funding roundup: five startups raise seed rounds", "Plus two acquisitions in logistics.",
     "news/content"),
    ("", "Startups are laying off staff to extend their runway, a survey of founders finds.", "news/content"),
]  # fmt: skip


@pytest.mark.parametrize(("title", "text", "expected"), THIRD_PARTY)
def test_generic_subjects_and_round_ups_are_news(
    classifier: RuleClassifier, title: str, text: str, expected: str
) -> None:
    assert label(classifier, title, text) == expected


def test_someone_elses_challenge_is_never_a_win(classifier: RuleClassifier) -> None:
    # Demoted cues become news; the safety veto still re-reads the headline of anything that would be a win.
    insight = classifier.classify(post("Ferncliff Dairy shuts down after 40 years", "Celebrating 40 years of milk."),
                                  CustomerHints(name="Larkspur Foods"))  # fmt: skip
    assert insight.kind is not Kind.WIN


# --- 2. The headline outweighs the body; one weak word never decides alone ------------------------------------


def test_one_weak_word_in_a_tweet_decides_nothing(classifier: RuleClassifier) -> None:
    # "new" is a weak launch cue: alone in a tweet it is no launch.
    assert label(classifier, "", "Loving the new mugs the office got us this week.", source="twitter") == "none/chatter"


def test_a_weak_word_with_a_second_cue_or_in_a_title_still_counts(classifier: RuleClassifier) -> None:
    assert label(classifier, "", "Meet our new app: it is now available on Android.", source="twitter") == "win/launch"
    assert label(classifier, "New: shared calendars", "Plan shifts together.") == "win/launch"


def test_a_thank_you_alone_is_no_farewell(classifier: RuleClassifier) -> None:
    # A thank-you to a partner in a good-news post is not somebody leaving; with a goodbye cue it still is.
    thanks = "It is our biggest order yet. Thank you, Northwind, for backing a small roastery."
    assert not label(classifier, "Harbor Beans heads to 120 Northwind stores", thanks).startswith("challenge")
    farewell = "After nine years, today is my last day at Harbor Beans. Thank you, everyone, for everything."
    assert label(classifier, "Moving on", farewell) == "challenge/departure"


def test_an_ambiguous_challenge_word_in_the_headline_yields_to_the_weightier_challenge(
    classifier: RuleClassifier,
) -> None:
    # "goodbye" in the headline makes it a challenge; the closure in the body says which one.
    title, text = (
        "Celebrating 12 years, and saying goodbye",
        "After 12 years we have decided to close the shop in June.",
    )
    assert label(classifier, title, text) == "challenge/downturn"


# --- 3. Formats ---------------------------------------------------------------------------------------------------

# (rule, title, text, expected)
FORMATS = [
    # A version is not a launch; a bug-fix release is not an incident.
    ("changelog", "v2.3.1", "Fixes a crash when importing CSV files and speeds up search.", "news/update"),
    ("changelog", "Release 4.0", "Drops support for Python 3.8. Renames the export command.", "news/update"),
    ("changelog", "What's new in Ledgerly 5.2", "Faster sync, a clearer settings page and several bug fixes.",
     "news/update"),
    ("changelog", "Ledgerly 6 is now live", "A brand-new editor, offline mode and shared folders.", "win/launch"),
    ("changelog", "We finally shipped offline mode", "It took a year; it works on every plan.", "win/launch"),
    # Status pages.
    ("status", "Elevated API latency", "Identified - The slowdown was traced to a database node.",
     "challenge/incident"),
    ("status", "Elevated API latency", "Resolved - This incident has been resolved. Response times are normal.",
     "challenge/incident"),
    ("status", "", "We are aware of issues affecting card payments and are working on a fix.", "challenge/incident"),
    # Investor relations: presenting, a date to report results, listing notices.
    ("investor", "Quillon Robotics to Report Fourth Quarter Results on February 12",
     "A webcast will follow at 5 pm.", "news/event"),
    ("investor", "Quillon Robotics Regains Compliance with Nasdaq Listing Rule",
     "The exchange confirmed the bid price requirement is met.", "news/update"),
    ("investor", "Quillon Robotics Receives Nasdaq Notice Regarding Minimum Bid Price",
     "The notice has no immediate effect on the listing.", "news/update"),
    # Acquisitions both ways; assets are no company.
    ("acquired", "Quillon Robotics agrees to be acquired by Ostrava Holdings", "Shareholders get $14 a share.",
     "news/update"),
    ("asset", "Quillon Robotics buys 500 bitcoin for its treasury", "The purchase was funded from cash.",
     "news/update"),
    # A finalist or a nominee has won nothing yet.
    ("nominee", "Quillon Robotics named a finalist for the Factory of the Year award", "Winners are named in June.",
     "news/event"),
    # Plans and intentions.
    ("plan", "Quillon Robotics aims to hire 300 engineers over five years", "The plan supports a new line.",
     "goal/plan"),
    ("plan", "Quillon Robotics will invest $40 million in automation", "The money is spent over four years.",
     "goal/plan"),
    # Users of a product are its milestone, not a new customer; "grew by 200" is no year to plan for.
    ("users", "2,000 restaurants now run on Tablely", "The kitchen system passed the mark this month.",
     "win/milestone"),
    ("users", "Over 10,000 clinics now use Carely", "That is twice as many as a year ago.", "win/milestone"),
    ("headcount", "We now have 500 employees", "The team grew by 200 this year.", "win/milestone"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "title", "text", "expected"), FORMATS, ids=[f"{c[0]}-{i}" for i, c in enumerate(FORMATS)]
)
def test_formats(classifier: RuleClassifier, rule: str, title: str, text: str, expected: str) -> None:
    assert label(classifier, title, text, source="rss" if title else "twitter") == expected, rule


# --- 4. The safety veto: ends of things are challenges, never wins ------------------------------------------------

ENDINGS = [
    ("Fernwood Books closes after 25 years", "Thank you for 25 wonderful years of stories."),
    ("Celebrating ten years, and closing our doors", "It has been a decade of books and friends."),
    ("Tablely Lite will be removed from the app stores", "Thrilled to have served 8,000 kitchens since launch."),
    ("We are sunsetting Ledgerly Classic", "Ledgerly Classic reaches end of life on June 30."),
    ("Carely Pro reaches end of life", "Support ends on March 31. Thank you for 10 years."),
    ("We are winding down Tablely", "It has been a wonderful ten years. Proud of what we built."),
    ("Quillon withdraws its Pulse sensor", "The product will no longer be sold in Europe."),
    # The UK's insolvency formula: administrators appointed are no appointment to congratulate.
    ("Administrators appointed to Ledgerly Payments", "All customer accounts are frozen while a buyer is sought."),
    ("", "Thank you, simply. These eleven years, until we close on March 3rd, have been the best of our lives."),
    ("Announcing the end of Ledgerly Go", "The app will stop working on May 1."),
]


@pytest.mark.parametrize(("title", "text"), ENDINGS)
def test_endings_are_challenges(classifier: RuleClassifier, title: str, text: str) -> None:
    insight = classifier.classify(post(title, text))
    assert insight.kind is Kind.CHALLENGE, (insight.category, insight.evidence)


@pytest.mark.parametrize(("title", "text"), ENDINGS[:6])
def test_a_second_opinions_win_over_an_ending_headline_is_vetoed(
    classifier: RuleClassifier, title: str, text: str
) -> None:
    # The veto any other classifier's win goes through (combined.py) reads the same headline.
    challenge, _ = classifier.win_check(post(title, text))
    assert challenge == "downturn"


# --- 2b. Phrases that mean something else in context (general look-alikes) -------------------------------------

# A release note's bug, error and removal words are what the release changes: news of the product, no challenge.
RELEASE_NOTES = [
    ("Version 3.4.2", "Released 2026-05-02 - Fix the shell completion broken in 3.4.0. Error messages are clearer."),
    ("1.8.1 (3rd March, 2026)", "Fix a crash when the proxy closes the connection early."),
    ("2.11.0 (2026-01-19)", "**Bugfixes** - A regression that made uploads fail on slow links is fixed."),
    ("Tern CLI 0.9.0", "### Fixed\n* Timeouts no longer leave broken lock files.\n### Removed\n* Python 3.8 support."),
    ("What's new in Ledgerly for Android",
     "Bug fixes and performance improvements. The export error on some tablets is gone."),
]  # fmt: skip


@pytest.mark.parametrize(("title", "text"), RELEASE_NOTES)
def test_a_release_notes_bug_words_are_no_challenge(classifier: RuleClassifier, title: str, text: str) -> None:
    assert label(classifier, title, text) == "news/update"


# A release with a section of what it adds brings new capabilities: a launch (a fix-only release stays an update,
# RELEASE_NOTES above).
ADDING_RELEASES = [
    ("2.4.0 (2027-01-12)", "### Added\n* Export reports to CSV.\n### Fixed\n* A crash when the proxy closes early."),
    ("Version 5.1.0", "**New Features** - Scheduled exports. **Bugfixes** - Timeouts on slow links."),
    ("[1.4.0] - 2027-01-12", "Añadido: soporte para pagos a plazos. Corregido: un error al cerrar sesión."),
    ("Tern CLI 0.10.0", "### Nouveautés\n* Export au format CSV.\n### Corrigé\n* Plantage au démarrage."),
]  # fmt: skip


@pytest.mark.parametrize(("title", "text"), ADDING_RELEASES)
def test_a_release_that_adds_features_is_a_launch(classifier: RuleClassifier, title: str, text: str) -> None:
    assert label(classifier, title, text) == "win/launch"


def test_an_outage_is_still_an_incident_beside_a_version_number(classifier: RuleClassifier) -> None:
    # The release-note reading needs the headline to be a version, or a changelog's structure: a status post is not.
    assert label(classifier, "API errors after the 2.3 upgrade", "We are investigating failed requests.") == (
        "challenge/incident"
    )


# A plan whose object is a challenge is that challenge announced ahead: the rep offers help, not good luck.
PLANNED_CHALLENGES = [
    ("en", "", "Ferncliff Dairy unveiled plans to cut about 300 jobs over the next two years.", "challenge/layoffs"),
    ("en", "Quillon plans to close its Dayton plant", "", "challenge/downturn"),
    ("en", "", "Tablely aims to shut down its Lisbon office by June, a spokesperson said.", "challenge/downturn"),
    ("en", "Ledgerly scraps its plan for a Texas factory", "", "challenge/downturn"),
    ("en", "Carely abandons the planned merger with Tern Health", "", "challenge/downturn"),
    ("es", "Fernwood cancela el proyecto de su nueva planta en Vigo", "", "challenge/downturn"),
    # A plan of something good stays a plan ("prepara su salida a bolsa", whose plan phrase covers "su salida", is
    # checked in tests/test_relevance_intl_rules.py).
    ("en", "", "Quillon plans to open an office in Lisbon and hire 40 engineers over the next two years.", "goal/plan"),
    ("en", "", "Tablely aims to cut its emissions in half by 2030.", "goal/plan"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "title", "text", "expected"), PLANNED_CHALLENGES)
def test_a_planned_challenge_is_a_challenge(
    classifier: RuleClassifier, lang: str, title: str, text: str, expected: str
) -> None:
    insight = classifier.classify(Post("t", "", title, text, None, lang=lang))
    assert f"{insight.kind.value}/{insight.category}" == expected, insight.evidence


LOOK_ALIKES = [
    # Equity awards to staff are a filing, not funding or an award.
    ("Harlow Systems reports inducement grants to new hires", "The stock options vest over four years.", "none/other"),
    # Terms of an acquisition are not a promotional deal.
    ("Harlow Systems to acquire Pinecrest Software in an all-cash deal worth $90M", "", "win/acquisition"),
    # An update on a pending deal, or results reported, are company news.
    ("Harlow Systems provides an update on its merger with Pinecrest", "Closing is now expected in May.",
     "news/update"),
    ("Harlow Systems reports preliminary third quarter results", "Revenue expansion continued in Europe.",
     "news/update"),
    # Market-research releases are about a market.
    ("Smart Lock Market Size to Reach $9 Billion by 2031, at 11% CAGR", "A new study by an analyst firm.",
     "none/other"),
    # A scientific meeting is an event; a task order is a contract won.
    ("Harlow Bio to present trial results at the Chicago Oncology Symposium", "", "news/event"),
    ("", "The Navy awarded Harlow Systems a $40 million task order for radar upgrades.", "win/customer_win"),
    # Lessons someone learned are content.
    ("What we have learned from a year of four-day weeks", "Output held; sick days fell.", "news/content"),
    # Winding down a day, a day off, starting off: no shutdown, no discount.
    ("", "Winding down the last week of June with a quiet afternoon in the garden.", "none/chatter"),
    ("", "Haven't had a day off in a month. Started off selling candles at markets.", "none/chatter"),
]  # fmt: skip


@pytest.mark.parametrize(("title", "text", "expected"), LOOK_ALIKES)
def test_look_alikes_mean_what_their_context_says(
    classifier: RuleClassifier, title: str, text: str, expected: str
) -> None:
    assert label(classifier, title, text, source="rss" if title else "twitter") == expected


def test_a_short_form_of_the_customers_legal_name_is_the_customer(classifier: RuleClassifier) -> None:
    # The directory holds "Woodmere Controls, Inc."; its newsroom writes "Woodmere".
    title = "Woodmere Completes Acquisition of Tallis Actuators"
    assert label(classifier, title, "", "Woodmere Controls, Inc.") == "win/acquisition"
    assert label(classifier, title, "", "Larkspur Foods") == "news/content"
