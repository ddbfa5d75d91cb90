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
