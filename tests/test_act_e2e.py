"""End to end: a real digest over SMTP (aiosmtpd), a real `listener serve` process, and headless Chromium that
follows the email's Done link, checks that opening it changed nothing, clicks the button, and the database has it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digests.deliver import send_due
from digests.tokens import verify
from listener.cli.app import App
from listener.db.schema import Feedback, Insight, Interaction
from listener.settings import WebSettings
from tests.test_deliver import Inbox, free_port, inbox, smtp_settings  # noqa: F401 (the inbox fixture)
from tests.test_digest_helpers import NOW, add_contact, add_customer, add_insight, add_rep

SECRET = "e2e-" + "k" * 40
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture
def served(app: App, tmp_path: Path) -> Iterator[str]:
    """`listener serve` in its own process on the test's database; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LISTENER_DB": app.settings.database_url, "LISTENER_WEB_SECRET": SECRET,
           "LISTENER_WEB_BASE_URL": base, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}  # fmt: skip
    env.pop("LISTENER_CONFIG", None)
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "listener", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "listener serve did not start"
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()
    assert SECRET not in (tmp_path / "serve.log").read_text()  # the secret is never logged


def test_a_rep_clicks_done_in_the_emailed_digest(
    app: App,
    served: str,
    inbox: tuple[Inbox, int],  # noqa: F811 (the fixture imported above)
) -> None:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    handler, port = inbox
    with app.transaction() as session:
        rep = add_rep(session)
        acme = add_customer(session, rep, "Acme Robotics")
        add_contact(session, acme, "Lena Park", email="lena@acme.example")
        win = add_insight(session, acme, "win", "funding", "Acme Robotics raises $20M Series B", age_hours=6)
        cuts = add_insight(session, acme, "challenge", "layoffs", "Acme Robotics cuts 40 jobs", age_hours=5)
        ids = {"win": win.id, "cuts": cuts.id}
    settings = replace(smtp_settings(app, port), web=WebSettings(base_url=served, secret=SECRET))
    assert send_due(app.sessions(), settings, now=NOW).sent == 1
    (message,) = handler.messages
    html = str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    anchors = [(unescape(href), text) for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', html)]
    done = [href for href, text in anchors if text == "Done"]
    assert len(done) >= 2 and all(href.startswith(f"{served}/a/") for href in done)
    target = next(h for h in done if verify(SECRET, h.rsplit("/", 1)[1], 30).insight_ids == (ids["win"],))

    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            response = page.goto(target)
            assert response is not None and response.status == 200
            assert "Acme Robotics raises $20M Series B" in page.content()
            with app.transaction() as session:  # opening the link (a scanner, a preview) changes nothing
                assert session.scalar(select(func.count()).select_from(Feedback)) == 0
            page.click("button")
            page.wait_for_selector("text=Marked as done", timeout=60_000)
        finally:
            browser.close()

    with app.transaction() as session:
        (row,) = session.scalars(select(Feedback)).all()
        assert (row.action, row.insight_id, row.kind) == ("done", ids["win"], "win")
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1
        assert session.get(Insight, ids["win"]).acted_at is not None  # type: ignore[union-attr]
        assert session.get(Insight, ids["cuts"]).acted_at is None  # type: ignore[union-attr]
