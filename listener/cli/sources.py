"""CLI commands: `source add|list|remove`, `import FILE`, `export opml`."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from pathlib import Path

import click

from connectors.registry import CONNECTORS
from listener.cli.app import App
from listener.cli.common import at_terminal, check_output_file, plural, writing_to
from listener.errors import BadInput, ExitCode
from listener.importer import ImportRejected, export_opml, import_file
from listener.sourcing import add_source, list_sources, remove_source, set_source_enabled


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@click.group("source")
def source() -> None:
    """Attach, list and remove the sources a customer publishes on."""


@source.command("add")
@click.argument("customer")
@click.argument("locator", required=False, default="")
@click.option("--kind", type=click.Choice(sorted(CONNECTORS)), help="Skip detection: the locator is of this kind.")
@click.option(
    "--google-news",
    is_flag=True,
    help="Add a Google News search for the customer's name (or for LOCATOR's words, when given) instead.",
)
@click.pass_obj
def source_add(app: App, customer: str, locator: str, kind: str | None, google_news: bool) -> None:
    """Attach a source: a feed URL, a homepage or profile URL (its feed is found), @handle, r/sub or u/name.

    A homepage's feed is found from its <link rel="alternate"> or the usual paths (/feed/, /rss/, /atom.xml...);
    profile URLs of Mastodon, Bluesky, YouTube, Medium, Substack and GitHub repositories map to their feeds.
    A page with no feed can be watched for new article links with --kind page.

    \b
    Examples:
      listener source add "Acme Corp" https://acme.example/blog
      listener source add "Acme Corp" https://acme.example/news --kind page
      listener source add "Acme Corp" https://mastodon.social/@acme
      listener source add "Acme Corp" @acmecorp
      listener source add "Acme Corp" --google-news
    """
    with app.transaction() as session:
        added = add_source(session, app.settings, customer, locator, kind=kind, google_news=google_news)
        click.echo(f"{added.message} (source {added.source.id})")
        if added.alternatives:
            click.echo("other feeds found: " + ", ".join(added.alternatives))
            click.echo(f"to watch one of them too: listener source add {shlex.quote(customer)} URL --kind rss")


@source.command("list")
@click.option("--customer", help="Only this customer's sources.")
@click.option("--failing", is_flag=True, help="Only sources with errors or disabled: the error, since when, next try.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one source a line.")
@click.pass_obj
def source_list(app: App, customer: str | None, failing: bool, as_json: bool) -> None:
    """List sources with their state.

    \b
    Example:
      listener source list --failing
    """
    with app.transaction() as session:
        rows = list_sources(session, customer, failing=failing)
        if not rows and not as_json:
            click.echo(
                "no failing sources" if failing else "no sources yet (add one with `listener source add`)", err=True
            )
        if rows and not as_json and at_terminal():
            click.echo(
                "id\tcustomer\tkind\tlocator\tstate\tsince\tnext try"
                if failing
                else "id\tcustomer\tkind\tlocator\tstatus\tnext poll"
            )
        for row, name in rows:
            if as_json:
                record = {
                    "id": row.id,
                    "customer": name,
                    "kind": row.kind,
                    "locator": row.locator,
                    "title": row.title,
                    "enabled": row.enabled,
                    "disabled_reason": row.disabled_reason,
                    "error_count": row.error_count,
                    "last_error": row.last_error,
                    "failing_since": row.failing_since.isoformat() if row.failing_since else None,
                    "next_poll_at": row.next_poll_at.isoformat() if row.next_poll_at else None,
                    "last_polled_at": row.last_polled_at.isoformat() if row.last_polled_at else None,
                    "last_success_at": row.last_success_at.isoformat() if row.last_success_at else None,
                }
                click.echo(json.dumps(record, ensure_ascii=False))
            elif failing:
                state = f"disabled: {row.disabled_reason}" if not row.enabled else f"error: {row.last_error}"
                click.echo(
                    f"{row.id}\t{name}\t{row.kind}\t{row.locator}\t{state}\t"
                    f"since {_when(row.failing_since)}\tnext try {_when(row.next_poll_at) if row.enabled else 'never'}"
                )
            else:
                status = "disabled" if not row.enabled else ("failing" if row.error_count else "ok")
                click.echo(f"{row.id}\t{name}\t{row.kind}\t{row.locator}\t{status}\tnext {_when(row.next_poll_at)}")


@source.command("disable")
@click.argument("source_id", type=int)
@click.option("--reason", default="", help="Why, shown by `source list --failing`.")
@click.pass_obj
def source_disable(app: App, source_id: int, reason: str) -> None:
    """Stop polling a source; it keeps its posts and history (`source enable ID` resumes it).

    \b
    Example:
      listener source disable 12 --reason "site redesign, feed gone until March"
    """
    with app.transaction() as session:
        row = set_source_enabled(session, source_id, False, reason)
        click.echo(f"disabled source {row.id} ({row.kind} {row.locator})")


@source.command("enable")
@click.argument("source_id", type=int)
@click.pass_obj
def source_enable(app: App, source_id: int) -> None:
    """Resume polling a disabled source at the next run, its past errors forgotten.

    \b
    Example:
      listener source enable 12
    """
    with app.transaction() as session:
        row = set_source_enabled(session, source_id, True)
        click.echo(f"enabled source {row.id} ({row.kind} {row.locator}): polled at the next run")


@source.command("remove")
@click.argument("source_id", type=int)
@click.pass_obj
def source_remove(app: App, source_id: int) -> None:
    """Remove a source and the posts it brought.

    \b
    Example:
      listener source remove 12
    """
    with app.transaction() as session:
        removed = remove_source(session, source_id)
        click.echo(f"removed source {source_id} ({removed.kind} {removed.locator})")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rep", "rep_email", help="Rep for customers whose row names none.")
@click.option("--map", "maps", multiple=True, help='"Column=field" for a column the importer does not know.')
@click.option("--dayfirst", is_flag=True, help="Read 03/04/2021 as 3 April (default: US, 4 March).")
@click.option("--skip-bad", is_flag=True, help="Import the good rows and list the bad ones (exit status 1).")
@click.option("--dry-run", is_flag=True, help="Say what would change, change nothing.")
@click.option("--one-customer", metavar="NAME", help="OPML: every feed in the file belongs to this one customer.")
@click.pass_obj
def import_(
    app: App,
    file: Path,
    rep_email: str | None,
    maps: tuple[str, ...],
    dayfirst: bool,
    skip_bad: bool,
    dry_run: bool,
    one_customer: str | None,
) -> None:
    """Import customers (or contacts) from a CSV, an Excel .xlsx or an OPML file.

    One transaction: if any row is bad, every bad row is listed with its line number and nothing is imported
    (with --skip-bad, the good rows are imported and the bad ones listed). Importing a changed row again updates
    the customer and says what changed.
    CSV and .xlsx: a header row, then one customer a row; columns customer, rep, domains, website, aliases,
    language, since, founded, interests, cadence, tier, sources (several separated by `;`; a homepage's feed is
    found; `page:URL` watches a page). HubSpot and Salesforce company/account and contact exports are read as
    exported (`,` `;` or tab, UTF-8 or cp1252, report footers skipped); `--map "Column=field"` for the rest.
    OPML: the feeds in a folder are one customer each (named by the feed's text; the folder becomes a tag); a
    folder inside a folder that holds feeds is one company with those feeds; feeds at the top level are one
    customer each; `--one-customer NAME` puts every feed under one customer; what `export opml` writes
    (customers with Listener's attributes, their sources under them) imports back.

    \b
    Example:
      listener import hubspot-companies.csv --dry-run
      listener import accounts.csv --map "Key Account Manager=rep" --dayfirst --skip-bad
      listener import feeds.opml --rep ana@example.com
    """
    if file.suffix.lower() == ".json":
        _import_json(app, file, dry_run)
        return
    try:
        with app.transaction() as session:
            summary = import_file(
                session,
                app.settings,
                file,
                rep_email=rep_email,
                maps=maps,
                dayfirst=dayfirst,
                skip_bad=skip_bad,
                one_customer=one_customer,
            )
            if dry_run:
                session.rollback()
    except ImportRejected as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise
    if summary.ignored_columns:
        click.echo(
            f'ignored columns: {", ".join(summary.ignored_columns)} (--map "Column=field" imports one)',
            err=True,
        )
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    for change in summary.changes:
        click.echo(f"  {change}")
    already = f" ({summary.sources_present} already there)" if summary.sources_present else ""
    contacts = (
        f", {plural(summary.contacts_added, 'new contact')}, {summary.contacts_updated} updated"
        if summary.contacts_added or summary.contacts_updated
        else ""
    )
    verb = "would import" if dry_run else "imported"
    updated = f", {summary.customers_updated} updated" if summary.customers_updated else ""
    click.echo(
        f"{verb} {file.name}: {plural(summary.customers_added, 'new customer')}{updated}, "
        f"{plural(summary.sources_added, 'new source')}{already}{contacts} from {plural(summary.lines, 'row')}"
        + (" (dry run: nothing changed)" if dry_run else "")
    )
    if summary.skipped:
        for problem in summary.skipped:
            click.echo(f"skipped: {problem}", err=True)
        click.echo(f"{plural(len(summary.skipped), 'row')} skipped (see above)", err=True)
        raise SystemExit(int(ExitCode.ATTENTION))


def _import_json(app: App, file: Path, dry_run: bool) -> None:
    """A `listener export json` file: add what it holds and the database lacks."""
    from listener.backup import restore

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {file}: {exc}") from None
    with app.transaction() as session:
        done = restore(session, text, file.name)
        if dry_run:
            session.rollback()
    verb = "would import" if dry_run else "imported"
    click.echo(
        f"{verb} {file.name}: {plural(done.reps, 'rep')}, {plural(done.customers, 'customer')}, "
        f"{plural(done.contacts, 'contact')}, {plural(done.sources, 'source')}, "
        f"{plural(done.interactions, 'interaction')}" + (f" ({done.present} already there)" if done.present else "")
    )


@click.group("export")
def export() -> None:
    """Export what Listener watches."""


@export.command("opml")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@click.pass_obj
def export_opml_cmd(app: App, output: Path | None) -> None:
    """Every customer and its sources as OPML (customers are top-level outlines, feeds their children).

    \b
    Example:
      listener export opml -o listener.opml
    """
    with app.transaction() as session:
        text = export_opml(session)
    if output:
        with writing_to(check_output_file(output)):
            output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@export.command("json")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@click.pass_obj
def export_json_cmd(app: App, output: Path | None) -> None:
    """Everything sales ops set up, losslessly: reps, customers, contacts, sources with their state,
    interactions and snoozes. `listener import FILE.json` reads it back (into a fresh database, or adds what
    is missing). Posts, insights and digests are not in it.

    \b
    Example:
      listener export json -o listener-backup.json
    """
    from listener.backup import export_everything

    with app.transaction() as session:
        text = export_everything(session)
    if output:
        with writing_to(check_output_file(output)):
            output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
    group.add_command(source)
    group.add_command(import_)
    group.add_command(export)
