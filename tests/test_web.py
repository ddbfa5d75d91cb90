"""`listener serve` on 127.0.0.1 (uvicorn in a thread, real HTTP): tokens, GET without effect, POST effects, replay,
the one-click unsubscribe, and the feedback commands over what reps said."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from digests.deliver import send_due
from digests.tokens import Claim, sign
from listener.cli.app import App
from listener.db.schema import Customer, DigestPause, Feedback, Insight, Interaction, Rep
from listener.db.schema import Digest as DigestRow
from listener.settings import WebSettings
from listener.web import uvicorn_config
from tests.conftest import Invoke
from tests.test_deliver import Inbox, free_port, inbox, smtp_settings  # noqa: F401 (the inbox fixture)
from tests.test_digest_helpers import NOW, add_customer, add_insight, add_rep

SECRET = "x" * 40


@pytest.fixture
def web(app: App) -> Iterator[tuple[str, App]]:
    """A real uvicorn server for the app's database, on a free loopback port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app.settings = replace(app.settings, web=WebSettings(base_url=base, secret=SECRET, port=port))
    server = uvicorn.Server(uvicorn_config(app.sessions(), app.settings.web, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield base, app
    server.should_exit = True
    thread.join(timeout=30)


def seed(app: App) -> dict[str, int]:
    with app.transaction() as session:
        rep = add_rep(session)
        acme = add_customer(session, rep, "Acme <script>alert(1)</script> & Co")
        win = add_insight(session, acme, "win", "funding", "Acme raises <b>$20M</b>", age_hours=10)
        same_story = add_insight(session, acme, "win", "funding", "Acme tweet on the round", age_hours=9)
        same_story.post.story_key = win.post.story_key
        cuts = add_insight(session, acme, "challenge", "layoffs", "Acme cuts 40 jobs", age_hours=8)
        session.flush()
        return {"rep": rep.id, "acme": acme.id, "win": win.id, "story": same_story.id, "cuts": cuts.id}


def link(base: str, claim: Claim) -> str:
    return f"{base}/{'u' if claim.action == 'unsubscribe' else 'a'}/{sign(SECRET, claim)}"


def counts(app: App) -> tuple[int, int, int]:
    with app.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Feedback)) or 0,
            session.scalar(select(func.count()).select_from(Interaction)) or 0,
            session.scalar(select(func.count()).select_from(Insight).where(Insight.acted_at.is_not(None))) or 0,
        )


def test_get_shows_the_item_escaped_and_changes_nothing_post_records_once(web: tuple[str, App]) -> None:
    base, app = web
    ids = seed(app)
    url = link(base, Claim(ids["rep"], "done", ids["acme"], (ids["win"],)))
    for _ in range(3):  # a mail scanner, a link preview, the rep
        page = httpx.get(url)
        assert page.status_code == 200
    assert counts(app) == (0, 0, 0)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page.text and "<script>" not in page.text
    assert "Acme raises &lt;b&gt;$20M&lt;/b&gt;" in page.text
    assert '<form method="post">' in page.text and "Mark as done" in page.text
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert "server" not in headers

    first = httpx.post(url)
    assert first.status_code == 200 and "Marked as done" in first.text
    again = httpx.post(url)  # a replayed click
    assert again.status_code == 200 and "already recorded" in again.text
    with app.transaction() as session:
        (row,) = session.scalars(select(Feedback)).all()
        assert (row.action, row.kind, row.category, row.insight_id) == ("done", "win", "funding", ids["win"])
        (touch,) = session.scalars(select(Interaction)).all()
        assert touch.kind == "congrats" and touch.customer_id == ids["acme"]
        acted = dict(session.execute(select(Insight.id, Insight.acted_at.is_not(None))).all())
    # The item and its story leave later digests; the customer's other item (the layoffs) does not.
    assert acted == {ids["win"]: True, ids["story"]: True, ids["cuts"]: False}


