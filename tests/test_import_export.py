"""`listener import FILE.csv|FILE.opml` and `listener export opml`: all or nothing, bad rows by line, round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from listener.cli.app import App
from listener.db.schema import Customer, Source
from listener.db.session import init_database, make_engine
from listener.directory import add_customer, add_rep
from listener.settings import load_settings
from tests.conftest import Invoke, allow_loopback
from tests.feeds import rss
from tests.servers.http import Reply, serve

RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html"}


def snapshot(app: App) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, str, str]]]:
    """Customers (with their details) and sources, in a form two databases can be compared by."""
    with app.transaction() as session:
        customers = [
            (
                c.name,
                c.rep.email,
                tuple(c.domains),
                tuple(c.aliases),
                c.language,
                c.customer_since,
                tuple(c.interests),
                c.touch_cadence_days,
            )
            for c in session.scalars(select(Customer).order_by(Customer.name))
        ]
        sources = [
            (name, s.kind, s.locator, s.title)
            for s, name in session.execute(
                select(Source, Customer.name).join(Customer).order_by(Customer.name, Source.kind, Source.locator)
            )
        ]
    return customers, sources


@pytest.fixture
def local(app: App) -> App:
    allow_loopback(app)
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_rep(session, "bo@example.com", "Bo")
        add_customer(session, "Globex", rep_email="bo@example.com")
    return app


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_adds_customers_and_discovers_their_feeds(local: App, invoke: Invoke, tmp_path: Path) -> None:
    with serve() as (base, routes):
        routes["/"] = Reply(b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed"></head></html>')
        routes["/feed"] = Reply(rss([], title="Nimbus news"), headers=RSS)
        routes["/es/"] = Reply(b"<html><head></head><body>no feed</body></html>", headers=HTML)
        routes["/es/feed/"] = Reply(rss([], title="Nimbus ES"), headers=RSS)
        csv_file = write(
            tmp_path,
            "crm.csv",
            "Customer,Rep,Domains,Language,Since,Interests,Cadence,Sources\n"
            f'Nimbus Logistics,ana@example.com,nimbus.example;nimbus.es,es,2021-03-15,"coffee, cycling",21,'
            f'"{base}/ ; {base}/es/ ; page:{base}/press"\n'
            "\n"
            ",,,,,,,\n"  # blank rows are skipped
            "Acme Corp,,acme.example,,,,,@acmecorp;r/acme\n"
            'Globex,,,,,,,reddit:search:"Globex"\n',  # an existing customer gets the new source
        )
        result = invoke("import", str(csv_file), "--rep", "bo@example.com")
        assert result.exit_code == 0, result.output
        assert "imported crm.csv: 2 new customers, 6 new sources from 3 rows" in result.output
        customers, sources = snapshot(local)
        again = invoke("import", str(csv_file), "--rep", "bo@example.com")
    assert customers[2][:5] == ("Nimbus Logistics", "ana@example.com", ("nimbus.es", "nimbus.example"), (), "es")
    assert customers[2][5:] == (date(2021, 3, 15), ("coffee", "cycling"), 21)
    assert customers[0][:2] == ("Acme Corp", "bo@example.com")
    # A declared feed is taken at its word (its title comes with the first poll); a probed one was read.
    assert sources == [
        ("Acme Corp", "reddit", "r/acme", ""),
        ("Acme Corp", "twitter", "@acmecorp", ""),
        ("Globex", "reddit", 'reddit:search:"Globex"', ""),
        ("Nimbus Logistics", "page", f"{base}/press", ""),
        ("Nimbus Logistics", "rss", f"{base}/es/feed/", "Nimbus ES"),
        ("Nimbus Logistics", "rss", f"{base}/feed", ""),
    ]
    assert again.exit_code == 0 and "0 new customers, 0 new sources (6 already there)" in again.output
    assert snapshot(local) == (customers, sources)


def test_csv_with_bad_rows_reports_each_line_and_imports_nothing(local: App, invoke: Invoke, tmp_path: Path) -> None:
    before = snapshot(local)
    csv_file = write(
        tmp_path,
        "crm.csv",
        "customer,rep,since,language,sources,domains\n"
        "Good One,ana@example.com,2020-01-01,en,rss:https://good.example/feed,\n"  # line 2: fine, yet not imported
        "Bad Rep,nobody@example.com,,,,\n"  # line 3
        "Bad Date,ana@example.com,2021-02-30,,,\n"  # line 4
        ",ana@example.com,,,,\n"  # line 5: no name
        "Bad Url,ana@example.com,,,htp:/nowhere,\n"  # line 6
        "Bad Lang,ana@example.com,,klingon,,\n"  # line 7
        "Loopback,ana@example.com,,,http://127.0.0.1:9/feed,\n"  # line 8: refused without allow_private_networks
        "Bad Domain,ana@example.com,,,,not a domain\n",  # line 9
    )
    local.settings = replace(local.settings, fetch=replace(local.settings.fetch, allow_private_networks=False))
    result = invoke("import", str(csv_file), "--rep", "bo@example.com")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:-1]] == [f"crm.csv line {n}" for n in (3, 4, 5, 6, 7, 8, 9)]
    assert "Bad Rep: no rep with email 'nobody@example.com'" in lines[0]
    assert "Bad Date: --since '2021-02-30' is not a date" in lines[1]
    assert lines[2].endswith("no customer name")
    assert "cannot tell what 'htp:/nowhere' is" in lines[3]
    assert "'klingon' is not a language tag (use a BCP 47 tag" in lines[4]  # BCP 47 tags now
    assert "loopback or private network address" in lines[5]
    assert "is not a domain name" in lines[6]
    assert lines[-1] == "error: crm.csv: 7 bad row(s), nothing imported (fix the lines above and import the file again)"
    assert snapshot(local) == before


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("name\nAcme\n", ("--rep", "nobody@example.com"), "no rep with email 'nobody@example.com'"),
        ("firm,rep\nAcme,ana@example.com\n", (), "line 1: the file needs a column naming the customer"),
        ("customer\nAcme\n", (), "crm.csv line 2: Acme: customer 'Acme' names no rep (add a rep column or pass --rep)"),
        ("customer,rep,cadence\nAcme,ana@example.com,often\n", (), "cadence 'often' is not a number of days"),
    ],
)
def test_csv_problems_exit_2_and_change_nothing(
    local: App, invoke: Invoke, tmp_path: Path, text: str, args: tuple[str, ...], message: str
) -> None:
    before = snapshot(local)
    result = invoke("import", str(write(tmp_path, "crm.csv", text)), *args)
    assert result.exit_code == 2
    assert message in result.output
    assert all(line.startswith("error: ") for line in result.output.splitlines())
    assert snapshot(local) == before


def test_unknown_file_type_is_refused(local: App, invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("import", str(write(tmp_path, "crm.pdf", "PK")))
    assert result.exit_code == 2
    assert result.output == "error: crm.pdf: unknown file type (use a .csv, .xlsx or .opml file)\n"


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>From a feed reader</title></head>
  <body>
    <outline text="Initech" rep="ana@example.com">
      <outline type="rss" text="Initech blog" xmlUrl="https://initech.example/feed"/>
      <outline text="A folder">
        <outline type="rss" text="Initech jobs" xmlUrl="https://initech.example/jobs.rss"/>
      </outline>
      <outline type="page" text="Press" url="https://initech.example/press"/>
    </outline>
    <outline type="rss" text="Hooli News" xmlUrl="https://hooli.example/atom.xml"/>
  </body>
</opml>
"""


