"""Storing a source's posts: dedupe by entry id, then canonical URL or content hash; edits update; stories merge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from listener.db.bulk import BulkInsert, in_chunks
from listener.db.schema import Post as PostRow
from listener.ingest.identity import content_hash, story_key, title_words
from listener.ingest.leases import Claim
from listener.models import Post

STORY_WINDOW_DAYS = 14  # the same story turns up on a customer's other sources within days, not months
HEADLINE_OVERLAP = 0.8  # share of the shorter headline's words that the longer one must repeat
_MIN_TITLE_WORDS = 5  # shorter headlines ("Weekly update") repeat too often to mean the same story
_RECENT_LIMIT = 2000


@dataclass
class Stored:
    """What storing one source's posts did; `classify` lists (post id, post) pairs the filter must see."""

    new: int = 0
    updated: int = 0
    duplicates: int = 0
    classify: list[tuple[int, Post]] = field(default_factory=list)
    edited: list[int] = field(default_factory=list)  # ids of the edited posts (their old insight must go)


def _existing(session: Session, source_id: int, posts: Sequence[Post], hashes: dict[str, str]) -> dict[str, Any]:
    """Rows of this source matching a post by external id, or failing that by canonical URL or content hash."""
    found: dict[str, Any] = {}
    cols = (PostRow.id, PostRow.external_id, PostRow.canonical_url, PostRow.content_hash, PostRow.duplicate_of_id)
    for chunk in in_chunks([p.external_id for p in posts]):
        for row in session.execute(select(*cols).where(PostRow.source_id == source_id, PostRow.external_id.in_(chunk))):
            found[row.external_id] = row
    rest = [p for p in posts if p.external_id not in found]
    if not rest:
        return found
    by_url: dict[str, Any] = {}
    by_hash: dict[str, Any] = {}
    urls = [p.url for p in rest if p.url]
    wanted_hashes = [hashes[p.external_id] for p in rest]
    for column, wanted in ((PostRow.canonical_url, urls), (PostRow.content_hash, wanted_hashes)):
        for chunk in in_chunks(wanted):
            for row in session.execute(select(*cols).where(PostRow.source_id == source_id, column.in_(chunk))):
                if row.canonical_url:
                    by_url.setdefault(row.canonical_url, row)
                by_hash.setdefault(row.content_hash, row)
    for post in rest:
        match: Any = (by_url.get(post.url) if post.url else None) or by_hash.get(hashes[post.external_id])
        if match is not None:
            found[post.external_id] = match
    return found