def test_tampered_expired_and_wrong_paths_get_a_clear_page_and_a_4xx(
    web: tuple[str, App], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, app = web
    ids = seed(app)
    token = sign(SECRET, Claim(ids["rep"], "done", ids["acme"], (ids["win"],)))
    forged = sign("y" * 40, Claim(ids["rep"], "done", ids["acme"], (ids["win"],)))
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    # Signed 31 days ago (web.token_days is 30), and otherwise valid.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 31 * 86400)
    expired = sign(SECRET, Claim(ids["rep"], "done", ids["acme"], (ids["win"],)))
    monkeypatch.undo()
    monthly = sign(SECRET, Claim(ids["rep"], "done", ids["acme"], (ids["win"],)))
    assert expired != monthly
    for bad in (tampered, forged, "not-a-token"):
        for method in ("GET", "POST"):
            answer = httpx.request(method, f"{base}/a/{bad}")
            assert answer.status_code == 400 and "This link is not valid" in answer.text
    for method in ("GET", "POST"):
        answer = httpx.request(method, f"{base}/a/{expired}")
        assert answer.status_code == 410 and "This link has expired" in answer.text
    # A feedback token is no unsubscribe token, and the other way round.
    assert httpx.post(f"{base}/u/{token}").status_code == 400
    for path in ("/", "/a/", "/static/", "/docs", "/a", "/../etc/passwd", "/u", "/favicon.ico"):
        answer = httpx.get(base + path)
        assert answer.status_code == 404 and "Traceback" not in answer.text, path
        assert answer.headers["x-frame-options"] == "DENY"
    assert httpx.put(f"{base}/a/{token}").status_code == 405
    assert counts(app) == (0, 0, 0)


def test_pages_speak_the_reps_language_and_a_bad_link_the_browsers(web: tuple[str, App]) -> None:
    base, app = web
    ids = seed(app)
    with app.transaction() as session:
        session.get(Rep, ids["rep"]).language = "es-MX"  # type: ignore[union-attr]
    url = link(base, Claim(ids["rep"], "not_relevant", ids["acme"], (ids["win"],)))
    page = httpx.get(url, headers={"Accept-Language": "en"})  # the rep's digest language wins over the browser's
    assert page.status_code == 200 and '<html lang="es-MX">' in page.text
    assert "Marcar como no relevante" in page.text and "Listener lo clasificó como: buena noticia" in page.text
    assert "Mark as" not in page.text
    done = httpx.post(url)
    assert "Gracias: este elemento queda oculto" in done.text and counts(app)[0] == 1
    assert "Ya estaba registrado" in httpx.post(url).text and counts(app)[0] == 1
    # No rep behind a bad link: the browser's preferred language (q-values honoured), English otherwise.
    spanish_first = {"Accept-Language": "de;q=0.2, es-ES;q=0.9, en;q=0.5"}
    answer = httpx.get(f"{base}/a/not-a-token", headers=spanish_first)
    assert answer.status_code == 400 and "Este enlace no es válido" in answer.text
    assert "Aquí no hay nada" in httpx.get(f"{base}/nowhere", headers=spanish_first).text
    assert "This link is not valid" in httpx.get(f"{base}/a/not-a-token", headers={"Accept-Language": "xx"}).text


def test_snooze_not_relevant_and_kind_correction(web: tuple[str, App], invoke: Invoke, tmp_path: Path) -> None:
    base, app = web
    ids = seed(app)
    rep, acme = ids["rep"], ids["acme"]
    assert httpx.post(link(base, Claim(rep, "snooze", acme, (ids["cuts"],)))).status_code == 200
    assert httpx.post(link(base, Claim(rep, "not_relevant", acme, (ids["win"],)))).status_code == 200
    fix = link(base, Claim(rep, "good_news", acme, (ids["cuts"],)))
    assert 'name="category"' in httpx.get(fix).text
    assert httpx.post(fix, data={"category": "no-such"}).status_code == 404
    assert httpx.post(fix, data={"category": "expansion"}).status_code == 200
    with app.transaction() as session:
        customer = session.get(Customer, acme)
        assert customer is not None
        # Muted through day 14 of the snooze (UTC date of the click), back on day 15.
        assert customer.muted_until is not None and customer.muted_until >= NOW.date() + timedelta(days=13)
        rows = {f.action: f for f in session.scalars(select(Feedback))}
        assert (rows["not_relevant"].corrected_kind, rows["not_relevant"].corrected_category) == ("none", "other")
        assert rows["not_relevant"].post_id == session.scalar(select(Insight.post_id).where(Insight.id == ids["win"]))
        assert (rows["good_news"].kind, rows["good_news"].corrected_kind) == ("challenge", "win")
        assert rows["good_news"].corrected_category == "expansion"
        assert session.get(Insight, ids["win"]).acted_at is not None  # type: ignore[union-attr]
        assert session.get(Insight, ids["cuts"]).acted_at is None  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0

    listed = invoke("feedback", "list", "--json")
    assert listed.exit_code == 0
    assert sorted(r["action"] for r in json.loads(listed.output)) == ["good_news", "not_relevant", "snooze"]
    out = tmp_path / "verdicts.jsonl"
    assert invoke("feedback", "export", str(out)).exit_code == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(x["title"], x["kind"], x["category"]) for x in lines] == [
        ("Acme raises <b>$20M</b>", "none", "other"),
        ("Acme cuts 40 jobs", "win", "expansion"),
    ]
    assert set(lines[0]) == {"id", "title", "text", "lang", "kind", "category"}
    report = json.loads(invoke("feedback", "report", "--json").output)
    assert {(r["kind"], r["category"], r["judged"], r["right"]) for r in report} == {
        ("win", "funding", 1, 0),
        ("challenge", "layoffs", 2, 1),  # snoozed (right) and corrected (wrong)
    }
    assert invoke("feedback", "report", "--since", "yesterday").exit_code == 2