def test_opml_import_customers_and_their_feeds(local: App, invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("import", str(write(tmp_path, "feeds.opml", OPML)), "--rep", "bo@example.com")
    assert result.exit_code == 0, result.output
    assert "2 new customers, 4 new sources from 2 rows" in result.output
    customers, sources = snapshot(local)
    assert [(c[0], c[1]) for c in customers] == [
        ("Globex", "bo@example.com"),
        ("Hooli News", "bo@example.com"),
        ("Initech", "ana@example.com"),
    ]
    assert sources == [
        ("Hooli News", "rss", "https://hooli.example/atom.xml", ""),  # its title named the customer
        ("Initech", "page", "https://initech.example/press", "Press"),
        ("Initech", "rss", "https://initech.example/feed", "Initech blog"),
        ("Initech", "rss", "https://initech.example/jobs.rss", "Initech jobs"),
    ]


def test_opml_with_bad_outlines_reports_lines_and_imports_nothing(local: App, invoke: Invoke, tmp_path: Path) -> None:
    before = snapshot(local)
    text = """<?xml version="1.0"?>
<opml version="2.0"><body>
  <outline text="Initech" rep="ana@example.com">
    <outline text="no feed here"/>
    <outline type="rss" text="bad" xmlUrl="ftp://initech.example/feed"/>
  </outline>
  <outline text="Nobody's" rep="nobody@example.com"/>
</body></opml>
"""
    result = invoke("import", str(write(tmp_path, "feeds.opml", text)))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "error: feeds.opml line 4: outline 'no feed here' has no xmlUrl (nor a type and url)"
    assert lines[1] == (
        "error: feeds.opml line 5: Initech: 'ftp://initech.example/feed' is not an http(s) URL "
        "(use e.g. https://example.com/feed)"
    )
    assert lines[2].startswith("error: feeds.opml line 7: Nobody's: no rep with email 'nobody@example.com'")
    assert lines[3].startswith("error: feeds.opml: 3 bad row(s), nothing imported")
    assert snapshot(local) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('<opml><body><outline text="A & B"/></body></opml>', "line 1: the OPML is not well-formed XML"),
        (
            '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x "boom">]><opml><body><outline text="&x;"/></body></opml>',
            "the OPML was refused",
        ),
    ],
)
def test_broken_or_hostile_opml_is_refused(local: App, invoke: Invoke, tmp_path: Path, text: str, message: str) -> None:
    before = snapshot(local)
    result = invoke("import", str(write(tmp_path, "feeds.opml", text)))
    assert result.exit_code == 2 and message in result.output and result.output.count("\n") == 1
    assert snapshot(local) == before


