"""The rep, customer and contact commands, called in-process on a real SQLite file."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from listener.cli.app import App
from listener.db.schema import Contact, Customer, Rep
from tests.conftest import Invoke


def counts(app: App) -> tuple[int, int, int]:
    with app.transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) for model in (Rep, Customer, Contact)
        )


def test_add_rep_customer_contact_and_show(invoke: Invoke, app: App) -> None:
    result = invoke("rep", "add", "Ana@Example.com", "--name", "Ana García", "--tz", "Europe/Madrid", "--lang", "es")
    assert result.exit_code == 0, result.output
    assert "Ana García <ana@example.com>" in result.output
    result = invoke(
        "customer", "add", "Nimbus Logistics", "--rep", "ana@example.com", "--domain", "https://Nimbus.example/",
        "--since", "2021-03-15", "--interests", "coffee, cycling", "--lang", "es", "--cadence", "21",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = invoke("contact", "add", "nimbus logistics", "Lucía Pérez", "--role", "CEO", "--birthday", "1980-03-14")
    assert result.exit_code == 0, result.output

    shown = json.loads(invoke("customer", "show", "NIMBUS LOGISTICS", "--json").output)
    assert shown["domains"] == ["nimbus.example"]
    assert shown["interests"] == ["coffee", "cycling"]
    assert shown["since"] == "2021-03-15"
    assert shown["cadence_days"] == 21
    assert shown["contacts"] == [{"name": "Lucía Pérez", "role": "CEO", "email": "", "birthday": "03-14"}]
    reps = json.loads(invoke("rep", "list", "--json").output)
    assert reps == [
        {
            "email": "ana@example.com",
            "name": "Ana García",
            "tz": "Europe/Madrid",
            "hour": 7,
            "lang": "es",
            "customers": 1,
        }
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rep", "add", "not-an-email", "--name", "X"), "is not an email address"),
        (("rep", "add", "x@example.com", "--name", "X", "--tz", "Mars/Base"), "unknown time zone"),
        (("rep", "add", "x@example.com", "--name", "X", "--hour", "24"), "between 0 and 23"),
        (("rep", "add", "ana@example.com", "--name", "Dup"), "already exists"),
        (("customer", "add", "Z", "--rep", "nobody@example.com"), "no rep with email"),
        (("customer", "add", "Z", "--rep", "ana@example.com", "--since", "2021-02-30"), "is not a date"),
        (("customer", "add", "Z", "--rep", "ana@example.com", "--domain", "not a domain"), "is not a domain"),
        (("customer", "add", "acme", "--rep", "ana@example.com"), "already exists"),
        (("customer", "show", "Nobody Inc"), "no customer named"),
        (("customer", "remove", "Nobody Inc"), "no customer named"),
        (("contact", "add", "Acme", "Bo", "--birthday", "13-01"), "is not a date"),
        (("contact", "add", "Acme", "Bo", "--email", "bo@"), "is not an email address"),
        (("contact", "add", "Nobody Inc", "Bo"), "no customer named"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    invoke: Invoke, app: App, args: tuple[str, ...], message: str
) -> None:
    invoke("rep", "add", "ana@example.com", "--name", "Ana")
    invoke("customer", "add", "Acme", "--rep", "ana@example.com")
    before = counts(app)
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert counts(app) == before


def test_remove_customer_cascades(invoke: Invoke, app: App) -> None:
    invoke("rep", "add", "ana@example.com", "--name", "Ana")
    invoke("customer", "add", "Acme", "--rep", "ana@example.com")
    invoke("contact", "add", "Acme", "Bo")
    assert invoke("customer", "remove", "acme").exit_code == 0
    assert counts(app) == (1, 0, 0)


def test_commands_need_init(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from listener.cli import cli

    db = tmp_path / "fresh.db"
    monkeypatch.setenv("LISTENER_DB", f"sqlite:///{db}")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(cli, ["rep", "list"])
    assert result.exit_code == 2
    assert "run `listener init` first" in result.output
    assert not db.exists()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    assert "up to date" in runner.invoke(cli, ["init"]).output
    assert runner.invoke(cli, ["rep", "list"]).exit_code == 0


def test_every_command_has_help_with_an_example(invoke: Invoke) -> None:
    import click

    from listener.cli import cli

    def walk(group: click.Group, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = []
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found += walk(command, (*prefix, name))
            else:
                found.append((*prefix, name))
        return found

    for path in walk(cli, ()):
        output = invoke(*path, "--help").output
        assert "Example" in output, f"`listener {' '.join(path)} --help` has no example"
