"""Reply links decoded back (RFC 6068 mailto, X's reply intent) and when feedback links appear."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from digests.actions import mailto, reply_actions, with_actions
from digests.labels import labels
from digests.model import Card, Digest, Item, TodayLine
from digests.render import render_html, render_text
from digests.tokens import Claim, TokenError, sign, verify
from listener.settings import Settings, WebSettings
from tests.test_digest_helpers import NOW, TODAY

SECRET = "s" * 32
EN_BODY = 'Hi Lena,\nCongrats on the "Series B" & the new office!\nTalk soon? #robots 100% yes\n'
ES_BODY = "Hola Irene,\n¡Enhorabuena por el premio «logística verde»! Año, señal & “comillas”\r\nUn abrazo"


def decode_mailto(url: str) -> tuple[str, dict[str, str]]:
    """What a mail client does with the link (RFC 6068): split at '?', then '&', then '=', then percent-decode."""
    assert url.startswith("mailto:")
    address, _, query = url[len("mailto:") :].partition("?")
    fields = {}
    for pair in query.split("&") if query else []:
        name, _, value = pair.partition("=")
        fields[name] = unquote(value, encoding="utf-8", errors="strict")
    return unquote(address), fields


def item(**kw: object) -> Item:
    base = Item(
        customer="Acme Robotics",
        headline="Acme raises a Series B",
        suggestion=EN_BODY,
        why="",
        links=("https://acme.example/blog/series-b",),
        kind="win",
        category="funding",
        insight_ids=(7,),
        customer_id=3,
        contact_name="Lena Park",
        contact_email="lena@acme.example",
        subject='Congrats on the "Series B" & more?',
    )
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("subject", "body"),
    [('Congrats on the "Series B" & more?', EN_BODY), ("¿Qué tal? Enhorabuena & gracias #1", ES_BODY)],
)
def test_mailto_decodes_back_to_the_draft_with_crlf_line_breaks(subject: str, body: str) -> None:
    url = mailto("lena@acme.example", subject, body)
    # Nothing a mail client or an HTML attribute would split on is left unencoded.
    for raw in (" ", '"', "'", "<", ">", "#", "\n", "\r", "¿", "ñ"):
        assert raw not in url
    assert url.count("?") == 1 and url.count("&") == 1
    address, fields = decode_mailto(url)
    assert address == "lena@acme.example"
    assert fields["subject"] == subject
    assert fields["body"] == body.replace("\r\n", "\n").replace("\n", "\r\n")
    assert "%0D%0A" in url and "%0A" not in url.replace("%0D%0A", "")


def test_mailto_refuses_an_address_that_could_inject_fields() -> None:
    assert mailto("lena@acme.example?cc=boss@evil.example", "s", "b") == ""
    assert mailto("lena@acme.example\r\nBcc: x@evil.example", "s", "b") == ""
    assert mailto("not an address", "s", "b") == ""


def test_reply_on_x_for_a_tweet_carries_the_status_and_the_text() -> None:
    tweet = item(links=("https://x.com/nimbus/status/1861234567890123456",), contact_email="", suggestion=ES_BODY)
    actions = {a.kind: a for a in reply_actions(tweet, {"reply": "R", "reply_x": "X", "comments": "C", "open": "O"})}
    assert "reply" not in actions  # no contact address: no mailto
    parts = urlsplit(actions["reply_x"].url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "x.com", "/intent/tweet")
    query = parse_qs(parts.query, strict_parsing=True)
    assert query == {"in_reply_to": ["1861234567890123456"], "text": [ES_BODY]}
    assert actions["open"].url == "https://x.com/nimbus/status/1861234567890123456"


def test_a_comments_link_among_the_posts_links_becomes_comment_on_the_post() -> None:
    post = item(links=("https://acme.example/blog/series-b", "https://acme.example/blog/series-b/comments/"))
    kinds = {a.kind: a.url for a in reply_actions(post, {"reply": "R", "reply_x": "X", "comments": "C", "open": "O"})}
    assert kinds["comments"] == "https://acme.example/blog/series-b/comments/"
    assert kinds["open"] == "https://acme.example/blog/series-b"


def digest_of(*items: Item, language: str = "en") -> Digest:
    card = Card(items[0].customer, items[0].customer_id, "Lena Park, CTO", "last touch 3 days ago (call)", "", items)
    today = (TodayLine("Congratulate Acme", items[0].why, items[0].customer_id, items[0]),)
    words = labels(language)
    return Digest("ana@example.com", "Ana", language, TODAY, NOW, today, (card,), labels=words, subject="Congratulate")


def test_without_base_url_or_secret_the_email_has_reply_links_and_no_feedback_links() -> None:
    for web in (WebSettings(secret=SECRET), WebSettings(base_url="https://listener.example.com")):
        digest = with_actions(digest_of(item()), Settings(web=web), rep_id=1)
        kinds = [a.kind for a in digest.items()[0].actions]
        assert kinds == ["reply", "open"]
        html, text = render_html(digest), render_text(digest)
        assert "mailto:lena@acme.example?subject=" in html and "mailto:lena@acme.example?subject=" in text
        # The today line repeats its card's item, and its reply link, so the top thing is one tap away.
        assert html.count("mailto:lena@acme.example?subject=") == text.count("mailto:lena@acme.example?subject=") == 2
        assert "listener.example.com" not in html + text


def test_feedback_links_name_the_rep_the_item_and_the_action_in_the_reps_language() -> None:
    web = WebSettings(base_url="https://listener.example.com/fb/", secret=SECRET)
    win, challenge = item(), item(kind="challenge", category="layoffs", insight_ids=(8, 9))
    quiet = item(kind="quiet", insight_ids=(), links=(), suggestion="Hola", contact_email="")
    digest = with_actions(digest_of(win, challenge, quiet, language="es"), Settings(web=web), rep_id=5)
    got = {i.kind: i.actions for i in digest.items()}
    assert [a.kind for a in got["win"]] == ["reply", "open", "done", "snooze", "not_relevant", "bad_news"]
    assert [a.kind for a in got["challenge"]][-1] == "good_news"
    assert [a.kind for a in got["quiet"]] == ["done", "snooze"]  # no post: nothing to judge
    assert [a.label for a in got["win"]][2:] == [
        "Hecho",
        "Posponer 2 semanas",
        "No es relevante",
        "Es una mala noticia",
    ]
    done = got["challenge"][2]
    assert done.url.startswith("https://listener.example.com/fb/a/")
    claim = verify(SECRET, done.url.rsplit("/", 1)[1], 30)
    assert claim == Claim(5, "done", 3, (8, 9), "")
    quiet_claim = verify(SECRET, got["quiet"][0].url.rsplit("/", 1)[1], 30)
    assert quiet_claim.item_key == "c:3:quiet"
    assert "https://listener.example.com/fb/a/" in render_html(digest)


def test_a_token_does_not_verify_with_another_secret_or_once_altered() -> None:
    token = sign(SECRET, Claim(1, "done", 2, (3,)))
    with pytest.raises(TokenError) as other:
        verify("t" * 32, token, 30)
    assert not other.value.expired
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(TokenError):
        verify(SECRET, altered, 30)
