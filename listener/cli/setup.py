"""`listener init` and `listener settings`: create or upgrade the database, show the effective settings."""

from __future__ import annotations

import click

from listener.cli.app import App
from listener.db.session import init_database, safe_url
from listener.settings import describe_settings


@click.command("init")
@click.pass_obj
def init_command(app: App) -> None:
    """Create the database, or upgrade it to the newest schema. Safe to run again.

    \b
    Example:
      LISTENER_DB=sqlite:///team.db listener init
    """
    before, after = init_database(app.raw_engine())
    where = safe_url(app.settings.database_url)
    if before == after:
        click.echo(f"Database {where} is up to date (schema {after}).")
    elif before is None:
        click.echo(f"Created the database {where} (schema {after}).")
    else:
        click.echo(f"Upgraded the database {where} from schema {before} to {after}.")


@click.command("settings")
@click.pass_obj
def settings_command(app: App) -> None:
    """Show every setting, its effective value and the environment variable that overrides it.

    Secrets are shown only as set or unset.

    \b
    Example:
      LISTENER_SMTP_HOST=mail.example.com listener settings
    """
    click.echo(f"# config file: {app.settings.config_path or '(none: defaults and environment)'}")
    for key, env_name, _default, help_text, secret in describe_settings():
        section, name = key.split(".")
        value = getattr(getattr(app.settings, section), "from_" if name == "from" else name)
        if key == "database.url":
            value = safe_url(app.settings.database_url)
        shown = ("(set)" if value else "(unset)") if secret else repr(value)
        click.echo(f"{key} = {shown}    # {env_name}: {help_text}")


def register(group: click.Group) -> None:
    """Add init and settings to the top-level group."""
    group.add_command(init_command)
    group.add_command(settings_command)
