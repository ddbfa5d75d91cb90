"""`listener ingest` says when a first poll's posts were too old to reach a digest (it used to say nothing)."""

from __future__ import annotations

import json
from dataclasses import replace

from listener.cli.app import App
from listener.directory import add_customer, add_rep
from tests.conftest import Invoke
from tests.feeds import rfc822, rss
from tests.servers.http import Reply, serve

RSS = {"Content-Type": "application/rss+xml"}


def test_a_first_poll_of_old_posts_says_they_stay_out_of_digests(app: App, invoke: Invoke) -> None:
    app.settings = replace(app.settings, fetch=replace(app.settings.fetch, allow_private_networks=True))
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com")
        add_customer(session, "Globex", rep_email="ana@example.com")
    old = [{"guid": str(i), "title": f"Acme news {i}", "link": f"https://acme.example/{i}", "date": rfc822(400 + i)}
           for i in range(3)]  # fmt: skip
    with serve() as (base, routes):
        routes["/old.xml"] = Reply(rss(old), headers=RSS)
        routes["/mixed.xml"] = Reply(
            rss([{"guid": "n", "title": "Globex opens in Lyon", "link": "https://globex.example/n", "date": rfc822(1)},
                 {"guid": "o", "title": "Globex in 2020", "link": "https://globex.example/o", "date": rfc822(300)}]),
            headers=RSS,
        )  # fmt: skip
        assert invoke("source", "add", "Acme Corp", f"{base}/old.xml", "--kind", "rss").exit_code == 0
        result = invoke("ingest")
        assert result.exit_code == 0, result.output
        assert "3 new posts" in result.output
        assert "note: all new posts were published more than 14 days before their source's first poll" in result.output

        assert invoke("source", "add", "Globex", f"{base}/mixed.xml", "--kind", "rss").exit_code == 0
        result = invoke("ingest", "--json")
        figures = json.loads(result.output.strip().splitlines()[-1])
        assert figures["new_posts"] == 2 and figures["backlog_posts"] == 1

        result = invoke("ingest", "--all")
        assert "note:" not in result.output  # nothing new, nothing to explain
