"""`listener source list [--failing] [--json]` and `source remove ID`, on sources polled over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from listener.cli.app import App
from listener.db.schema import Insight, Post, Source
from listener.directory import get_customer
from listener.ingest import run_ingest
from listener.sourcing import Resolved, insert_source
from tests.conftest import Invoke
from tests.feeds import rfc822, rss
from tests.servers.http import Reply, serve

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml"}


def add(app: App, customer: str, url: str) -> int:
    with app.transaction() as session:
        return insert_source(session, get_customer(session, customer), Resolved("rss", url, title="t")).id


def counts(app: App) -> tuple[int, int, int]:
    with app.transaction() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(table)) or 0) for table in (Source, Post, Insight)
        )


@pytest.fixture
def polled(local: App) -> tuple[App, str, dict[str, int]]:
    """Three sources polled twice: one fine, one answering 500, one gone for good (410)."""
    with serve() as (base, routes):
        routes["/ok"] = Reply(rss([]), headers=RSS)  # no posts: nothing to classify keeps this fixture fast
        routes["/broken"] = Reply(b"oops", 500)
        routes["/gone"] = Reply(b"", 410)
        ids = {
            "ok": add(local, "Acme Corp", f"{base}/ok"),
            "broken": add(local, "Acme Corp", f"{base}/broken"),
            "gone": add(local, "Globex", f"{base}/gone"),
        }
        run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW)
        run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW + timedelta(hours=1))
    return local, base, ids


def test_source_list_shows_every_source_with_its_state(polled: tuple[App, str, dict[str, int]], invoke: Invoke) -> None:
    _, base, ids = polled
    result = invoke("source", "list")
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.output.splitlines()]
    assert [row[:5] for row in rows] == [
        [str(ids["ok"]), "Acme Corp", "rss", f"{base}/ok", "ok"],
        [str(ids["broken"]), "Acme Corp", "rss", f"{base}/broken", "failing"],
        [str(ids["gone"]), "Globex", "rss", f"{base}/gone", "disabled"],
    ]
    only = invoke("source", "list", "--customer", "globex")
    assert [line.split("\t")[0] for line in only.output.splitlines()] == [str(ids["gone"])]


def test_failing_shows_the_error_since_when_and_the_next_try(
    polled: tuple[App, str, dict[str, int]], invoke: Invoke
) -> None:
    app, base, ids = polled
    result = invoke("source", "list", "--failing")
    assert result.exit_code == 0
    broken, gone = (line.split("\t") for line in result.output.splitlines())
    with app.transaction() as session:
        row = session.get(Source, ids["broken"])
        assert row is not None and row.next_poll_at is not None and row.failing_since is not None
        next_try = row.next_poll_at.strftime("%Y-%m-%d %H:%M UTC")
    assert broken == [
        str(ids["broken"]),
        "Acme Corp",
        "rss",
        f"{base}/broken",
        "error: HTTP 500 Internal Server Error",
        "since 2030-05-01 12:00 UTC",
        f"next try {next_try}",
    ]
    assert next_try > "2030-05-01 13:00 UTC"  # backing off
    assert gone[:4] == [str(ids["gone"]), "Globex", "rss", f"{base}/gone"]
    assert gone[4].startswith("disabled: ") and "410" in gone[4]
    assert gone[6] == "next try never"


def test_failing_and_json_for_machines(polled: tuple[App, str, dict[str, int]], invoke: Invoke) -> None:
    _, base, ids = polled
    result = invoke("source", "list", "--failing", "--json")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in records] == [ids["broken"], ids["gone"]]
    broken = records[0]
    assert broken["customer"] == "Acme Corp" and broken["locator"] == f"{base}/broken" and broken["enabled"] is True
    assert broken["error_count"] == 2 and broken["last_error"] == "HTTP 500 Internal Server Error"
    assert datetime.fromisoformat(broken["failing_since"]).replace(tzinfo=UTC) == NOW
    assert datetime.fromisoformat(broken["next_poll_at"]).replace(tzinfo=UTC) > NOW + timedelta(hours=1)
    assert broken["last_success_at"] is None
    assert records[1]["enabled"] is False and "410" in records[1]["disabled_reason"]
    everything = [json.loads(line) for line in invoke("source", "list", "--json").output.splitlines()]
    assert [r["id"] for r in everything] == [ids["ok"], ids["broken"], ids["gone"]]
    assert everything[0]["last_success_at"] is not None and everything[0]["error_count"] == 0


def test_empty_lists_say_so_on_stderr_only(local: App, invoke: Invoke) -> None:
    assert invoke("source", "list").stderr == "no sources yet (add one with `listener source add`)\n"
    result = invoke("source", "list", "--failing")
    assert result.stdout == "" and result.stderr == "no failing sources\n"
    assert invoke("source", "list", "--json").output == ""


def test_remove_takes_the_source_and_its_posts(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/ok"] = Reply(rss([{"guid": "1", "title": "Acme wins an award", "date": rfc822(1, NOW)}]), headers=RSS)
        keep = add(local, "Globex", f"{base}/ok")
        gone = add(local, "Acme Corp", f"{base}/ok")
        run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW)
    assert counts(local) == (2, 2, 2)  # one post and its insight for each customer
    result = invoke("source", "remove", str(gone))
    assert result.exit_code == 0
    assert result.output == f"removed source {gone} (rss {base}/ok)\n"
    assert counts(local) == (1, 1, 1)
    assert invoke("source", "remove", str(keep)).exit_code == 0
    assert counts(local) == (0, 0, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("source", "remove", "999"), "error: no source with id 999 (see `listener source list`)"),
        (("source", "list", "--customer", "Nobody Inc"), "no customer named"),
    ],
)
def test_bad_ids_and_names_exit_2_and_change_nothing(
    polled: tuple[App, str, dict[str, int]], invoke: Invoke, args: tuple[str, ...], message: str
) -> None:
    app, _, _ = polled
    before = counts(app)
    result = invoke(*args)
    assert result.exit_code == 2 and message in result.output and result.output.count("\n") == 1
    assert counts(app) == before


def test_remove_needs_a_number(local: App, invoke: Invoke) -> None:
    result = invoke("source", "remove", "acme")
    assert result.exit_code == 2 and "'acme' is not a valid integer" in result.output
