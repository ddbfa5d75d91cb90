"""`digest send` against SMTP servers that misbehave at the end of a message (a small asyncio SMTP server on
127.0.0.1): a digest whose delivery is ambiguous is `unknown` and never sent twice; one that surely failed is
retried; `digest retry` resends an unknown one; a claim is stamped when it is made, and a run whose claim was
taken over stops before the final "."."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from digests.deliver import claim, send_due
from listener.cli.app import App
from listener.db.schema import Digest
from listener.settings import Settings, SmtpSettings
from tests.conftest import Invoke
from tests.test_digest_helpers import NOW, TODAY, seed_scenario


@dataclass
class Misbehaving:
    """A hand-written SMTP server: it says what it received, and can misbehave around the end of DATA.

    mode: "ok"; "slow_250" (answers the "." after `delay` seconds); "quit_421" (250 to the ".", 421 to QUIT);
    "drop_after_dot" (takes the whole message, then closes without a word); "drop_at_data" (closes when the
    client says DATA, before any of the message)."""

    mode: str = "ok"
    delay: float = 0.0
    hold_first_rcpt: threading.Event | None = None  # the first conversation waits at RCPT until this is set
    copies: list[bytes] = field(default_factory=list)  # every message received in full (up to its ".")
    rcpt_seen: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    _held: bool = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"220 misbehaving.test ESMTP\r\n")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250 misbehaving.test\r\n")
                elif verb == b"RCPT":
                    self.rcpt_seen.set()
                    if self.hold_first_rcpt is not None and not self._held:
                        self._held = True
                        while not self.hold_first_rcpt.is_set():
                            await asyncio.sleep(0.02)
                    writer.write(b"250 ok\r\n")
                elif verb == b"DATA":
                    if self.mode == "drop_at_data":
                        break
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    body = b""
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        body += chunk
                    if not chunk:
                        break
                    self.copies.append(body)
                    if self.mode == "drop_after_dot":
                        break
                    if self.mode == "slow_250":
                        await asyncio.sleep(self.delay)
                    writer.write(b"250 2.0.0 queued\r\n")
                elif verb == b"QUIT":
                    writer.write(b"421 4.3.0 going away\r\n" if self.mode == "quit_421" else b"221 bye\r\n")
                    await writer.drain()
                    break
                else:  # MAIL, RSET, NOOP
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


@pytest.fixture
def server() -> Iterator[Misbehaving]:
    handler = Misbehaving()
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def serve() -> asyncio.Server:
        srv = await asyncio.start_server(handler.handle, "127.0.0.1", 0)
        handler.port = srv.sockets[0].getsockname()[1]
        return srv

    def run() -> None:
        asyncio.set_event_loop(loop)
        srv = loop.run_until_complete(serve())
        started.set()
        loop.run_forever()
        srv.close()
        pending = asyncio.all_tasks(loop)
        for task in pending:  # a conversation still sleeping (slow_250) ends here, not at garbage collection
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    yield handler
    if handler.hold_first_rcpt is not None:
        handler.hold_first_rcpt.set()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def settings_for(app: App, port: int, **kw: Any) -> Settings:
    smtp = SmtpSettings(host="127.0.0.1", port=port, from_="Listener <digest@acme-sales.example>", timeout=10)
    return replace(app.settings, smtp=replace(smtp, **kw))


def digest_row(app: App) -> Digest:
    with app.transaction() as session:
        row = session.scalars(select(Digest)).one()
        session.expunge(row)
        return row


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        ("slow_250", "unknown"),  # the 250 comes after the client stopped waiting
        ("drop_after_dot", "unknown"),  # the whole message went, then the connection dropped
        ("quit_421", "sent"),  # 250 to the message, 421 to QUIT: delivered, not a failure
    ],
)
def test_three_runs_send_one_copy_when_the_end_is_ambiguous(
    app: App, server: Misbehaving, mode: str, status: str
) -> None:
    server.mode, server.delay = mode, 3.0
    with app.transaction() as session:
        seed_scenario(session)
    settings = settings_for(app, server.port, data_timeout=1.0)
    reports = [send_due(app.sessions(), settings, now=NOW + timedelta(hours=h)) for h in range(3)]
    assert len(server.copies) == 1
    row = digest_row(app)
    assert (row.status, row.attempts) == (status, 1)
    assert row.message_id.strip() and row.item_count > 0 and row.insight_ids  # what it showed is recorded
    first = reports[0]
    if status == "unknown":
        assert (first.sent, first.failed, first.unknown) == (0, 0, 1), first.messages
        assert "may not have been sent" in first.messages[0] and "digest retry" in first.messages[0]
        assert row.sent_at is None and "no answer to the end of the message" in row.last_error
    else:
        assert (first.sent, first.failed, first.unknown) == (1, 0, 0), first.messages
        assert row.sent_at is not None and row.last_error == ""
    assert all((r.sent, r.unknown, r.failed, r.skipped) == (0, 0, 0, 1) for r in reports[1:])


def test_the_data_timeout_is_the_wait_for_the_final_reply(app: App, server: Misbehaving) -> None:
    """A server that takes 2 s to answer the "." is fine with a 10 s data timeout: waiting is not failing."""
    server.mode, server.delay = "slow_250", 2.0
    with app.transaction() as session:
        seed_scenario(session)
    report = send_due(app.sessions(), settings_for(app, server.port, timeout=1.0, data_timeout=10.0), now=NOW)
    assert (report.sent, report.unknown) == (1, 0), report.messages
    assert digest_row(app).status == "sent"


def test_a_drop_before_the_message_is_failed_and_retried(app: App, server: Misbehaving) -> None:
    server.mode = "drop_at_data"
    with app.transaction() as session:
        seed_scenario(session)
    settings = settings_for(app, server.port)
    first = send_due(app.sessions(), settings, now=NOW)
    assert (first.sent, first.failed, first.unknown) == (0, 1, 0), first.messages
    row = digest_row(app)
    assert (row.status, row.message_id) == ("failed", "") and not server.copies
    server.mode = "ok"
    second = send_due(app.sessions(), settings, now=NOW + timedelta(hours=1))
    third = send_due(app.sessions(), settings, now=NOW + timedelta(hours=2))
    assert (second.sent, third.sent, third.skipped) == (1, 0, 1)
    assert len(server.copies) == 1
    row = digest_row(app)
    assert (row.status, row.attempts) == ("sent", 2)


def test_cli_shows_unknown_and_retry_resends_it(app: App, server: Misbehaving) -> None:
    server.mode, server.delay = "drop_after_dot", 0
    with app.transaction() as session:
        seed_scenario(session)
    app.settings = settings_for(app, server.port)
    invoke = Invoke(app)
    result = invoke("digest", "send", "--now")
    assert result.exit_code == 1, result.output
    assert "0 sent, 0 skipped, 0 failed, 1 unknown" in result.output
    assert invoke("digest", "send", "--now").exit_code == 0 and len(server.copies) == 1  # not retried by itself

    listed = invoke("digest", "list", "--status", "unknown")
    assert listed.exit_code == 0 and "ana@example.com" in listed.output and "unknown" in listed.output
    assert "no answer to the end of the message" in listed.output

    server.mode = "ok"
    day = digest_row(app).digest_date.isoformat()  # `send --now` sends the rep's today, on the real clock
    result = invoke("digest", "retry", "--rep", "ana@example.com")
    assert result.exit_code == 0, result.output
    assert "ana@example.com: sent" in result.output and len(server.copies) == 2
    row = digest_row(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert invoke("digest", "list", "--status", "unknown").output.strip() == "No digests match."

    again = invoke("digest", "retry", "--rep", "ana@example.com", "--date", day)
    assert again.exit_code == 2 and "is sent, not unknown or failed" in again.output
    assert len(again.output.strip().splitlines()) == 1 and len(server.copies) == 2
    missing = invoke("digest", "retry", "--rep", "ana@example.com", "--date", "2020-01-01")
    assert missing.exit_code == 2 and "has no digest for 2020-01-01" in missing.output


# --- Item 10: claims stamped when they are made ----------------------------------------------------------------


def test_a_claim_is_stamped_when_it_is_made_not_at_the_runs_start(app: App) -> None:
    with app.transaction() as session:
        rep_id = seed_scenario(session).id
    taken = claim(app.sessions(), rep_id, TODAY, lambda: NOW)
    assert taken is not None
    with app.transaction() as session:
        stamped = session.scalar(select(Digest.created_at))
        assert stamped is not None and stamped.replace(tzinfo=None) == NOW.replace(tzinfo=None)
    # An overlapping run a minute later sees a fresh claim, not a stale one.
    assert claim(app.sessions(), rep_id, TODAY, lambda: NOW + timedelta(minutes=1)) is None
    # Once it is older than the stale window with nothing sent, a later run takes it over.
    later = claim(app.sessions(), rep_id, TODAY, lambda: NOW + timedelta(minutes=31))
    assert later is not None and later.attempt == 2


def _overlapping_runs(app: App, server: Misbehaving, second_run_at: datetime) -> tuple[Any, Any]:
    """Run A started 40 minutes before NOW and claims the rep at NOW; it waits at RCPT while run B starts."""
    server.hold_first_rcpt = threading.Event()
    settings = settings_for(app, server.port)
    other = App(settings=app.settings)  # a second engine, as a second process would have
    results: dict[str, Any] = {}

    def run_a() -> None:
        results["a"] = send_due(app.sessions(), settings, now=NOW - timedelta(minutes=40), clock=lambda: NOW)

    thread = threading.Thread(target=run_a)
    thread.start()
    try:
        assert server.rcpt_seen.wait(30)
        results["b"] = send_due(other.sessions(), settings, now=second_run_at, force_now=True)
    finally:
        server.hold_first_rcpt.set()
        thread.join(60)
        other.close()
    return results["a"], results["b"]


def test_an_overlapping_run_leaves_a_fresh_claim_of_a_long_run_alone(app: App, server: Misbehaving) -> None:
    with app.transaction() as session:
        seed_scenario(session)
    a, b = _overlapping_runs(app, server, NOW + timedelta(minutes=1))
    assert (a.sent, b.sent, b.skipped) == (1, 0, 1), (a.messages, b.messages)
    assert len(server.copies) == 1
    assert (digest_row(app).status, digest_row(app).attempts) == ("sent", 1)


def test_a_run_whose_claim_was_taken_over_stops_before_the_final_dot(app: App, server: Misbehaving) -> None:
    with app.transaction() as session:
        seed_scenario(session)
    a, b = _overlapping_runs(app, server, NOW + timedelta(minutes=45))  # A's claim now looks stale: B takes it
    assert (b.sent, a.sent, a.skipped) == (1, 0, 1), (a.messages, b.messages)
    assert "another run took the digest over" in a.messages[0]
    assert len(server.copies) == 1
    row = digest_row(app)
    assert (row.status, row.attempts) == ("sent", 2)


def test_quit_421_through_the_cli_is_success(app: App, server: Misbehaving) -> None:
    server.mode = "quit_421"
    with app.transaction() as session:
        seed_scenario(session)
    app.settings = settings_for(app, server.port)
    result = Invoke(app)("digest", "send", "--now")
    assert result.exit_code == 0 and "1 sent, 0 skipped, 0 failed" in result.output, result.output
    assert len(server.copies) == 1 and digest_row(app).status == "sent"
