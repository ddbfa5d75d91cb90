"""Small helpers shared by the CLI modules: JSON output and comma-separated options."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import click


def echo_json(value: Any) -> None:
    """One JSON document on stdout (dates as ISO strings)."""

    def default(obj: Any) -> Any:
        if isinstance(obj, date | datetime):
            return obj.isoformat()
        raise TypeError(f"cannot encode {type(obj).__name__}")

    click.echo(json.dumps(value, ensure_ascii=False, default=default))


def split_commas(values: tuple[str, ...] | str | None) -> list[str]:
    """`--interests a,b --interests c` and `a, b` alike become ['a', 'b', 'c']."""
    if not values:
        return []
    items = (values,) if isinstance(values, str) else values
    return [part.strip() for item in items for part in item.split(",") if part.strip()]
