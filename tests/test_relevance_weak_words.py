"""Issue #12: a source credit or a bare count of years never decides a kind (sentences written for these tests)."""

from __future__ import annotations

import pytest

from listener.models import Post
from listener.relevance import RuleClassifier, load_classifier


@pytest.fixture(scope="module")
def classifier() -> RuleClassifier:
    rules = load_classifier()
    assert isinstance(rules, RuleClassifier)
    return rules


def label(classifier: RuleClassifier, title: str, text: str = "", lang: str = "en") -> str:
    insight = classifier.classify(Post("t", "", title, text, None, lang=lang, source_kind="rss"))
    return f"{insight.kind.value}/{insight.category}"


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("Harbor Foods settles supplier dispute over late deliveries - The Associated Press", "en"),
        ("Harbor Foods changes its delivery schedule for the islands | The Daily Press", "en"),
        ("Molinos del Sur cambia su horario de reparto en las islas | Europa Press", "es"),
    ],
)
def test_a_publication_credited_at_the_end_of_a_headline_is_not_press_coverage(
    classifier: RuleClassifier, title: str, lang: str
) -> None:
    assert not label(classifier, title, lang=lang).endswith("/press")


def test_a_win_word_in_a_publications_name_is_no_win(classifier: RuleClassifier) -> None:
    # The cases above pass with or without the credit rule (nothing in them reads as press); this one does not:
    # "Funding" in the publication's name made the rules call a funding round.
    assert label(classifier, "Harbor Foods updates its store hours - The Funding Times").startswith("none/")


def test_a_credit_only_drops_the_credit_the_rest_of_the_headline_still_counts(classifier: RuleClassifier) -> None:
    assert label(classifier, "Harbor Foods raises $12M seed round led by Tidewater Ventures - Reuters") == "win/funding"
    # Without a credit, press words in the headline are still press coverage.
    assert label(classifier, "Harbor Foods featured in the Daily Press this morning") == "win/press"


@pytest.mark.parametrize(
    ("title", "text", "lang"),
    [
        ("Harbor Foods refinances its warehouse with a 10 years loan", "The bank extended the term.", "en"),
        ("Our head baker, 45 years old, shares her bread recipe", "", "en"),
        ("Molinos del Sur firma una deuda a 10 años con su banco", "La empresa refinancia su nave.", "es"),
        ("Nuestra panadera, de 45 años, comparte su receta de pan", "", "es"),
    ],
)
def test_a_count_of_years_without_an_anniversary_word_is_no_milestone(
    classifier: RuleClassifier, title: str, text: str, lang: str
) -> None:
    assert label(classifier, title, text, lang) != "win/milestone"


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        ("Harbor Foods celebrates 25 years of baking in the harbor", "en"),
        ("Harbor Foods: happy anniversary, 10 years serving the islands!", "en"),
        ("Molinos del Sur cumple 25 años amasando pan en el puerto", "es"),
        ("Molinos del Sur celebra su aniversario: 10 años en las islas", "es"),
    ],
)
def test_a_count_of_years_with_an_anniversary_word_is_still_a_milestone(
    classifier: RuleClassifier, title: str, lang: str
) -> None:
    assert label(classifier, title, lang=lang) == "win/milestone"


@pytest.mark.parametrize(
    ("title", "text", "lang"),
    [
        ("", "Seven years ago today we poured our first espresso on Dock Street. Thank you for every visit!", "en"),
        ("Ridgeback Tools marks 30 years on the high street", "Opened in 1995 with two workbenches.", "en"),
        ("", "Ten years since we started Quillfeather in a shared office. Still pinching ourselves.", "en"),
        ("", "¡Cumplimos 12 años llevando pan a domicilio en Zaragoza! Gracias por confiar en nosotros.", "es"),
        ("Zwanzig Jahre Bäckerei Hofmann", "Vor zwanzig Jahren haben wir unsere erste Filiale eröffnet.", "de"),
    ],
)
def test_an_anniversary_said_in_other_words_is_still_a_milestone(
    classifier: RuleClassifier, title: str, text: str, lang: str
) -> None:
    assert label(classifier, title, text, lang) == "win/milestone"
