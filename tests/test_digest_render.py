"""Rendering: golden files (LISTENER_REGEN_GOLDEN=1 rewrites them), escaping, size, email-safe HTML, Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from digests.build import build_digest
from digests.model import Digest as DigestModel
from digests.render import render, render_html, render_text
from listener.cli.app import App
from listener.db.schema import Customer, Rep
from tests.test_digest_helpers import (
    NOW,
    TODAY,
    add_contact,
    add_customer,
    add_insight,
    add_rep,
    seed_scenario,
    source_for,
)

GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
REGENERATE = os.environ.get("LISTENER_REGEN_GOLDEN") == "1"
GMAIL_CLIP_BYTES = 102 * 1024
# Headless, as root in CI, and never reaching for the network (this machine has none: Chromium would retry).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")  # fmt: skip


def mask(text: str) -> str:
    """Hide what legitimately changes between runs (timestamps of generation, calendar stamps)."""
    text = re.sub(r"DTSTAMP:\d{8}T\d{6}Z", "DTSTAMP:<masked>", text)
    return re.sub(r"generated \d{4}-\d{2}-\d{2}T[\d:.+]+", "generated <masked>", text)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    actual = mask(actual)
    if REGENERATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        if not REGENERATE:
            pytest.fail(f"golden file {path} was missing and has been written; check it and rerun")
    with path.open(encoding="utf-8", newline="") as golden:
        expected = golden.read()
    assert actual == expected, f"{name} changed; rerun with LISTENER_REGEN_GOLDEN=1 if intended"


def scenario_digest(app: App, language: str = "en") -> DigestModel:
    with app.transaction() as session:
        rep = seed_scenario(session)
        rep.language = language
        session.flush()
        return build_digest(session, app.settings, rep, TODAY, NOW)


@pytest.mark.parametrize("language", ["en", "es"])
def test_golden_digest(app: App, language: str) -> None:
    digest = scenario_digest(app, language)
    check_golden(f"digest_{language}.html", render_html(digest))
    check_golden(f"digest_{language}.txt", render_text(digest))
    check_golden(f"digest_{language}.ics", digest.attachments[0].content.decode())


class _Audit(HTMLParser):
    """Collects what matters for safety and email clients: tags, links, attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[str] = []
        self.styled_without_inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.append(name)
            if tag == "a" and name == "href":
                self.hrefs.append(value or "")
        if tag == "a" and not any(n == "style" for n, _ in attrs):
            self.styled_without_inline.append(tag)


def audit(html: str) -> _Audit:
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser


HOSTILE = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "<a href='javascript:alert(2)'>click</a>",
    "{{ 7*7 }} {% raw %}",
    "</td></tr></table><iframe src=https://evil.example>",
]


def test_everything_from_feeds_is_escaped(app: App) -> None:
    with app.transaction() as session:
        rep = add_rep(session)
        for n, hostile in enumerate(HOSTILE):
            customer = add_customer(session, rep, f"Customer {n}", created_at=NOW - timedelta(days=90))
            add_contact(session, customer, f"{hostile} Name")
            kind, category = [("win", "launch"), ("challenge", "incident"), ("news", "content"), ("goal", "plan"),
                              ("win", "funding")][n]  # fmt: skip
            add_insight(session, customer, kind, category, hostile, text=hostile, evidence=[hostile],
                        facts={"product": hostile, "topic": hostile, "amount": hostile, "round": hostile},
                        url="https://ok.example/post", links=[hostile, "javascript:alert(3)"])  # fmt: skip
            source_for(session, customer, locator=hostile, last_error=hostile, failing_since=NOW)
        digest = build_digest(session, app.settings, rep, TODAY, NOW)
    rendered = render(digest)
    found = audit(rendered.html)
    assert set(found.tags) <= {"html", "head", "meta", "title", "body", "div", "table", "tr", "td", "h1", "h2", "p",
                               "b", "a", "ul", "ol", "li", "br", "span"}  # fmt: skip
    assert found.hrefs and all(h == "https://ok.example/post" for h in found.hrefs)
    assert not {"onerror", "onclick", "onmouseover", "src"} & set(found.attrs)
    assert "\n  javascript:" not in rendered.text  # the text part lists links one a line: none of those
    assert "&lt;script&gt;" in rendered.html and "49" not in rendered.html  # no template ran on feed text
    assert '<script>alert("x")</script>' in rendered.text  # plain text keeps the words as they are


def test_email_safe_html_inline_styles_no_external_resources(app: App) -> None:
    html = render_html(scenario_digest(app))
    found = audit(html)
    assert "<style" not in html and "<link" not in html and "<img" not in html and "url(" not in html
    assert "class=" not in html  # everything is inline: Gmail strips <style> in some contexts
    assert not found.styled_without_inline
    assert 'name="viewport"' in html and "max-width:600px" in html and 'role="presentation"' in html


