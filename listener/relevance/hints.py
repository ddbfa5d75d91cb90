"""What the caller knows about the customer a post belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerHints:
    """The customer's name, other names it goes by, and its usual language (a detection hint)."""

    name: str
    aliases: tuple[str, ...] = ()
    language: str = ""
