"""CLI commands: `digest preview`, `digest send`, `log`, `snooze`: thin wrappers over the digests package."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from listener.cli.app import App
from listener.cli.common import echo_json, writing_to
from listener.directory import INTERACTION_KINDS, get_rep, parse_date
from listener.errors import ExitCode


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
    group.add_command(digest)
    group.add_command(log_command)
    group.add_command(snooze_command)


@click.group()
def digest() -> None:
    """Preview and send the morning digests."""


@digest.command("preview")
@click.option("--rep", "rep_email", required=True, help="The rep whose digest to write.")
@click.option("--date", "on", help="The digest's date (YYYY-MM-DD). Default: today in the rep's time zone.")
@click.option("--out", "out_dir", default="digest-preview", show_default=True, type=click.Path(file_okay=False))
@click.pass_obj
def preview(app: App, rep_email: str, on: str | None, out_dir: str) -> None:
    """Write a rep's digest as HTML, plain text and .ics drafts, without sending or recording anything.

    Example: listener digest preview --rep ana@example.com --out /tmp/digest
    """
    from digests.preview import write_digest_files

    now = datetime.now(UTC)
    with app.transaction() as session:
        rep = get_rep(session, rep_email)
        zone = ZoneInfo(rep.time_zone)
        day = parse_date(on, "--date") if on else now.astimezone(zone).date()
        # A past date is previewed as it looked at the end of that day, not with what arrived since.
        end_of_day = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        with writing_to(out_dir):
            paths = write_digest_files(session, app.settings, rep, day, Path(out_dir), min(now, end_of_day))
        session.rollback()  # a preview changes nothing
    for path in paths:
        click.echo(str(path))


@digest.command("send")
@click.option("--now", "force_now", is_flag=True, help="Send every rep's digest for today, whatever the hour.")
@click.option("--rep", "rep_email", help="Only this rep.")
@click.option(
    "--dry-run",
    "dry_run_dir",
    type=click.Path(file_okay=False),
    help="Write .eml files to this folder instead of sending; records nothing.",
)
@click.pass_obj
def send(app: App, force_now: bool, rep_email: str | None, dry_run_dir: str | None) -> None:
    """Send the digests that are due (each rep's local digest hour); never the same rep's digest twice a day.

    Safe to run hourly from cron and to overlap. Exits 1 if some mail could not be sent (the next run retries)
    or may not have been (outcome unknown: see `listener digest list --status unknown`, then `digest retry`).

    Example: listener digest send --dry-run /tmp/eml
    """
    from digests.deliver import send_due

    report = send_due(
        app.sessions(),
        app.settings,
        rep_email=rep_email,
        force_now=force_now,
        dry_run_dir=Path(dry_run_dir) if dry_run_dir else None,
    )
    for message in report.messages:
        click.echo(message)
    verb = "written" if dry_run_dir else "sent"
    unknown = f", {report.unknown} unknown" if report.unknown else ""
    click.echo(f"{report.sent} {verb}, {report.skipped} skipped, {report.failed} failed{unknown}")
    if report.failed or report.unknown:
        raise SystemExit(int(ExitCode.ATTENTION))


@digest.command("retry")
@click.option("--rep", "rep_email", required=True, help="The rep whose digest to send again.")
@click.option("--date", "on", help="The digest's date (YYYY-MM-DD). Default: today in the rep's time zone.")
@click.pass_obj
def retry(app: App, rep_email: str, on: str | None) -> None:
    """Send again, now, a digest whose outcome is unknown (or that failed).

    A digest is `unknown` when the whole message reached the SMTP server but no clear answer came back; it is
    never resent automatically, because the rep may have it. Check the rep's inbox first.

    Example: listener digest retry --rep ana@example.com --date 2026-11-23
    """
    from digests.deliver import retry as retry_digest

    report = retry_digest(app.sessions(), app.settings, rep_email, parse_date(on, "--date") if on else None)
    for message in report.messages:
        click.echo(message)
    if report.failed or report.unknown or not report.sent:
        raise SystemExit(int(ExitCode.ATTENTION))


@digest.command("list")
@click.option("--rep", "rep_email", help="Only this rep.")
@click.option("--date", "on", help="Only this date (YYYY-MM-DD).")
@click.option(
    "--status",
    type=click.Choice(["sending", "sent", "failed", "unknown", "empty"]),
    help="Only digests in this state; `unknown` ones may not have arrived and wait for `digest retry`.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@click.pass_obj
def list_command(app: App, rep_email: str | None, on: str | None, status: str | None, as_json: bool) -> None:
    """List the recorded digests: date, rep, state, attempts, items, last error.

    Example: listener digest list --status unknown
    """
    from dataclasses import asdict

    from digests.deliver import list_digests

    rows = list_digests(app.sessions(), rep_email=rep_email, on=parse_date(on, "--date") if on else None, status=status)
    if as_json:
        echo_json([asdict(row) for row in rows])
        return
    if not rows:
        click.echo("No digests recorded yet." if not (rep_email or on or status) else "No digests match.")
    for row in rows:
        error = f"  ! {row.last_error}" if row.last_error else ""
        click.echo(
            f"{row.on.isoformat()}  {row.rep_email:<32} {row.status:<8} {row.attempts} attempt(s) "
            f"{row.item_count:>3} items{error}"
        )


@click.command("log")
@click.argument("customer")
@click.option("--kind", required=True, type=click.Choice(INTERACTION_KINDS), help="What you did.")
@click.option("--note", default="", help="A few words to remember it by.")
@click.option("--date", "on", help="When it happened (YYYY-MM-DD), for a past touch. Default: now.")
@click.pass_obj
def log_command(app: App, customer: str, kind: str, note: str, on: str | None) -> None:
    """Record what you did with a customer: resets the going-quiet clock and keeps answered items out of digests.

    Only the items that KIND answers are marked done: a congratulation answers wins, never a layoff or an outage;
    a comment answers wins and news; an email, a call or a meeting answers them all; a gift none.

    Example: listener log "Acme Corp" --kind congrats --note "commented on the Series B post" --date 2026-11-20
    """
    from digests.feedback import log_interaction

    day = parse_date(on, "--date") if on else None
    with app.transaction() as session:
        interaction, acted = log_interaction(session, customer, kind, note, on=day)
        name = interaction.customer.name
    click.echo(f"logged {kind} with {name}" + (f"; {acted} digest item(s) marked as done" if acted else ""))


@click.command("snooze")
@click.argument("customer")
@click.argument("days", type=int)
@click.pass_obj
def snooze_command(app: App, customer: str, days: int) -> None:
    """Keep a customer out of digests for DAYS days (0 lifts the snooze).

    Example: listener snooze "Acme Corp" 14
    """
    from digests.feedback import snooze

    with app.transaction() as session:
        row = snooze(session, customer, days)
        name, until = row.name, row.muted_until
    click.echo(f"{name} snoozed through {until.isoformat()}" if until else f"{name} is no longer snoozed")
