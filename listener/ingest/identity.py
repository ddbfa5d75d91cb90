"""Story identity, storing's rule: when two posts are one post edited (content hash), one story (story key), or one
headline retold (title words). Computed once per post, where it was parsed (listener/ingest/prepare.py), or by
storing for posts parsed elsewhere, always by these functions.
"""

from __future__ import annotations

import hashlib
import re

from connectors.feedtext import content_hash
from listener.models import Post

__all__ = ["content_hash", "fingerprint", "post_keys", "story_key", "title_words"]


def title_words(title: str) -> frozenset[str]:
    """The distinct words of a headline, casefolded, without one- and two-letter words ("a", "de", "of")."""
    return frozenset(w for w in re.findall(r"\w+", title.casefold()) if len(w) > 2 or w.isdigit())


def story_key(title: str, url: str, text: str) -> str:
    """A key that is equal for the same story on several sources: its title when it says enough, else URL or text."""
    words = re.findall(r"\w+", title.casefold())
    if len(words) >= 4:
        return hashlib.sha256(("t:" + " ".join(words)).encode()).hexdigest()
    if url:
        return hashlib.sha256(("u:" + url).encode()).hexdigest()
    return hashlib.sha256(("x:" + " ".join(re.findall(r"\w+", text.casefold()))[:2000]).encode()).hexdigest()


def post_keys(post: Post) -> tuple[str, str]:
    """Storing's keys of a post: (content hash, story key)."""
    return content_hash(post.title, post.text), story_key(post.title, post.url, post.text)


def fingerprint(post: Post, digest: str | None = None) -> str:
    """A post's id and content hash (storing's test for an edit): equal means storing it again changes nothing."""
    marked = f"{post.external_id}\0{digest or content_hash(post.title, post.text)}"
    return hashlib.blake2b(marked.encode("utf-8", "surrogatepass"), digest_size=9).hexdigest()
