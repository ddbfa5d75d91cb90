"""Rep input: hostile emails and names are refused in one line with exit 2 and change nothing; `digest send
--dry-run` writes one file per rep under a collision-free name and reports a bad rep without stopping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digests.deliver import send_due
from listener.cli.app import App
from listener.db.schema import Rep
from tests.conftest import Invoke
from tests.test_digest_helpers import NOW, add_customer, add_insight, add_rep


def rep_count(app: App) -> int:
    with app.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Rep)) or 0)


@pytest.mark.parametrize(
    ("email", "name", "message"),
    [
        ("x/../../evil@example.com", "Evil", "is not an email address"),
        ("../evil@example.com", "Evil", "is not an email address"),
        ("ana@example.com\r\nBcc: x@example.com", "Ana", "is not an email address"),
        ("ana@exa mple.com", "Ana", "is not an email address"),
        ("ana@example.com", "Ana\r\nBcc: spy@example.com", "contains control characters (U+000D, U+000A)"),
        ("ana@example.com", "Ana\x00", "contains control characters (U+0000)"),
        ("ana@example.com", "Ana\u202eaicraG", "contains control characters (U+202E)"),
        ("ana@example.com", "Ana\u2028García", "contains control characters (U+2028)"),
    ],
)
def test_rep_add_refuses_hostile_input_in_one_line(
    invoke: Invoke, app: App, email: str, name: str, message: str
) -> None:
    result = invoke("rep", "add", email, "--name", name)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "\r" not in result.output
    assert rep_count(app) == 0


@pytest.mark.parametrize(
    "args",
    [
        ("digest", "preview", "--rep", "x/../../evil@example.com"),
        ("digest", "send", "--rep", "x/../../evil@example.com"),
        ("digest", "retry", "--rep", "x/../../evil@example.com"),
        ("digest", "list", "--rep", "x/../../evil@example.com"),
        ("customer", "add", "Acme", "--rep", "x/../../evil@example.com"),
        ("customer", "list", "--rep", "ana@example.com\nx"),
    ],
)
def test_commands_that_take_a_rep_refuse_a_bad_address(invoke: Invoke, tmp_path: Path, args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "is not an email address" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_slash_and_an_underscore_get_two_files(invoke: Invoke, app: App, tmp_path: Path) -> None:
    for email in ("a/b@example.com", "a_b@example.com"):  # both valid addresses (RFC 5322 atext)
        assert invoke("rep", "add", email, "--name", "AB").exit_code == 0
    with app.transaction() as session:
        for rep in session.scalars(select(Rep)):
            add_insight(session, add_customer(session, rep, f"Customer of {rep.email}"), "win", "award", "An award")
    out = tmp_path / "eml"
    report = send_due(app.sessions(), app.settings, now=NOW, force_now=True, dry_run_dir=out)
    assert (report.sent, report.failed) == (2, 0), report.messages
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 2 and files == ["a_2fb@example.com-2026-11-23.eml", "a_5fb@example.com-2026-11-23.eml"]
    previews = tmp_path / "preview"
    for email in ("a/b@example.com", "a_b@example.com"):
        assert invoke("digest", "preview", "--rep", email, "--out", str(previews)).exit_code == 0
    assert len(list(previews.glob("*.html"))) == 2


def test_dry_run_reports_a_bad_rep_and_writes_the_others(app: App, invoke: Invoke, tmp_path: Path) -> None:
    """Reps stored before input was checked (written straight to the database here) do not stop the others."""
    with app.transaction() as session:
        for email, name in (
            ("first@example.com", "First"),
            ("x/../../evil@example.com", "Evil\r\nBcc: spy@example.com"),
            ("last@example.com", "Last"),
        ):
            rep = add_rep(session, email, name=name, time_zone="UTC")
            customer = add_customer(session, rep, f"Customer of {name[:4]}")
            # `digest send --now` builds at the real time: the post is half a day old then, not at NOW.
            add_insight(session, customer, "win", "award", "An award", now=datetime.now(UTC))
    out = tmp_path / "eml"
    result = invoke("digest", "send", "--now", "--dry-run", str(out))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    bad = [line for line in lines if "not written" in line]
    assert len(bad) == 1 and bad[0].startswith("x/../../evil@example.com: not written: ValueError")
    assert "2 written, 0 skipped, 1 failed" in lines[-1]
    assert sorted(p.name.split("-2")[0] for p in out.iterdir()) == ["first@example.com", "last@example.com"]
    assert [p.name for p in tmp_path.iterdir() if p != out and not p.name.startswith("listener.db")] == []