def fresh_app(tmp_path: Path) -> App:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine = make_engine(url)
    init_database(engine)
    engine.dispose()
    return App(settings=load_settings(None, environ={"LISTENER_DB": url, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}))


def test_export_then_import_into_a_fresh_database_gives_the_same(local: App, invoke: Invoke, tmp_path: Path) -> None:
    with local.transaction() as session:
        add_customer(
            session,
            'Nimbus & "Sons" <Logistics>',
            rep_email="ana@example.com",
            domains=["nimbus.example", "nimbus.es"],
            aliases=["Nimbus", "NL Group"],
            since="2021-03-15",
            interests=["coffee", "cycling"],
            language="es",
            cadence_days=21,
        )
    for customer, locator, kind in [
        ('Nimbus & "Sons" <Logistics>', "https://nimbus.example/feed?lang=es&x=1", "rss"),
        ('Nimbus & "Sons" <Logistics>', "https://nimbus.example/press", "page"),
        ('Nimbus & "Sons" <Logistics>', "@nimbus", None),
        ("Globex", "r/globex", None),
        ("Globex", "", "google-news"),
    ]:
        args = ("--google-news",) if kind == "google-news" else ((locator, "--kind", kind) if kind else (locator,))
        result = invoke("source", "add", customer, *args)
        assert result.exit_code == 0, result.output
    exported = invoke("export", "opml")
    assert exported.exit_code == 0
    assert exported.output.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    out = tmp_path / "listener.opml"
    assert invoke("export", "opml", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == exported.output

    fresh = fresh_app(tmp_path)
    try:
        with fresh.transaction() as session:
            add_rep(session, "ana@example.com", "Ana")
            add_rep(session, "bo@example.com", "Bo")
        result = Invoke(fresh)("import", str(out))
        assert result.exit_code == 0, result.output
        assert snapshot(fresh) == snapshot(local)
        assert Invoke(fresh)("export", "opml").output == exported.output
    finally:
        fresh.close()


def test_csv_source_without_feed_suggests_the_page_prefix(local: App, invoke: Invoke, tmp_path: Path) -> None:
    before = snapshot(local)
    with serve() as (base, routes):
        routes["/news"] = Reply(b"<html><body><a href='/news/1'>One story</a></body></html>", headers=HTML)
        csv_file = write(
            tmp_path, "crm.csv", f"customer,rep,sources\nAcme Corp,ana@example.com,{base}/news;{base}/missing\n"
        )
        result = invoke("import", str(csv_file))
    assert result.exit_code == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("error: crm.csv line")]
    assert len(problems) == 2
    assert f"no feed found at {base}/news" in problems[0] and f"write page:{base}/news)" in problems[0]
    assert "HTTP 404" in problems[1] and f"write rss:{base}/missing to add it anyway" in problems[1]
    assert snapshot(local) == before