def test_one_click_unsubscribe_pauses_the_reps_digests_until_resumed(
    web: tuple[str, App],
    invoke: Invoke,
    inbox: tuple[Inbox, int],  # noqa: F811 (the fixture)
) -> None:
    base, app = web
    handler, port = inbox
    ids = seed(app)
    settings = replace(smtp_settings(app, port), web=app.settings.web)
    assert send_due(app.sessions(), settings, now=NOW).sent == 1
    message = handler.messages[0]
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(f"{base}/u/") and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert httpx.get(unsubscribe).status_code == 200  # a scanner: nothing happens
    with app.transaction() as session:
        assert session.get(DigestPause, ids["rep"]) is None
    # What a mail client sends (RFC 8058 section 3.1).
    answer = httpx.post(unsubscribe, content=b"List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.status_code == 200 and "paused" in answer.text
    assert httpx.post(unsubscribe).status_code == 200  # replay
    with app.transaction() as session:
        acme = session.get(Customer, ids["acme"])
        add_insight(session, acme, "news", "event", "Acme at the robotics fair", age_hours=-30)  # type: ignore[arg-type]
    paused = send_due(app.sessions(), settings, now=NOW + timedelta(days=2))
    assert (paused.sent, paused.skipped, paused.failed) == (0, 0, 0) and len(handler.messages) == 1
    resumed = invoke("rep", "resume", "ana@example.com")
    assert resumed.exit_code == 0 and "resumed" in resumed.output
    assert send_due(app.sessions(), settings, now=NOW + timedelta(days=2)).sent == 1
    assert "Acme at the robotics fair" in str(handler.messages[1].get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert invoke("rep", "resume", "nobody@example.com").exit_code == 2


def test_log_kind_marks_only_what_it_answers_and_date_records_a_past_touch(app: App, invoke: Invoke) -> None:
    ids = seed(app)
    with app.transaction() as session:
        session.add(DigestRow(rep_id=ids["rep"], digest_date=NOW.date(), status="sent", created_at=NOW,
                              insight_ids=[ids["win"], ids["story"], ids["cuts"]]))  # fmt: skip
    result = invoke("log", "Acme <script>alert(1)</script> & Co", "--kind", "congrats")
    assert result.exit_code == 0 and "2 digest item(s) marked as done" in result.output
    with app.transaction() as session:
        acted = dict(session.execute(select(Insight.id, Insight.acted_at.is_not(None))).all())
    assert acted == {ids["win"]: True, ids["story"]: True, ids["cuts"]: False}

    past = invoke("log", "Acme <script>alert(1)</script> & Co", "--kind", "call", "--date", "2026-01-15")
    assert past.exit_code == 0 and "marked as done" not in past.output  # the layoffs post came out later
    with app.transaction() as session:
        days = sorted(t.happened_at.date().isoformat() for t in session.scalars(select(Interaction)))
    assert days[0] == "2026-01-15"
    assert invoke("log", "Acme <script>alert(1)</script> & Co", "--kind", "call", "--date", "2999-01-01").exit_code == 2
    assert invoke("log", "Acme <script>alert(1)</script> & Co", "--kind", "call", "--date", "15/01").exit_code == 2


def test_serve_without_a_secret_says_what_to_do(invoke: Invoke) -> None:
    result = invoke("serve")
    assert result.exit_code == 2 and "LISTENER_WEB_SECRET" in result.output
