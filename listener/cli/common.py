"""Small helpers shared by the CLI modules: JSON output and comma-separated options."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from listener.errors import BadInput


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


def check_output_file(path: Path) -> Path:
    """A file we are about to write: its folder must exist and be writable (one line otherwise, nothing written)."""
    folder = path.expanduser().resolve().parent
    if not folder.is_dir():
        raise BadInput(f"the folder {folder} does not exist", hint="create it first, or write somewhere else")
    return path


@contextmanager
def writing_to(place: Path | str) -> Iterator[None]:
    """Turn an OSError while writing output (no such folder, permission denied, disk full) into one line."""
    try:
        yield
    except OSError as exc:
        raise BadInput(
            f"cannot write to {place}: {exc.strerror or exc}", hint="pick a folder that exists and you can write to"
        ) from None


def at_terminal() -> bool:
    """stdout is a person's terminal (lists then get a header row), not a pipe or a file."""
    return sys.stdout.isatty()


def plural(count: int, noun: str) -> str:
    """'1 source', '2 sources'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
