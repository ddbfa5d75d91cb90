"""Validators (ETag, Last-Modified) that are not ASCII (issue #17 item 6), and a source stuck on what it saved.

RFC 9110 allows obs-text (bytes 0x80-0xFF) in both. A real local server sends them; each source is polled twice (or
more) through the real ingest: no poll may fail because of what the server sent earlier.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.rss import RssConnector, conditional_headers
from listener.cli.app import App
from listener.db.schema import Source
from listener.directory import get_customer
from listener.ingest import IngestReport, run_ingest
from listener.sourcing import Resolved, insert_source
from tests.feeds import rss
from tests.servers.http import Reply, Routes, serve

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
FEED = rss([{"guid": "1", "title": "Series B closes"}])


def add(app: App, url: str) -> int:
    with app.transaction() as session:
        return insert_source(session, get_customer(session, "Acme Corp"), Resolved("rss", url)).id


def poll(app: App, hours: int) -> IngestReport:
    return run_ingest(app.sessions(), app.settings, all_sources=True, now=NOW + timedelta(hours=hours))


def row(app: App, source_id: int) -> Source:
    with app.transaction() as session:
        found = session.get(Source, source_id)
        assert found is not None
        return found


def sent(routes: Routes, header: str) -> list[str | None]:
    """The header's value in each request, as the server read it (latin-1, as http.server decodes)."""
    wanted = header.lower()
    return [next((v for k, v in headers.items() if k.lower() == wanted), None) for _, headers in routes.requests]


def test_a_latin1_etag_goes_back_as_the_bytes_it_came_in_and_earns_a_304(local: App) -> None:
    with serve() as (base, routes):
        routes["/feed"] = Reply(FEED, headers={"ETag": '"caf\xe9"'})  # http.server sends it as the byte 0xE9
        sid = add(local, f"{base}/feed")
        first, second = poll(local, 0), poll(local, 2)
        assert sent(routes, "If-None-Match") == [None, '"caf\xe9"']
    assert (first.failed, first.new_posts) == (0, 1)
    assert (second.failed, second.not_modified) == (0, 1)
    assert row(local, sid).etag == '"caf\xe9"' and row(local, sid).last_error == ""


def test_a_latin1_last_modified_goes_back_too(local: App) -> None:
    stamp = "Sat, 01 Jun 2030 10:00:00 GMT (heure d'\xe9t\xe9)"
    with serve() as (base, routes):
        routes["/feed"] = Reply(FEED, headers={"Last-Modified": stamp})
        add(local, f"{base}/feed")
        first, second = poll(local, 0), poll(local, 2)
        assert sent(routes, "If-Modified-Since") == [None, stamp]
    assert (first.failed, second.failed, second.not_modified) == (0, 0, 1)


def test_a_validator_beyond_latin1_is_not_sent_and_never_fails_a_poll(local: App) -> None:
    euro = "\u20ac".encode().decode("latin-1")  # the server sends the UTF-8 bytes E2 82 AC; we read them as "€"
    with serve() as (base, routes):
        routes["/feed"] = Reply(FEED, headers={"ETag": f'"{euro}1"'})
        sid = add(local, f"{base}/feed")
        reports = [poll(local, hours) for hours in (0, 2, 4)]
        assert sent(routes, "If-None-Match") == [None, None, None]
    assert [r.failed for r in reports] == [0, 0, 0]
    assert row(local, sid).etag == '"\u20ac1"'
    assert reports[1].not_modified == 1  # the same body: the stored digest still saves the parse


def test_a_validator_stored_before_this_fix_no_longer_fails_every_poll(local: App) -> None:
    """A source saved with an unsendable ETag by an older version recovers on its next poll."""
    with serve() as (base, routes):
        routes["/feed"] = Reply(FEED, headers={"ETag": '"fixed"'})
        sid = add(local, f"{base}/feed")
        with local.transaction() as session:
            source = session.get(Source, sid)
            assert source is not None
            source.etag, source.last_modified = '"caf\u20ac"', "Sat, 01 Jun 2030\r\nX-Injected: 1"
        report = poll(local, 0)
        assert sent(routes, "If-None-Match") == [None] and sent(routes, "If-Modified-Since") == [None]
        assert sent(routes, "X-Injected") == [None]
    assert (report.failed, report.new_posts) == (0, 1)
    assert row(local, sid).etag == '"fixed"'


def test_a_local_error_clears_the_validators_so_the_next_poll_starts_afresh(
    local: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug on our side (injected: the connector raises) must not leave the source conditional on what broke it."""
    with serve() as (base, routes):
        routes["/feed"] = Reply(FEED, headers={"ETag": '"v1"', "Last-Modified": "Sat, 01 Jun 2030 10:00:00 GMT"})
        sid = add(local, f"{base}/feed")
        assert poll(local, 0).new_posts == 1
        assert row(local, sid).etag == '"v1"'

        real_fetch = RssConnector.fetch

        async def broken(self: RssConnector, *args: object) -> object:
            raise ValueError("a bug met on hostile input")

        monkeypatch.setattr(RssConnector, "fetch", broken)
        failed = poll(local, 2)
        assert failed.failed == 1 and failed.failures[0][2].startswith("internal error: ValueError")
        after = row(local, sid)
        assert (after.etag, after.last_modified, "body_sha" in (after.cursor or {})) == ("", "", False)

        monkeypatch.setattr(RssConnector, "fetch", real_fetch)
        recovered = poll(local, 30)  # past the back-off
        assert sent(routes, "If-None-Match") == [None, None]  # the third poll is unconditional
    assert (recovered.failed, recovered.sources_polled) == (0, 1)
    assert row(local, sid).etag == '"v1"' and row(local, sid).last_error == ""


def test_an_http_error_keeps_the_validators() -> None:
    """Only a local error clears them: a 500 or a timeout says nothing about what the source saved."""
    from listener.errors import FetchError, LocalError
    from listener.ingest.schedule import SourceRow, settle_error
    from listener.settings import IngestSettings

    def source() -> SourceRow:
        fields = dict.fromkeys(SourceRow.__dataclass_fields__, None)
        fields.update(etag='"v1"', last_modified="then", cursor={"body_sha": "ab", "since": 5}, error_count=0, polls=0)
        return SourceRow(**fields)  # type: ignore[arg-type]

    http, local = source(), source()
    settle_error(http, FetchError("HTTP 500"), NOW, IngestSettings())
    settle_error(local, LocalError("internal error: ValueError"), NOW, IngestSettings())
    assert (http.etag, http.last_modified, http.cursor) == ('"v1"', "then", {"body_sha": "ab", "since": 5})
    assert (local.etag, local.last_modified, local.cursor) == ("", "", {"since": 5})


@pytest.mark.parametrize(
    ("state", "headers"),
    [
        ({"etag": '"a"', "last_modified": "Mon"}, {"If-None-Match": '"a"', "If-Modified-Since": "Mon"}),
        ({"etag": '"caf\xe9"'}, {"If-None-Match": '"caf\xe9"'}),
        ({"etag": 'W/"x\ty"'}, {"If-None-Match": 'W/"x\ty"'}),
        ({"etag": '"\u20ac"', "last_modified": "Mon"}, {"If-Modified-Since": "Mon"}),
        ({"etag": '"a"\r\nX: y'}, {}),
        ({"etag": '"a\x00"'}, {}),
        ({"etag": "", "last_modified": None}, {}),
    ],
)
def test_conditional_headers_send_only_what_http_can_carry(state: dict[str, object], headers: dict[str, str]) -> None:
    assert conditional_headers(state) == headers
