"""`listener import` of files as CRMs and Excel write them: HubSpot, Salesforce, Spanish Excel CSV, .xlsx."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from listener.cli.app import App
from listener.crm import parse_any_date
from listener.db.schema import Contact, Customer
from listener.directory import add_rep
from listener.errors import BadInput
from tests.conftest import Invoke, allow_loopback
from tests.feeds import rss
from tests.servers.http import Reply, serve

DATA = Path(__file__).parent / "data" / "crm"
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html"}


@pytest.fixture
def team(app: App) -> App:
    """Two reps, as CRMs name them: by name in owner columns."""
    allow_loopback(app)
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana García", language="es")
        add_rep(session, "bruno@example.com", "Bruno Díaz")
    return app


def customers(app: App) -> dict[str, dict[str, Any]]:
    with app.transaction() as session:
        return {
            c.name: {
                "rep": c.rep.email,
                "domains": list(c.domains),
                "since": c.customer_since,
                "lang": c.language,
                "interests": list(c.interests),
                "sources": sorted(s.locator for s in c.sources),
                "contacts": {
                    k.name: (k.email, k.role, k.birthday, k.language)
                    for k in session.scalars(select(Contact).where(Contact.customer_id == c.id))
                },
            }
            for c in session.scalars(select(Customer))
        }


@pytest.mark.parametrize(
    ("text", "dayfirst", "expected"),
    [
        ("2020-01-10 10:00", False, date(2020, 1, 10)),
        ("2021-03-15", True, date(2021, 3, 15)),
        ("3/15/2021", False, date(2021, 3, 15)),
        ("3/15/2021", True, date(2021, 3, 15)),  # 15 cannot be a month
        ("15/03/2021", False, date(2021, 3, 15)),
        ("03/04/2021", False, date(2021, 3, 4)),
        ("03/04/2021", True, date(2021, 4, 3)),
        ("15.03.2021", True, date(2021, 3, 15)),
        ("1/2/21", False, date(2021, 1, 2)),
        ("12/6/2026 10:14 PM", False, date(2026, 12, 6)),
    ],
)
def test_dates_as_crms_write_them(text: str, dayfirst: bool, expected: date) -> None:
    assert parse_any_date(text, dayfirst=dayfirst) == expected


@pytest.mark.parametrize("text", ["2021-02-30", "13/13/2021", "next week", "2021/03"])
def test_dates_that_are_not_dates_are_refused(text: str) -> None:
    with pytest.raises(BadInput, match="is not a date"):
        parse_any_date(text)


def test_hubspot_companies_then_contacts_as_exported(team: App, invoke: Invoke) -> None:
    result = invoke("import", str(DATA / "hubspot-companies.csv"))
    assert result.exit_code == 0, result.output
    assert "imported hubspot-companies.csv: 4 new customers, 0 new sources from 4 rows" in result.output
    ignored = [line for line in result.output.splitlines() if line.startswith("ignored columns:")]
    assert ignored == [
        "ignored columns: Record ID, Phone Number, Last Activity Date, City, Country/Region, Industry "
        '(--map "Column=field" imports one)'
    ]
    found = customers(team)
    assert found["Óptica Ñandú S.A."]["rep"] == "ana@example.com"  # owner matched by name
    assert found["Óptica Ñandú S.A."]["domains"] == ["optica-nandu.example"]
    assert found["Óptica Ñandú S.A."]["since"] == date(2020, 1, 10)
    assert found["Nimbus Logistics"]["rep"] == "bruno@example.com"
    assert found["Electricité Óptima"]["rep"] == "bruno@example.com"  # owner given as an email

    result = invoke("import", str(DATA / "hubspot-contacts.csv"))
    assert result.exit_code == 0, result.output
    assert "3 new contacts, 0 updated" in result.output
    found = customers(team)
    assert found["Óptica Ñandú S.A."]["contacts"] == {
        "Lucía Pérez": ("lucia@optica-nandu.example", "CEO", "03-14", "es")
    }
    assert found["Área Logística"]["contacts"] == {
        "Marta Ibáñez": ("marta@arealogistica.example", "CFO", "11-02", "es")  # "ÁREA LOGÍSTICA" in the file
    }
    assert found["Nimbus Logistics"]["contacts"]["Jon Park"][3] == "en"

    again = invoke("import", str(DATA / "hubspot-contacts.csv"))
    assert again.exit_code == 0, again.output  # nothing new, nothing changed: no contact counts, no changes
    assert again.output.splitlines()[-1] == "imported hubspot-contacts.csv: 0 new customers, 0 new sources from 3 rows"
    assert customers(team) == found


def test_salesforce_report_with_footer_websites_become_sources(team: App, invoke: Invoke, tmp_path: Path) -> None:
    with serve() as (base, routes):
        routes["/copperline/"] = Reply(
            b'<html><head><link rel="alternate" type="application/rss+xml" href="/copperline/feed.xml">'
            b"</head><body>Copperline</body></html>",
            headers=HTML,
        )
        routes["/copperline/feed.xml"] = Reply(rss([], title="Copperline news"), headers=RSS)
        text = (DATA / "salesforce-accounts.csv").read_text()
        report = tmp_path / "salesforce-accounts.csv"
        report.write_text(text.replace("{feedsite}", f"{base}/copperline/").replace("{deadsite}", f"{base}/gone/"))
        result = invoke("import", str(report))
    assert result.exit_code == 0, result.output
    assert "3 new customers, 1 new source from 3 rows" in result.output  # the footer's 6 lines are not rows
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "Quillwise: no source from its website" in warnings[0]
    found = customers(team)
    assert found["Copperline Foods"]["sources"] == [f"{base}/copperline/feed.xml"]
    assert found["Copperline Foods"]["since"] == date(2021, 3, 15)  # US 3/15/2021
    assert found["Copperline Foods"]["domains"] == []  # an IP address is not a domain name
    assert found["Quillwise"]["rep"] == "bruno@example.com" and found["Quillwise"]["sources"] == []

    result = invoke("import", str(DATA / "salesforce-contacts.csv"))
    assert result.exit_code == 0, result.output
    assert customers(team)["Copperline Foods"]["contacts"] == {
        "Maggie Chen": ("maggie@copperline.example", "Head of Partnerships", "04-02", "")
    }


@pytest.mark.parametrize("name", ["excel_es_utf8.csv", "excel_es_cp1252.csv"])
def test_spanish_excel_csv_with_semicolons(team: App, invoke: Invoke, name: str) -> None:
    result = invoke("import", str(DATA / name), "--dayfirst")
    assert result.exit_code == 0, result.output
    assert "3 new customers" in result.output
    found = customers(team)
    assert found["Óptica Ñandú S.A."]["since"] == date(2021, 3, 15)
    assert found["Óptica Ñandú S.A."]["interests"] == ["café", "ciclismo"]
    assert found["Área Logística"]["since"] == date(2021, 4, 3)  # 03/04/2021, day first
    assert found["Área Logística"]["lang"] == "es"  # "Español"
    assert found["Cañas y Barro S.L."]["since"] == date(2019, 2, 28)
    again = invoke("import", str(DATA / name), "--dayfirst")
    assert again.exit_code == 0 and "0 new customers" in again.output, again.output


def test_tab_separated_and_xlsx(team: App, invoke: Invoke, tmp_path: Path) -> None:
    from openpyxl import Workbook

    tsv = tmp_path / "accounts.tsv"
    tsv.write_text("Account Name\tAccount Owner\tCreated Date\nGlobex\tAna García\t2/1/2022\n")
    result = invoke("import", str(tsv))
    assert result.exit_code == 0, result.output

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Company name", "Company owner", "Create Date", "Company Domain Name", "Industry"])
    sheet.append(["Ωμέγα Ναυτιλιακή", "Bruno Díaz", date(2019, 5, 6), "omega.example", "Shipping"])
    sheet.append([None, None, None, None, None])
    sheet.append(["株式会社東京ロボティクス", "ana@example.com", "2020-07-01 08:00", None, None])
    workbook.save(tmp_path / "companies.xlsx")
    result = invoke("import", str(tmp_path / "companies.xlsx"))
    assert result.exit_code == 0, result.output
    assert "2 new customers" in result.output and "ignored columns: Industry" in result.output
    found = customers(team)
    assert found["Globex"]["since"] == date(2022, 2, 1)
    assert found["Ωμέγα Ναυτιλιακή"]["since"] == date(2019, 5, 6)
    assert found["Ωμέγα Ναυτιλιακή"]["domains"] == ["omega.example"]
    assert found["株式会社東京ロボティクス"]["rep"] == "ana@example.com"


def test_map_dry_run_skip_bad_and_changed_rows(team: App, invoke: Invoke, tmp_path: Path) -> None:
    export = tmp_path / "accounts.csv"
    export.write_text(
        "Cuenta,Key Account Manager,Cadence,Region\n"
        "Acme Corp,Ana García,30,EU\n"
        "Globex,Nobody Here,14,US\n"
        "Initech,bruno@example.com,21,US\n"
    )
    mapped = ("--map", "Cuenta=customer", "--map", "Key Account Manager=rep", "--map", "Region=ignore")
    result = invoke("import", str(export), *mapped)
    assert result.exit_code == 2
    assert "line 3: Globex: no rep named 'Nobody Here'" in result.output
    assert customers(team) == {}

    result = invoke("import", str(export), *mapped, "--dry-run")
    assert result.exit_code == 2 and customers(team) == {}  # a dry run finds the same problems

    result = invoke("import", str(export), *mapped, "--skip-bad", "--dry-run")
    assert result.exit_code == 1, result.output
    assert "would import accounts.csv: 2 new customers" in result.output and "dry run: nothing changed" in result.output
    assert customers(team) == {}

    result = invoke("import", str(export), *mapped, "--skip-bad")
    assert result.exit_code == 1
    assert "skipped: accounts.csv line 3: Globex: no rep named 'Nobody Here'" in result.output
    assert "1 row skipped" in result.output
    assert sorted(customers(team)) == ["Acme Corp", "Initech"]
    assert "ignored columns" not in result.output  # Region was mapped to ignore

    export.write_text(
        "Cuenta,Key Account Manager,Cadence,Tier,Tags\nAcme Corp,bruno@example.com,7,high,EU\nInitech,Bruno Díaz,21,,\n"
    )
    result = invoke("import", str(export), "--map", "Cuenta=customer", "--map", "Key Account Manager=rep")
    assert result.exit_code == 0, result.output
    assert (
        "line 2: Acme Corp: rep ana@example.com -> bruno@example.com, cadence 30 -> 7, tier normal -> high, "
        "tags - -> EU" in result.output
    )
    assert "0 new customers, 1 updated" in result.output
    shown = json.loads(invoke("customer", "show", "acme corp", "--json").output)
    assert (shown["rep"], shown["cadence_days"], shown["tier"], shown["tags"]) == (
        "bruno@example.com",
        7,
        "high",
        ["EU"],
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--map", "Cuenta=owner_phone"), "unknown field 'owner_phone'"),
        (("--map", "Cuenta"), "is not Column=field"),
        (("--map", "Nope=customer"), "names a column the file does not have"),
    ],
)
def test_bad_maps_are_one_line(team: App, invoke: Invoke, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    export = tmp_path / "a.csv"
    export.write_text("Cuenta,rep\nAcme,ana@example.com\n")
    result = invoke("import", str(export), *args)
    assert result.exit_code == 2 and result.output.count("\n") == 1 and message in result.output, result.output
    assert customers(team) == {}
