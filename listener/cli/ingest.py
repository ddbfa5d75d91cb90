"""CLI command: `listener ingest`: poll what is due, store and classify; exit 1 when some sources failed."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import click
from sqlalchemy import func, select

from listener.cli.app import App
from listener.db.schema import Post
from listener.errors import ExitCode
from listener.ingest import run_ingest


@click.command("ingest")
@click.option("--all", "all_sources", is_flag=True, help="Poll every enabled source now (still conditional requests).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the run's figures.")
@click.pass_obj
def ingest(app: App, all_sources: bool, as_json: bool) -> None:
    """Poll the sources that are due, store new posts and classify them.

    A person at a terminal sees a progress bar; under cron only the one-line summary (and warnings).
    Exits 1 when some sources failed (see `listener source list --failing`) or some posts could not be
    classified (the next run classifies them).

    \b
    Example:
      listener ingest            # what is due
      listener ingest --all --json
    """
    quiet = logging.getLogger().getEffectiveLevel() > logging.INFO
    progress = not as_json and not quiet and sys.stderr.isatty()
    started = datetime.now(UTC)
    report = run_ingest(app.sessions(), app.settings, all_sources=all_sources, progress=progress)
    backlog = _backlog_posts(app, started) if report.new_posts else 0
    if as_json:
        click.echo(json.dumps({**report.as_json(), "backlog_posts": backlog}, ensure_ascii=False))
    else:
        # Kinds skipped for want of credentials were logged once, as a warning, when the run started.
        for source_id, locator, message in report.failures[:20]:
            click.echo(f"failed: source {source_id} {locator}: {message}", err=True)
        if len(report.failures) > 20:
            click.echo(f"… and {len(report.failures) - 20} more (listener source list --failing)", err=True)
        click.echo(report.summary())
        if backlog:
            days = app.settings.ingest.first_poll_days
            which = "all" if backlog >= report.new_posts else f"{backlog} of the"
            click.echo(
                f"note: {which} new posts were published more than {days} days before their source's first poll: "
                "kept, but not sent to digests (ingest.first_poll_days); newer posts will be",
                err=True,
            )
    if report.failed or report.unclassified:
        click.get_current_context().exit(int(ExitCode.ATTENTION))


def _backlog_posts(app: App, started: datetime) -> int:
    """Posts this run stored as a first poll's backlog (too old for a digest); a silent 0 in digests otherwise."""
    with app.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Post)
                .where(Post.fetched_at >= started, Post.digest_eligible.is_(False), Post.duplicate_of_id.is_(None))
            )
            or 0
        )


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
    group.add_command(ingest)