def test_a_large_digest_stays_under_gmails_clipping_size(app: App) -> None:
    long_title = " ".join(["Extraordinarily verbose headline about warehouse robotics"] * 40)
    with app.transaction() as session:
        rep = add_rep(session)
        for n in range(60):
            since = TODAY.replace(year=2020) + timedelta(days=n % 6)
            customer = add_customer(session, rep, f"Customer number {n} with a rather long company name Ltd",
                                    interests=["coffee", "wine"], customer_since=since,
                                    touch_cadence_days=7, created_at=NOW - timedelta(days=60))  # fmt: skip
            add_contact(session, customer, f"Contact {n}", birthday=f"{TODAY.month:02d}-{TODAY.day + n % 5:02d}")
            for k, (kind, category) in enumerate([("win", "funding"), ("news", "content"), ("challenge", "incident"),
                                                  ("goal", "plan"), ("win", "award")]):  # fmt: skip
                add_insight(session, customer, kind, category, f"{long_title} {n}-{k}", text=long_title * 3,
                            facts={"amount": "$20M", "round": "Series B", "topic": f"topic {k} {long_title}"},
                            evidence=[long_title] * 10, age_hours=k * 24 + n,
                            links=[f"https://news{i}.example/{'x' * 300}" for i in range(10)])  # fmt: skip
            source_for(session, customer, locator=f"https://c{n}.example/feed", last_error="x" * 500, failing_since=NOW)
        digest = build_digest(session, app.settings, rep, TODAY, NOW)
    rendered = render(digest)
    size = len(rendered.html.encode("utf-8"))
    assert len(digest.cards) == 8 and len(digest.items()) == 24 and digest.failing_more == 50
    assert size < GMAIL_CLIP_BYTES, f"HTML is {size} bytes"
    assert rendered.digest is digest  # it fit without dropping anything
    # An operator who asks for 12 items a card still gets an unclipped email: the rest go to the summaries.
    big = render(replace(digest, cards=tuple(replace(c, items=c.items * 4) for c in digest.cards)))
    assert len(big.html.encode("utf-8")) < GMAIL_CLIP_BYTES
    assert big.digest.cards[0].more and "Also: " in big.html
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "digest-large.html").write_text(rendered.html, encoding="utf-8")


def test_headless_chromium_renders_the_digest(app: App, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "digest.html"
    page.write_text(render_html(scenario_digest(app)), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {"phone": "390,2600", "desktop": "1024,2000"}
    for name, size in shots.items():
        shot = ARTIFACTS / f"digest-{name}.png"
        shot.unlink(missing_ok=True)
        result = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / f'profile-{name}'}", "--hide-scrollbars",
             f"--window-size={size}", f"--screenshot={shot}", page.as_uri()],
            capture_output=True, timeout=120, text=True,
        )  # fmt: skip
        assert shot.is_file(), result.stderr[-2000:]
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 20_000  # a blank page compresses to far less
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile-dom'}", "--dump-dom", page.as_uri()],
        capture_output=True, timeout=120, text=True,
    )  # fmt: skip
    assert "Acme Robotics raises $20M Series B" in dom.stdout and "<script>alert" not in dom.stdout


def test_headless_chromium_the_digest_fits_a_phone_without_sideways_scrolling(app: App, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    unbroken = "https://feeds.example/" + "x" * 150
    with app.transaction() as session:
        rep = seed_scenario(session)
        acme = session.query(Customer).filter_by(name="Acme Robotics").one()
        source_for(session, acme, locator=unbroken, last_error="E" * 120, failing_since=NOW)
        add_insight(session, acme, "win", "launch", "Acme ships " + "Z" * 90, facts={"product": "Z" * 90})
        html = render_html(build_digest(session, app.settings, rep, TODAY, NOW))
    # Headless windows are at least 500px wide, so the digest is laid out in a 360px frame and measured there.
    page = tmp_path / "phone.html"
    page.write_text(
        '<!DOCTYPE html><html><head><title>-</title></head><body style="margin:0">'
        f'<iframe id="f" style="width:360px;height:640px;border:0" srcdoc="{escape(html, quote=True)}"></iframe>'
        '<script>addEventListener("load", () => { const e = document.getElementById("f").contentDocument'
        ".documentElement; document.title = `W${e.scrollWidth}/${e.clientWidth}`; });</script></body></html>",
        encoding="utf-8",
    )
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, timeout=120, text=True,
    )  # fmt: skip
    found = re.search(r"<title>W(\d+)/(\d+)</title>", dom.stdout)
    assert found, dom.stdout[-500:] + dom.stderr[-2000:]
    scroll_width, client_width = int(found.group(1)), int(found.group(2))
    assert client_width <= 360 and scroll_width <= client_width, "the digest scrolls sideways on a phone"


def test_rep_language_labels(app: App) -> None:
    with app.transaction() as session:
        seed_scenario(session)
        session.query(Rep).update({"language": "es"})
    with app.transaction() as session:
        rep = session.query(Rep).one()
        text = render_text(build_digest(session, app.settings, rep, TODAY, NOW))
    assert text.startswith("Buenos días, Ana\nRetomar el contacto con Globex · 3 clientes más\n\n== HOY ==")
    assert "== HOY ==" in text and "Contacto: Lucía Pérez, CEO" in text
