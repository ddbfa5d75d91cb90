"""Where the operator-facing config/ files live, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> Path:
    """The folder holding rules, phrasebooks and gift ideas: bundled in the wheel, or the checkout's config/."""
    bundled = _PACKAGE_DIR / "_config"
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / "config"
