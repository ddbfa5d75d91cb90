"""The `listener` command: a thin Click layer over the library. Each command parses, calls, and explains errors."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from listener import __version__
from listener.cli.app import App
from listener.errors import ExitCode, ListenerError
from listener.settings import load_settings

log = logging.getLogger(__name__)


class ListenerGroup(click.Group):
    """Turns ListenerError into one line on stderr and its exit code; nothing else sees exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ListenerError as exc:
            click.echo(f"error: {exc.explain()}", err=True)
            ctx.exit(int(exc.exit_code))


def configure_logging(verbose: int, quiet: bool) -> None:
    """Handlers are configured only here, at the entry point (never at import time)."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # Libraries are chatty at INFO (every HTTP request); keep them at WARNING unless asked for -vv.
    for noisy in ("httpx", "httpcore", "alembic", "prawcore", "tweepy", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


@click.group(cls=ListenerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="LISTENER_CONFIG",
    help="Settings file (TOML). Default: ~/.config/listener/listener.toml if present.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for HTTP details).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors (for cron).")
@click.version_option(__version__, prog_name="listener")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int, quiet: bool) -> None:
    """Listener keeps sales reps close to the customers they already have.

    It polls what each customer publishes, decides what matters, and emails each rep a morning digest
    with words ready to send. Start with `listener init`, then add reps, customers and sources.
    """
    configure_logging(verbose, quiet)
    if isinstance(ctx.obj, App):  # tests inject their own App
        return
    try:
        settings = load_settings(config_path)
    except ListenerError as exc:
        click.echo(f"error: {exc.explain()}", err=True)
        ctx.exit(int(exc.exit_code))
    app = App(settings=settings)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register_commands() -> None:
    """The explicit list of command modules; each exposes `register(group)`."""
    from listener.cli import act, classify, demo, digest, people, setup, sources
    from listener.cli import ingest as ingest_cmd
    from listener.cli import worker as worker_cmd

    for module in (setup, people, sources, ingest_cmd, classify, digest, demo, act, worker_cmd):
        module.register(cli)


_register_commands()


def main() -> None:
    cli(prog_name="listener")


__all__ = ["App", "ExitCode", "cli", "main"]
