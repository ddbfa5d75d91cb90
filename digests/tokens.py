"""Signed feedback tokens: what a link in the digest may ask `listener serve` to do, for whom, until when.

itsdangerous signs (HMAC-SHA1 over a derived key, with a timestamp) rather than a hand-rolled HMAC: it compares
in constant time, carries the issue time for `max_age`, and keeps the payload URL-safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

FEEDBACK_ACTIONS = ("done", "snooze", "not_relevant", "bad_news", "good_news")
UNSUBSCRIBE = "unsubscribe"
_SALT = "listener-feedback-v1"
_ITEM_KEY = re.compile(r"^(i:\d+(,\d+)*|c:\d+:[a-z_]{1,20})$")


class TokenError(Exception):
    """A token that does not verify; `expired` tells the rep it is only too old, not forged."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class Claim:
    """What a verified token says: this rep asks for this action on this item (or, for unsubscribe, on nothing)."""

    rep_id: int
    action: str
    customer_id: int = 0
    insight_ids: tuple[int, ...] = ()
    item: str = ""  # the item's kind or section when it has no insight (quiet, upcoming, date, gesture)

    @property
    def item_key(self) -> str:
        """One item, stably: its insights, or the customer and what kind of item it was."""
        if self.insight_ids:
            return "i:" + ",".join(str(i) for i in sorted(self.insight_ids))
        return f"c:{self.customer_id}:{self.item or 'item'}"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    if len(secret) < 16:
        raise ValueError("the web secret must be at least 16 characters")
    return URLSafeTimedSerializer(secret, salt=_SALT)


def sign(secret: str, claim: Claim) -> str:
    payload: dict[str, Any] = {"r": claim.rep_id, "a": claim.action}
    if claim.customer_id:
        payload["c"] = claim.customer_id
    if claim.insight_ids:
        payload["i"] = list(claim.insight_ids)
    if claim.item:
        payload["k"] = claim.item
    return str(_serializer(secret).dumps(payload))


def verify(secret: str, token: str, max_age_days: int) -> Claim:
    """The token's claim, or TokenError (tampered, malformed, signed with another secret, or too old)."""
    try:
        payload = _serializer(secret).loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise TokenError(expired=True) from None
    except (BadSignature, ValueError):
        raise TokenError(expired=False) from None
    try:
        claim = Claim(
            rep_id=int(payload["r"]),
            action=str(payload["a"]),
            customer_id=int(payload.get("c", 0)),
            insight_ids=tuple(int(i) for i in payload.get("i", ())),
            item=str(payload.get("k", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise TokenError(expired=False) from None
    known = claim.action == UNSUBSCRIBE or (claim.action in FEEDBACK_ACTIONS and _ITEM_KEY.match(claim.item_key))
    if not known:
        raise TokenError(expired=False)
    return claim
