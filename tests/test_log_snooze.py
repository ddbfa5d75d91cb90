"""`listener log` and `listener snooze`: the loop back from the rep, called in-process on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from digests.build import build_digest
from digests.feedback import log_interaction, snooze
from listener.cli.app import App
from listener.db.schema import Customer, Digest, Insight, Interaction, Rep
from listener.errors import BadInput, NotFound
from tests.conftest import Invoke
from tests.test_digest_helpers import NOW, TODAY, add_customer, add_insight, add_rep


def setup_shown(app: App) -> tuple[int, int, int]:
    """Acme has one insight shown in yesterday's sent digest and one not shown yet; Globex has one shown."""
    with app.transaction() as session:
        rep = add_rep(session)
        acme, globex = add_customer(session, rep, "Acme"), add_customer(session, rep, "Globex")
        shown = add_insight(session, acme, "win", "launch", "Acme launch", age_hours=30)
        fresh = add_insight(session, acme, "win", "award", "Acme award", age_hours=2)
        other = add_insight(session, globex, "win", "launch", "Globex launch", age_hours=30)
        session.add(Digest(rep_id=rep.id, digest_date=TODAY - timedelta(days=1), status="sent",
                           insight_ids=[shown.id, other.id], created_at=NOW - timedelta(days=1)))  # fmt: skip
        return shown.id, fresh.id, other.id


def acted(app: App) -> dict[int, bool]:
    with app.transaction() as session:
        return {i: a is not None for i, a in session.execute(select(Insight.id, Insight.acted_at))}


def test_log_congrats_marks_the_customers_shown_insights_as_acted(invoke: Invoke, app: App) -> None:
    shown, fresh, other = setup_shown(app)
    result = invoke("log", "acme", "--kind", "congrats", "--note", "commented  on\nLinkedIn")
    assert result.exit_code == 0, result.output
    assert result.output == "logged congrats with Acme; 1 digest item(s) marked as done\n"
    assert acted(app) == {shown: True, fresh: False, other: False}
    with app.transaction() as session:
        interaction = session.scalars(select(Interaction)).one()
        assert (interaction.kind, interaction.note) == ("congrats", "commented on LinkedIn")
        assert interaction.insight_id == shown
        assert interaction.rep_id == session.scalar(select(Rep.id))


def test_log_gift_resets_the_clock_but_leaves_insights(invoke: Invoke, app: App) -> None:
    setup_shown(app)
    result = invoke("log", "Globex", "--kind", "gift")
    assert result.exit_code == 0 and result.output == "logged gift with Globex\n"
    assert not any(acted(app).values())


def test_acted_insights_stay_out_of_later_digests(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        acme = add_customer(session, rep, "Acme", created_at=NOW - timedelta(days=100))
        shown = add_insight(session, acme, "win", "launch", "Acme launch", age_hours=2)
        # The digest went out (as the rep would have got it) without recording the shown ids (as an older run might).
        session.add(Digest(rep_id=rep.id, digest_date=TODAY, status="sent", insight_ids=[shown.id], created_at=NOW))
    with app.transaction() as session:
        log_interaction(session, "Acme", "comment", now=NOW + timedelta(hours=1))
    with app.transaction() as session:
        session.query(Digest).delete()  # even if the shown record is gone, acted_at keeps it out
        rep = session.scalars(select(Rep)).one()
        digest = build_digest(session, app.settings, rep, TODAY, NOW + timedelta(hours=2))
    assert not [i for i in digest.items() if i.kind == "win"]
    assert not [i for i in digest.items() if i.kind == "quiet"]  # the comment reset the going-quiet clock


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("log", "Nobody", "--kind", "call"), "error: no customer named 'Nobody'"),
        (("log", "Acme", "--kind", "dance"), "Invalid value for '--kind'"),
        (("log", "Acme"), "Missing option '--kind'"),
        (("snooze", "Nobody", "3"), "error: no customer named 'Nobody'"),
        (("snooze", "Acme", "three"), "'three' is not a valid integer"),
        (("snooze", "Acme", "--", "-3"), "error: snooze days must be 0 or more, got -3"),
        (("snooze", "Acme", "99999"), "error: snooze of 99999 days"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(invoke: Invoke, app: App, args: tuple[str, ...], message: str) -> None:
    setup_shown(app)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    with app.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0
        assert session.scalars(select(Customer.muted_until)).all() == [None, None]
    assert not any(acted(app).values())


def test_library_errors_are_typed(app: App) -> None:
    setup_shown(app)
    with app.transaction() as session:
        with pytest.raises(NotFound):
            log_interaction(session, "Nobody", "call")
        with pytest.raises(BadInput, match="unknown interaction kind"):
            log_interaction(session, "Acme", "dance")
        with pytest.raises(BadInput):
            snooze(session, "Acme", -1)


def test_snooze_keeps_a_customer_out_until_it_ends(invoke: Invoke, app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        acme = add_customer(session, rep, "Acme", created_at=NOW - timedelta(days=100))
        add_insight(session, acme, "win", "launch", "Acme launch", age_hours=2)
    today = datetime.now(ZoneInfo("Europe/Madrid")).date()  # the rep's own date
    result = invoke("snooze", "ACME", "7")
    assert result.exit_code == 0 and result.output == f"Acme snoozed through {today + timedelta(days=7)}\n"

    def sections(day_offset: int) -> list[str]:
        with app.transaction() as session:
            rep = session.scalars(select(Rep)).one()
            # Move the snooze onto the test's calendar so the check is about the rule, not today's date.
            session.query(Customer).update({"muted_until": TODAY + timedelta(days=6)})
            day = TODAY + timedelta(days=day_offset)
            digest = build_digest(session, app.settings, rep, day, NOW + timedelta(days=day_offset))
            return [i.kind for i in digest.items()] + [i.why for i in digest.items()]

    assert sections(0) == [] and sections(6) == []
    back = sections(7)
    # Back with its launch to congratulate, which is also the way back in for a customer past its cadence.
    assert "win" in back and "quiet" not in back
    assert any("No touch logged yet" in why for why in back)
    result = invoke("snooze", "Acme", "0")
    assert result.exit_code == 0 and result.output == "Acme is no longer snoozed\n"
    with app.transaction() as session:
        assert session.scalar(select(Customer.muted_until)) is None


@pytest.mark.parametrize(
    ("zone", "now", "through"),
    [
        ("Europe/Madrid", datetime(2026, 12, 6, 21, 0, tzinfo=UTC), date(2026, 12, 7)),  # 22:00 in Madrid
        ("Pacific/Auckland", datetime(2026, 12, 6, 12, 0, tzinfo=UTC), date(2026, 12, 8)),  # already the 7th there
        ("America/Los_Angeles", datetime(2026, 12, 7, 5, 0, tzinfo=UTC), date(2026, 12, 7)),  # still the 6th there
    ],
)
def test_snooze_one_day_lasts_through_tomorrow_in_the_reps_zone(
    app: App, zone: str, now: datetime, through: date
) -> None:
    with app.transaction() as session:
        rep = add_rep(session, time_zone=zone)
        add_customer(session, rep, "Acme")
        assert snooze(session, "Acme", 1, now=now).muted_until == through
