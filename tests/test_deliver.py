"""`digest send` through a real SMTP server on 127.0.0.1 (aiosmtpd): what arrives, and never twice."""

from __future__ import annotations

import asyncio
import email
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from icalendar import Calendar
from sqlalchemy import select

from digests.deliver import send_due
from listener.cli.app import App
from listener.db.schema import Digest, Insight
from listener.settings import Settings, SmtpSettings
from tests.conftest import Invoke
from tests.test_digest_helpers import NOW, TODAY, add_customer, add_insight, add_rep, seed_scenario


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives; it can refuse the first N messages or be slow."""

    fail_first: int = 0
    delay: float = 0.0
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return "451 4.3.0 Mailbox temporarily unavailable"
            parsed = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret-pw", handled=False)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def smtp_settings(app: App, port: int, **kw: Any) -> Settings:
    return replace(
        app.settings,
        smtp=SmtpSettings(host="127.0.0.1", port=port, from_="Listener <digest@acme-sales.example>", timeout=10, **kw),
    )


def parts(message: EmailMessage) -> dict[str, Message]:
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def test_sends_one_multipart_email_with_headers_text_html_and_ics(app: App, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    with app.transaction() as session:
        seed_scenario(session)
    report = send_due(app.sessions(), smtp_settings(app, port), now=NOW)
    assert (report.sent, report.failed) == (1, 0), report.messages
    assert len(handler.messages) == 1 and handler.recipients == [["ana@example.com"]]
    msg = handler.messages[0]
    assert msg["To"] == "Ana García <ana@example.com>"
    assert msg["From"] == "Listener <digest@acme-sales.example>"
    assert msg["Subject"].startswith("Reconnect with Globex · 3 more customers")
    assert msg["Message-ID"].endswith("@acme-sales.example>") and msg["Date"]
    assert msg.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in msg.walk()][:4] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
    ]  # fmt: skip
    found = parts(msg)
    text = found["text/plain"].get_content()  # type: ignore[attr-defined]
    html = found["text/html"].get_content()  # type: ignore[attr-defined]
    assert "Acme Robotics raises $20M Series B" in text and "Acme Robotics raises $20M Series B" in html
    # Hostile titles arrive escaped in the HTML part; no javascript: link anywhere.
    assert "<script>" not in html and "&lt;script&gt;alert(" in html
    assert "<img src=x" not in html and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html and "javascript:" not in text
    invites = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert sorted(p.get_filename() for p in invites) == [
        "meet-acme-robotics-2026-11-23.ics", "meet-nimbus-logistica-2026-11-23.ics",
    ]  # fmt: skip
    acme = next(p for p in invites if p.get_filename() == "meet-acme-robotics-2026-11-23.ics")
    calendar = Calendar.from_ical(acme.get_payload(decode=True))
    event = calendar.walk("VEVENT")[0]
    assert "Acme Robotics" in str(event["summary"]) and str(event["attendee"]) == "mailto:lena@acme.example"
    assert event.decoded("dtstart").weekday() < 5

    with app.transaction() as session:
        row = session.scalars(select(Digest)).one()
        assert (row.status, row.digest_date, row.attempts) == ("sent", TODAY, 1)
        # The msg-id is what is between the folding whitespace (RFC 5322 3.6.4: [CFWS] "<" id ">" [CFWS]): an id
        # that fits a line of its own but not after "Message-ID: " (about 1 in 150 of make_msgid's lengths) is sent
        # folded onto the next line, and the parser keeps the fold's leading space.
        assert row.message_id == msg["Message-ID"].strip() and row.sent_at is not None and row.item_count > 0
        assert len(row.insight_ids) >= 5

    again = send_due(app.sessions(), smtp_settings(app, port), now=NOW + timedelta(hours=3))
    assert (again.sent, again.skipped) == (0, 1) and len(handler.messages) == 1


def test_shown_items_stay_out_of_the_next_days_digest(app: App, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    with app.transaction() as session:
        seed_scenario(session)
    send_due(app.sessions(), smtp_settings(app, port), now=NOW)
    send_due(app.sessions(), smtp_settings(app, port), now=NOW + timedelta(days=1))
    assert len(handler.messages) == 2
    second = parts(handler.messages[1])["text/plain"].get_content()  # type: ignore[attr-defined]
    assert "raises $20M Series B" not in second.split("== TIME FOR")[0]
    assert "== CONGRATULATE ==" not in second


def test_server_failure_is_recorded_and_retried_by_the_next_run(app: App, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    handler.fail_first = 1
    with app.transaction() as session:
        seed_scenario(session)
    first = send_due(app.sessions(), smtp_settings(app, port), now=NOW)
    assert (first.sent, first.failed) == (0, 1)
    assert "451" in first.messages[0]
    with app.transaction() as session:
        row = session.scalars(select(Digest)).one()
        assert row.status == "failed" and "451" in row.last_error and row.sent_at is None
    second = send_due(app.sessions(), smtp_settings(app, port), now=NOW + timedelta(hours=1))
    assert (second.sent, second.failed) == (1, 0)
    assert len(handler.messages) == 1
    with app.transaction() as session:
        row = session.scalars(select(Digest)).one()
        assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def test_cli_send_exits_1_when_mail_fails_and_0_on_retry(app: App, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    handler.fail_first = 1
    with app.transaction() as session:
        seed_scenario(session)
    app.settings = smtp_settings(app, port)
    invoke = Invoke(app)
    result = invoke("digest", "send", "--now")
    assert result.exit_code == 1, result.output
    assert "ana@example.com: not sent" in result.output and "0 sent, 0 skipped, 1 failed" in result.output
    result = invoke("digest", "send", "--now")
    assert result.exit_code == 0 and "1 sent, 0 skipped, 0 failed" in result.output
    result = invoke("digest", "send", "--now")
    assert result.exit_code == 0 and "0 sent, 1 skipped, 0 failed" in result.output
    assert len(handler.messages) == 1


def test_unreachable_server_fails_cleanly(app: App) -> None:
    with app.transaction() as session:
        seed_scenario(session)
    report = send_due(app.sessions(), smtp_settings(app, free_port()), now=NOW)
    assert report.failed == 1 and "ConnectionRefusedError" in report.messages[0]


def test_two_overlapping_runs_never_send_a_rep_twice(app: App, inbox: tuple[Inbox, int], db_url: str) -> None:
    handler, port = inbox
    handler.delay = 0.2  # each send holds its claim a while, so the runs really overlap
    with app.transaction() as session:
        for n in range(4):
            rep = add_rep(session, f"rep{n}@example.com", name=f"Rep {n}", time_zone="UTC")
            customer = add_customer(session, rep, f"Customer {n}")
            add_insight(session, customer, "win", "launch", f"Customer {n} launches v{n}")
    other = App(settings=app.settings)  # a second engine, as a second cron process would have
    settings = smtp_settings(app, port)
    reports = []

    def run(which: App) -> None:
        reports.append(send_due(which.sessions(), settings, now=NOW))

    threads = [threading.Thread(target=run, args=(a,)) for a in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other.close()
    assert sorted(r[0] for r in handler.recipients) == [f"rep{n}@example.com" for n in range(4)]
    assert sum(r.sent for r in reports) == 4 and sum(r.skipped for r in reports) == 4
    assert sum(r.failed for r in reports) == 0


def test_due_follows_each_reps_local_hour(app: App, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    with app.transaction() as session:
        for email_, tz in (("madrid@example.com", "Europe/Madrid"), ("ny@example.com", "America/New_York")):
            rep = add_rep(session, email_, time_zone=tz, digest_hour=7)
            add_insight(session, add_customer(session, rep, f"C {tz}"), "win", "award", f"Award in {tz}")
    # 08:00 UTC: 09:00 in Madrid (due), 03:00 in New York (not yet).
    report = send_due(app.sessions(), smtp_settings(app, port), now=NOW)
    assert report.sent == 1 and handler.recipients == [["madrid@example.com"]]
    # --now: New York gets today's digest even though it is 03:00 there.
    report = send_due(app.sessions(), smtp_settings(app, port), now=NOW, force_now=True)
    assert report.sent == 1 and handler.recipients[-1] == ["ny@example.com"]
    with app.transaction() as session:
        dates = dict(session.execute(select(Digest.rep_id, Digest.digest_date)).all())
    assert sorted(dates.values()) == [TODAY, TODAY]
    # At 02:00 UTC it is still 22 November in Los Angeles: a forced send is for that local date.
    with app.transaction() as session:
        rep = add_rep(session, "la@example.com", time_zone="America/Los_Angeles")
        add_insight(session, add_customer(session, rep, "C LA"), "win", "award", "Award in LA", age_hours=8)
    report = send_due(
        app.sessions(),
        smtp_settings(app, port),
        now=NOW - timedelta(hours=6),
        rep_email="la@example.com",
        force_now=True,
    )
    assert report.sent == 1
    with app.transaction() as session:
        assert session.scalar(select(Digest.digest_date).where(Digest.rep_id == rep.id)) == TODAY - timedelta(days=1)


def test_empty_day_sends_nothing_unless_send_empty(app: App, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    with app.transaction() as session:
        add_customer(session, add_rep(session), "Quiet Co", created_at=NOW - timedelta(days=1))
    report = send_due(app.sessions(), smtp_settings(app, port), now=NOW + timedelta(days=1))
    assert (report.sent, report.skipped) == (0, 1) and not handler.messages
    with app.transaction() as session:
        assert session.scalars(select(Digest.status)).one() == "empty"
    settings = smtp_settings(app, port)
    settings = replace(settings, digest=replace(settings.digest, send_empty=True))
    report = send_due(app.sessions(), settings, now=NOW + timedelta(days=2))
    assert report.sent == 1
    assert "Nothing new today" in handler.messages[0]["Subject"]


def test_dry_run_writes_eml_and_records_nothing(app: App, tmp_path: Path) -> None:
    with app.transaction() as session:
        seed_scenario(session)
    report = send_due(app.sessions(), app.settings, now=NOW, dry_run_dir=tmp_path)
    assert report.sent == 1
    eml = tmp_path / "ana@example.com-2026-11-23.eml"
    parsed = email.message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert parsed["To"] == "Ana García <ana@example.com>" and parsed.is_multipart()
    with app.transaction() as session:
        assert session.scalars(select(Digest)).all() == []
        assert session.scalars(select(Insight.acted_at)).all() == [None] * 10


# --- TLS: a self-signed certificate made at test time -------------------------------------------------------


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed cert for 127.0.0.1 that the client trusts through SSL_CERT_FILE (the real verify path)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    try:
        from cryptography import x509  # noqa: F401
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography package nor the openssl CLI is available")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
    else:
        _cryptography_cert(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def _cryptography_cert(cert: Path, key: Path) -> None:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    built = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(private, hashes.SHA256())
    )  # fmt: skip
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _server_context(cert: Path, key: Path) -> Any:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


def test_starttls_with_login_from_the_environment(
    app: App, certificate: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    handler = Inbox()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=_server_context(*certificate),
        require_starttls=True, authenticator=handler.authenticate, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        with app.transaction() as session:
            seed_scenario(session)
        from listener.settings import load_settings

        env = {
            "LISTENER_DB": app.settings.database_url, "LISTENER_SMTP_HOST": "127.0.0.1",
            "LISTENER_SMTP_PORT": str(port), "LISTENER_SMTP_SECURITY": "starttls",
            "LISTENER_SMTP_USER": "digest-bot", "LISTENER_SMTP_PASSWORD": "s3cret-pw",
            "XDG_CONFIG_HOME": "/nonexistent",
        }  # fmt: skip
        settings = load_settings(None, environ=env)
        with caplog.at_level("DEBUG", logger="digests"):
            report = send_due(app.sessions(), settings, now=NOW)
        assert report.sent == 1, report.messages
        assert handler.logins == [(b"digest-bot", b"s3cret-pw")]
        assert len(handler.messages) == 1
        assert "s3cret-pw" not in caplog.text and "s3cret-pw" not in " ".join(report.messages)
        # A wrong password: the run fails with a clear message that does not repeat the password.
        bad = replace(settings, smtp=replace(settings.smtp, password="wrong-pw"))
        with app.transaction() as session:
            session.query(Digest).delete()
        with caplog.at_level("DEBUG"):
            report = send_due(app.sessions(), bad, now=NOW)
        assert report.failed == 1 and "login as digest-bot refused" in report.messages[0]
        assert "wrong-pw" not in report.messages[0]
    finally:
        controller.stop()


def test_starttls_refuses_an_untrusted_certificate(
    app: App, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=_server_context(*certificate))
    controller.start()
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_DIR", str(certificate[0].parent / "empty"))
    try:
        with app.transaction() as session:
            seed_scenario(session)
        report = send_due(app.sessions(), smtp_settings(app, port, security="starttls"), now=NOW)
        assert report.failed == 1 and "SSLCertVerificationError" in report.messages[0]
        assert not handler.messages
    finally:
        controller.stop()


def test_implicit_ssl(app: App, certificate: tuple[Path, Path]) -> None:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=_server_context(*certificate))
    controller.start()
    try:
        with app.transaction() as session:
            seed_scenario(session)
        started = time.monotonic()
        report = send_due(app.sessions(), smtp_settings(app, port, security="ssl"), now=NOW)
        assert report.sent == 1, report.messages
        assert len(handler.messages) == 1 and time.monotonic() - started < 10
    finally:
        controller.stop()


# --- A run that died: what the next run may take over ---------------------------------------------------------


@pytest.mark.parametrize(
    ("message_id", "claimed_ago", "resent"),
    [
        ("", timedelta(hours=2), True),  # died while building: nothing reached the server, so send it now
        ("", timedelta(minutes=5), False),  # another run may still be building it
        ("<digest.1.2026-11-23.x@acme-sales.example>", timedelta(hours=2), False),  # may have gone out: never twice
    ],
)
def test_a_crashed_runs_claim_is_taken_over_only_if_nothing_was_sent(
    app: App, inbox: tuple[Inbox, int], message_id: str, claimed_ago: timedelta, resent: bool
) -> None:
    handler, port = inbox
    with app.transaction() as session:
        rep = seed_scenario(session)
        session.add(Digest(rep_id=rep.id, digest_date=TODAY, status="sending", attempts=1, message_id=message_id,
                           created_at=NOW - claimed_ago))  # fmt: skip
    report = send_due(app.sessions(), smtp_settings(app, port), now=NOW)
    assert (report.sent, report.skipped) == ((1, 0) if resent else (0, 1))
    assert len(handler.messages) == int(resent)
    with app.transaction() as session:
        row = session.scalars(select(Digest)).one()
        assert (row.status, row.attempts) == (("sent", 2) if resent else ("sending", 1))
    again = send_due(app.sessions(), smtp_settings(app, port), now=NOW + timedelta(minutes=10))
    assert again.sent == 0 and len(handler.messages) == int(resent)
