"""Editing what sales ops set up: reps, customers, contacts, sources; lists for people and for scripts."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from listener.cli.app import App
from listener.db.schema import Contact, Customer, Interaction, Rep, Source
from tests.conftest import Invoke


@pytest.fixture
def setup(app: App, invoke: Invoke) -> App:
    for args in (
        ("rep", "add", "ana@example.com", "--name", "Ana García", "--tz", "Europe/Madrid"),
        ("rep", "add", "bruno@example.com", "--name", "Bruno Díaz"),
        ("customer", "add", "Nimbus Logistics", "--rep", "ana@example.com", "--domain", "nimbus.example"),
        ("customer", "add", "Acme", "--rep", "ana@example.com", "--tier", "high"),
        ("contact", "add", "Nimbus Logistics", "Lucía Pérez", "--role", "CEO", "--birthday", "03-14"),
        ("log", "Nimbus Logistics", "--kind", "call"),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    return app


def show(invoke: Invoke, name: str) -> dict[str, object]:
    return dict(json.loads(invoke("customer", "show", name, "--json").output))


def test_rep_edit(setup: App, invoke: Invoke) -> None:
    result = invoke("rep", "edit", "ana@example.com", "--tz", "America/Mexico_City", "--hour", "8", "--lang", "es")
    assert result.exit_code == 0, result.output
    assert "time_zone Europe/Madrid -> America/Mexico_City, digest_hour 7 -> 8, language en -> es" in result.output
    result = invoke("rep", "edit", "ana@example.com", "--workdays", "sun-thu", "--pronoun", "she")
    assert result.exit_code == 0, result.output
    assert "workdays mon,tue,wed,thu,fri -> mon,tue,wed,thu,sun, pronoun  -> she" in result.output
    result = invoke("rep", "edit", "ana@example.com", "--email", "ana.garcia@example.com")
    assert result.exit_code == 0
    assert show(invoke, "Acme")["rep"] == "ana.garcia@example.com"
    for args, message in (
        (("--tz", "Mars/Base"), "unknown time zone"),
        (("--email", "bruno@example.com"), "already exists"),
        (("--lang", "ja"), "no phrasebook"),  # fr, de, it and pt have phrasebooks since the brief
        (("--workdays", "mon-funday"), "not a list of work days"),
        (("--pronoun", "xe"), "not a pronoun"),
    ):
        bad = invoke("rep", "edit", "ana.garcia@example.com", *args)
        assert bad.exit_code == 2 and message in bad.output and bad.output.count("\n") == 1


def test_rep_remove_reassigns_customers_and_history(setup: App, invoke: Invoke) -> None:
    refused = invoke("rep", "remove", "ana@example.com")
    assert refused.exit_code == 2 and "owns 2 customer(s)" in refused.output and "--reassign-to" in refused.output
    result = invoke("rep", "remove", "ana@example.com", "--reassign-to", "Bruno@Example.com")
    assert result.exit_code == 0, result.output
    assert "Removed rep ana@example.com; 2 customers moved to bruno@example.com." in result.output
    with setup.transaction() as session:
        assert session.scalars(select(Rep.email)).all() == ["bruno@example.com"]
        assert set(session.scalars(select(Customer.rep_id))) == {session.scalar(select(Rep.id))}
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1  # the call is kept
    assert invoke("rep", "remove", "bruno@example.com", "--reassign-to", "bruno@example.com").exit_code == 2


def test_customer_edit_changes_only_what_is_given(setup: App, invoke: Invoke) -> None:
    result = invoke(
        "customer", "edit", "NIMBUS LOGISTICS", "--rep", "bruno@example.com", "--lang", "es", "--cadence", "14",
        "--tier", "high", "--interests", "coffee, running", "--domains", "nimbus.example, nimbus.es",
        "--aliases", "Nimbus", "--since", "2021-03-15", "--founded", "1999-06-01", "--tags", "EU",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rep ana@example.com -> bruno@example.com" in result.output and "tier normal -> high" in result.output
    shown = show(invoke, "Nimbus Logistics")
    assert (shown["rep"], shown["lang"], shown["cadence_days"], shown["tier"]) == (
        "bruno@example.com",
        "es",
        14,
        "high",
    )
    assert shown["interests"] == ["coffee", "running"] and shown["domains"] == ["nimbus.es", "nimbus.example"]
    assert (shown["aliases"], shown["since"], shown["founded"], shown["tags"]) == (
        ["Nimbus"],
        "2021-03-15",
        "1999-06-01",
        ["EU"],
    )
    assert invoke("customer", "edit", "Nimbus Logistics", "--domains", "", "--since", "").exit_code == 0
    shown = show(invoke, "Nimbus Logistics")
    assert shown["domains"] == [] and shown["since"] is None and shown["interests"] == ["coffee", "running"]

    renamed = invoke("customer", "edit", "Nimbus Logistics", "--name", "Nimbus Logística")
    assert renamed.exit_code == 0 and show(invoke, "nimbus logistica")["name"] == "Nimbus Logística"
    for args, message in (
        (("--name", "ACME"), "already exists"),
        (("--tier", "gold"), "Invalid value for '--tier'"),
        (("--cadence", "0"), "at least 1 day"),
        (("--rep", "nobody@example.com"), "no rep with email"),
    ):
        bad = invoke("customer", "edit", "Nimbus Logística", *args)
        assert bad.exit_code == 2 and message in bad.output, bad.output
    assert show(invoke, "Nimbus Logística")["tier"] == "high"


def test_contact_edit_and_remove(setup: App, invoke: Invoke) -> None:
    result = invoke(
        "contact", "edit", "Nimbus Logistics", "lucia perez", "--role", "CEO & founder", "--birthday", "1980-03-15",
        "--email", "lucia@nimbus.example", "--lang", "es",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert show(invoke, "Nimbus Logistics")["contacts"] == [
        {"name": "Lucía Pérez", "role": "CEO & founder", "email": "lucia@nimbus.example", "birthday": "03-15"}
    ]
    assert invoke("contact", "edit", "Nimbus Logistics", "Nobody", "--role", "x").exit_code == 2
    assert invoke("contact", "remove", "Nimbus Logistics", "LUCÍA PÉREZ").exit_code == 0
    with setup.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_source_disable_and_enable(setup: App, invoke: Invoke) -> None:
    from listener.directory import get_customer
    from listener.sourcing import Resolved, insert_source

    with setup.transaction() as session:
        ident = insert_source(session, get_customer(session, "Acme"), Resolved("rss", "https://acme.example/f")).id
    result = invoke("source", "disable", str(ident), "--reason", "feed gone until March")
    assert result.exit_code == 0, result.output
    failing = invoke("source", "list", "--failing", "--json")
    assert json.loads(failing.output)["disabled_reason"] == "feed gone until March"
    assert invoke("source", "enable", str(ident)).exit_code == 0
    with setup.transaction() as session:
        source = session.get(Source, ident)
        assert source is not None and source.enabled and source.disabled_reason == ""
    assert invoke("source", "disable", "999").exit_code == 2


def test_lists_count_in_words(setup: App, invoke: Invoke) -> None:
    from listener.directory import get_customer
    from listener.sourcing import Resolved, insert_source

    with setup.transaction() as session:
        insert_source(session, get_customer(session, "Acme"), Resolved("rss", "https://acme.example/f"))
    lines = invoke("customer", "list").output.splitlines()
    assert "1 source " in lines[0] and "high" in lines[0]  # Acme; no header when piped
    assert "0 sources" in lines[1]
    assert "2 customers" in invoke("rep", "list").output


def run_at_terminal(args: list[str], env: dict[str, str], answer: bytes = b"") -> tuple[int, str]:
    """The real `listener` with stdin and stdout on a pseudo-terminal, as a person runs it."""
    primary, secondary = pty.openpty()
    code = "import sys; from listener.cli import main; sys.argv = ['listener', *sys.argv[1:]]; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdin=secondary, stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    if answer:
        os.write(primary, answer)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    return process.wait(timeout=60), output.decode(errors="replace")


def test_at_a_terminal_remove_asks_and_lists_have_a_header(setup: App, tmp_path: Path) -> None:
    env = {**os.environ, "LISTENER_DB": setup.settings.database_url, "XDG_CONFIG_HOME": str(tmp_path)}
    status, output = run_at_terminal(["customer", "list"], env)
    assert status == 0 and output.splitlines()[0].split()[:3] == ["NAME", "REP", "SOURCES"], output
    status, output = run_at_terminal(["customer", "remove", "Acme"], env, b"n\n")
    assert status == 2 and "Remove Acme with 0 source(s)" in output and "nothing removed" in output
    status, output = run_at_terminal(["customer", "remove", "Acme"], env, b"y\n")
    assert status == 0 and "Removed customer Acme." in output
    with setup.transaction() as session:
        assert session.scalars(select(Customer.name)).all() == ["Nimbus Logistics"]
