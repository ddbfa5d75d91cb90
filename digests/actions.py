"""Fill each digest item's actions: reply in one tap (mailto, X, comments, the post) and one-click feedback.

`with_actions(digest, settings, rep_id=...)` is called once on an assembled digest wherever one is rendered
(delivery, dry run, preview). Reply links need nothing but the item; feedback links need `web.base_url` and the
`LISTENER_WEB_SECRET` key, and without them the digest simply has none (nothing in it reads as broken).
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote, urlencode, urlsplit

from digests.model import Action, Digest, Item
from digests.render import is_action_url, is_http_url
from digests.tokens import Claim, sign
from listener.settings import Settings, WebSettings

# Kinds whose label a rep may correct in one click: a "win" that is bad news, a "challenge" that is good news.
CORRECTIONS = {"win": "bad_news", "challenge": "good_news"}
CORRECTED_KIND = {"bad_news": "challenge", "good_news": "win"}
SNOOZE_DAYS = 14
LABELS = {
    "en": {
        "reply": "Reply",
        "reply_x": "Reply on X",
        "comments": "Comment on the post",
        "open": "Open the post",
        "done": "Done",
        "snooze": "Snooze 2 weeks",
        "not_relevant": "Not relevant",
        "bad_news": "This is bad news",
        "good_news": "This is good news",
    },
    "es": {
        "reply": "Responder",
        "reply_x": "Responder en X",
        "comments": "Comentar la publicación",
        "open": "Abrir la publicación",
        "done": "Hecho",
        "snooze": "Posponer 2 semanas",
        "not_relevant": "No es relevante",
        "bad_news": "Es una mala noticia",
        "good_news": "Es una buena noticia",
    },
}
_ADDRESS = re.compile(r"^[^@\s\"'<>\\,;:()\[\]]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_TWEET = re.compile(r"^https://(?:www\.|mobile\.)?(?:x|twitter)\.com/[A-Za-z0-9_]{1,15}/status/(\d{1,25})(?:[/?].*)?$")
# The fallback for posts stored before posts.comments_url existed, whose Atom rel="replies" link was kept among
# their plain links: what a comments link looks like. A post's own comments_url (from the feed) comes first.
_COMMENTS = re.compile(r"(?:/comments?(?:/|$)|#comments?$|#respond$|#comment-form$)", re.IGNORECASE)


def labels_for(language: str) -> dict[str, str]:
    return LABELS.get(language.split("-")[0].lower(), LABELS["en"])


def mailto(address: str, subject: str, body: str) -> str:
    """An RFC 6068 mailto: URL: UTF-8 percent-encoded, line breaks as %0D%0A; '' for an unusable address."""
    address = address.strip()
    if not _ADDRESS.match(address):
        return ""
    body = re.sub(r"\r\n|\r|\n", "\r\n", body)
    fields = []
    if subject:
        fields.append("subject=" + quote(" ".join(subject.split()), safe=""))
    if body:
        fields.append("body=" + quote(body, safe=""))
    return "mailto:" + quote(address, safe="@") + ("?" + "&".join(fields) if fields else "")


def tweet_id(url: str) -> str:
    """The status id of an x.com / twitter.com post link, or ''."""
    found = _TWEET.match(url)
    return found.group(1) if found else ""


def x_reply_url(status_id: str, text: str) -> str:
    """X's web intent for a reply (docs.x.com, "Web Intent": https://x.com/intent/tweet with in_reply_to)."""
    return "https://x.com/intent/tweet?" + urlencode({"in_reply_to": status_id, "text": text}, quote_via=quote)


def reply_actions(item: Item, words: dict[str, str]) -> list[Action]:
    """Reply by email with the draft, reply on X to a tweet, comment on a blog post, open the post."""
    found: list[Action] = []
    links = [url for url in item.links if is_http_url(url)]
    if item.suggestion and item.contact_email:
        url = mailto(item.contact_email, item.subject or item.headline, item.suggestion)
        if url:
            found.append(Action("reply", words["reply"], url))
    tweets = [tweet_id(url) for url in links if tweet_id(url)]
    if item.suggestion and tweets:
        found.append(Action("reply_x", words["reply_x"], x_reply_url(tweets[0], item.suggestion)))
    comments = [url for url in links if _COMMENTS.search(urlsplit(url).path + "#" + urlsplit(url).fragment)]
    if is_http_url(item.comments_url):
        comments.insert(0, item.comments_url)
    if comments:
        found.append(Action("comments", words["comments"], comments[0]))
    post = next((url for url in links if url not in comments), "")
    if post:
        found.append(Action("open", words["open"], post))
    return found


def feedback_enabled(web: WebSettings) -> bool:
    return is_http_url(web.base_url) and len(web.secret) >= 16


def feedback_url(web: WebSettings, claim: Claim) -> str:
    path = "u" if claim.action == "unsubscribe" else "a"
    return f"{web.base_url.rstrip('/')}/{path}/{sign(web.secret, claim)}"


def feedback_actions(item: Item, rep_id: int, web: WebSettings, words: dict[str, str]) -> list[Action]:
    """Done, Snooze 2 weeks, Not relevant, and a kind correction on wins and challenges: links to `listener serve`."""
    if not item.customer_id:
        return []
    names = ["done", "snooze"]
    if item.insight_ids:
        names.append("not_relevant")
        if item.kind in CORRECTIONS:
            names.append(CORRECTIONS[item.kind])
    what = "" if item.insight_ids else re.sub(r"[^a-z_]", "", item.kind.lower())[:20] or "item"
    return [
        Action(
            name,
            words[name],
            feedback_url(web, Claim(rep_id, name, item.customer_id, tuple(item.insight_ids), what)),
        )
        for name in names
    ]


def unsubscribe_url(settings: Settings, rep_id: int) -> str:
    """The one-click List-Unsubscribe URL (RFC 8058) that pauses this rep's digests; '' without the web app."""
    if not feedback_enabled(settings.web):
        return ""
    return feedback_url(settings.web, Claim(rep_id, "unsubscribe"))


def with_actions(digest: Digest, settings: Settings, *, rep_id: int) -> Digest:
    """The digest with every item's actions filled (the reply links always; feedback links when configured)."""
    words = labels_for(digest.language)
    web = settings.web if feedback_enabled(settings.web) else None

    def fill(item: Item) -> Item:
        found = reply_actions(item, words)
        if web is not None:
            found += feedback_actions(item, rep_id, web, words)
        return replace(item, actions=tuple(a for a in found if is_action_url(a.url)))

    return digest.map_items(fill)