def _story_originals(
    session: Session, claim: Claim, posts: Sequence[tuple[Post, str]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Posts of the customer's other sources that tell the same story (same story key, or linking the same URL)."""
    keys = list({key for _, key in posts})
    urls = list({u for post, _ in posts for u in (post.url, *post.links) if u})
    by_key: dict[str, Any] = {}
    by_url: dict[str, Any] = {}
    cols = (PostRow.id, PostRow.story_key, PostRow.canonical_url, PostRow.duplicate_of_id, PostRow.links)
    base = (PostRow.customer_id == claim.customer_id, PostRow.source_id != claim.ref.id)
    for chunk in in_chunks(keys):
        for row in session.execute(select(*cols).where(*base, PostRow.story_key.in_(chunk)).order_by(PostRow.id)):
            by_key.setdefault(row.story_key, row)
    for chunk in in_chunks(urls):
        for row in session.execute(select(*cols).where(*base, PostRow.canonical_url.in_(chunk)).order_by(PostRow.id)):
            by_url.setdefault(row.canonical_url, row)
    return by_key, by_url


def _recent_titles(session: Session, claim: Claim, now: datetime) -> list[tuple[frozenset[str], Any]]:
    """Title words of the customer's recent posts on its other sources, for near-duplicate headlines."""
    cols = (PostRow.id, PostRow.duplicate_of_id, PostRow.title)
    rows = session.execute(
        select(*cols)
        .where(
            PostRow.customer_id == claim.customer_id,
            PostRow.source_id != claim.ref.id,
            PostRow.fetched_at >= now - timedelta(days=STORY_WINDOW_DAYS),
        )
        .order_by(PostRow.id)
        .limit(_RECENT_LIMIT)
    )
    return [(words, row) for row in rows if len(words := title_words(row.title)) >= _MIN_TITLE_WORDS]


def _same_headline(words: frozenset[str], recent: list[tuple[frozenset[str], Any]]) -> Any:
    """The first recent post whose headline says nearly the same: most words of the shorter one are shared.

    Newsrooms and blogs retitle the same story a little ("… de 12 millones" vs "… de 12 millones para abrir
    nueve clínicas"); an exact title key misses that, a word-overlap test does not.
    """
    if len(words) < _MIN_TITLE_WORDS:
        return None
    for other, row in recent:
        if len(words & other) >= HEADLINE_OVERLAP * min(len(words), len(other)):
            return row
    return None


def eligible(post: Post, first_poll: bool, now: datetime, first_poll_days: int) -> bool:
    """Whether a new post may reach a digest: recent enough; undated posts only after a source's first poll."""
    if post.published_at is None:
        return not first_poll
    return post.published_at >= now - timedelta(days=first_poll_days)


def store_posts(
    session: Session,
    claim: Claim,
    posts: Sequence[Post],
    now: datetime,
    first_poll_days: int,
    known_keys: Mapping[str, tuple[str, str]] | None = None,
) -> Stored:
    """Insert new posts, update edited ones, link repeats of a story to its first post; nothing stored twice.

    `known_keys`: (content hash, story key) of posts, by external id, worked out where the posts were parsed.
    """
    stored = Stored()
    unique = list({p.external_id: p for p in reversed(posts)}.values())[::-1]  # first occurrence wins
    if not unique:
        return stored
    known = known_keys or {}
    hashes = {
        p.external_id: known[p.external_id][0] if p.external_id in known else content_hash(p.title, p.text)
        for p in unique
    }
    # A source that never stored anything has nothing to match against: three lookups saved per new source.
    existing = {} if claim.first_poll else _existing(session, claim.ref.id, unique, hashes)
    fresh: list[tuple[Post, str]] = []
    for post in unique:
        row = existing.get(post.external_id)
        if row is None:
            keys = known.get(post.external_id)
            fresh.append((post, keys[1] if keys else story_key(post.title, post.url, post.text)))
        elif row.content_hash != hashes[post.external_id]:
            _update(session, row.id, post, hashes[post.external_id])
            stored.updated += 1
            stored.edited.append(row.id)
            if row.duplicate_of_id is None:
                stored.classify.append((row.id, post))
    if not fresh:
        return stored
    by_key: dict[str, Any] = {}
    by_url: dict[str, Any] = {}
    recent: list[tuple[frozenset[str], Any]] = []
    if not claim.alone:  # a customer with a single source has no other post to share a story with
        by_key, by_url = _story_originals(session, claim, fresh)
        recent = _recent_titles(session, claim, now)
    values = []
    extra_links: dict[int, list[str]] = {}
    for post, key in fresh:
        original = (
            by_key.get(key)
            or next((by_url[u] for u in (post.url, *post.links) if u in by_url), None)
            or (_same_headline(title_words(post.title), recent) if recent else None)
        )
        duplicate_of = None
        if original is not None:
            duplicate_of = original.duplicate_of_id or original.id
            if post.url:
                extra_links.setdefault(duplicate_of, []).append(post.url)
        values.append(_row(claim, post, hashes[post.external_id], key, now, duplicate_of, first_poll_days))
    ids = _insert(session, claim.ref.id, values)
    for post_id, value, (post, _) in zip(ids, values, fresh, strict=True):
        if value[_DUPLICATE_OF] is not None:
            stored.duplicates += 1
        elif value[_ELIGIBLE]:
            # A first poll's backlog never reaches a digest, so classifying it would only cost time: a new
            # source's twenty old posts are most of the classifier's work on the day it is added.
            stored.classify.append((post_id, post))
    stored.new = len(ids) - stored.duplicates
    _add_links(session, extra_links)
    return stored


_POSTS = cast(Table, PostRow.__table__)
_POST_COLUMNS = (
    "source_id", "customer_id", "external_id", "canonical_url", "title", "text", "author", "published_at",
    "fetched_at", "language", "content_hash", "story_key", "links", "metrics", "duplicate_of_id", "digest_eligible",
    "comments_url",
)  # fmt: skip
_INSERT_POSTS = BulkInsert(_POSTS, _POST_COLUMNS)
# Built once: composing the statement cost more than running it, once per source.
_IDS_OF_POSTS = select(_POSTS.c.external_id, _POSTS.c.id).where(
    _POSTS.c.source_id == bindparam("source"), _POSTS.c.external_id.in_(bindparam("external_ids", expanding=True))
)
_NO_LINKS: list[str] = []  # read-only: the links of every new post (repeats of its story are added later)
_NO_METRICS: dict[str, Any] = {}
_EXTERNAL_ID = _POST_COLUMNS.index("external_id")
_DUPLICATE_OF = _POST_COLUMNS.index("duplicate_of_id")
_ELIGIBLE = _POST_COLUMNS.index("digest_eligible")


def _insert(session: Session, source_id: int, values: list[tuple[Any, ...]]) -> list[int]:
    """Insert one source's rows; their ids, in order (looked up by external id, unique per source)."""
    connection = session.connection()
    _INSERT_POSTS.execute(connection, values)
    ids: dict[str, int] = {}
    for chunk in in_chunks([value[_EXTERNAL_ID] for value in values]):
        found = connection.execute(_IDS_OF_POSTS, {"source": source_id, "external_ids": list(chunk)})
        ids.update((external_id, post_id) for external_id, post_id in found)
    return [ids[value[_EXTERNAL_ID]] for value in values]


def _row(
    claim: Claim, post: Post, digest: str, key: str, now: datetime, duplicate_of: int | None, first_poll_days: int
) -> tuple[Any, ...]:
    """A posts row, in _POST_COLUMNS order."""
    return (
        claim.ref.id,
        claim.customer_id,
        post.external_id,
        post.url,
        post.title,
        post.text,
        post.author,
        post.published_at,
        now,
        post.lang[:16],
        digest,
        key,
        _NO_LINKS,
        post.metrics or _NO_METRICS,  # one shared empty value: the bulk insert converts it once
        duplicate_of,
        # A repeat of a story is shown through its first post's links, never as an item of its own.
        duplicate_of is None and eligible(post, claim.first_poll, now, first_poll_days),
        post.comments_url,
    )


def _update(session: Session, post_id: int, post: Post, digest: str) -> None:
    session.execute(
        update(PostRow)
        .where(PostRow.id == post_id)
        .values(
            title=post.title,
            text=post.text,
            author=post.author,
            canonical_url=post.url,
            comments_url=post.comments_url,
            content_hash=digest,
            metrics=dict(post.metrics),
            language=post.lang[:16],
        ),
        execution_options={"synchronize_session": False},
    )


def _add_links(session: Session, extra: dict[int, list[str]]) -> None:
    for post_id, urls in extra.items():
        current = session.scalar(select(PostRow.links).where(PostRow.id == post_id)) or []
        merged = list(dict.fromkeys([*current, *urls]))
        if merged != current:
            session.execute(
                update(PostRow).where(PostRow.id == post_id).values(links=merged),
                execution_options={"synchronize_session": False},
            )
