"""CLI commands for acting from the email: `serve`, `feedback list|export|report`, `rep resume`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from listener.cli.app import App
from listener.cli.common import echo_json
from listener.db.schema import Customer, DigestPause, Feedback, Post, Rep
from listener.directory import get_rep, parse_date
from listener.errors import BadInput, ConfigError


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group (`rep resume` joins the `rep` group)."""
    group.add_command(serve_command)
    group.add_command(feedback_group)
    rep = group.commands.get("rep")
    if isinstance(rep, click.Group):
        rep.add_command(rep_resume)


@click.command("serve")
@click.option("--host", help="Address to listen on. Default: web.host (127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on. Default: web.port (8765).")
@click.pass_obj
def serve_command(app: App, host: str | None, port: int | None) -> None:
    """Run the web app behind the digest's one-click links (done, snooze, not relevant, unsubscribe).

    Needs LISTENER_WEB_SECRET; put it behind a TLS reverse proxy at web.base_url (see config/).

    Example: LISTENER_WEB_SECRET=... listener serve --port 8765
    """
    from listener.web import serve

    web = app.settings.web
    if len(web.secret) < 16:
        raise ConfigError(
            "LISTENER_WEB_SECRET is not set (or shorter than 16 characters)",
            hint="set it to a long random string, e.g. `openssl rand -hex 32`, the same for `digest send`",
        )
    if not web.base_url:
        click.echo("warning: web.base_url is empty, so digests carry no feedback links yet", err=True)
    port = web.port if port is None else port
    if not 0 < port < 65536:
        raise BadInput(f"--port {port} is not a port", hint="use 1-65535")
    host = host or web.host
    click.echo(f"listening on http://{host}:{port} (links point to {web.base_url or 'nowhere yet'})", err=True)
    serve(app.sessions(), web, host, port)


@click.command("resume")
@click.argument("email")
@click.pass_obj
def rep_resume(app: App, email: str) -> None:
    """Resume a rep's digests after they paused them from the email (one-click unsubscribe).

    Example: listener rep resume ana@example.com
    """
    with app.transaction() as session:
        rep = get_rep(session, email)
        pause = session.get(DigestPause, rep.id)
        if pause is not None:
            session.delete(pause)
        address = rep.email
    click.echo(f"{address}: digests resumed" if pause is not None else f"{address}: digests were not paused")


@click.group("feedback")
def feedback_group() -> None:
    """What reps said from the email: list it, export it for review, measure the filter against it."""


def _rows(app: App, since: str | None = None) -> list[dict[str, object]]:
    start = datetime.combine(parse_date(since, "--since"), time(), tzinfo=UTC) if since else None
    with app.transaction() as session:
        query = (
            select(Feedback, Rep.email, Customer.name, Post)
            .join(Rep, Feedback.rep_id == Rep.id)
            .join(Customer, Feedback.customer_id == Customer.id)
            .outerjoin(Post, Feedback.post_id == Post.id)
            .order_by(Feedback.created_at, Feedback.id)
        )
        if start is not None:
            query = query.where(Feedback.created_at >= start)
        return [
            {
                "id": f.id,
                "at": f.created_at,
                "rep": rep,
                "customer": customer,
                "action": f.action,
                "kind": f.kind,
                "category": f.category,
                "corrected_kind": f.corrected_kind,
                "corrected_category": f.corrected_category,
                "post_id": f.post_id,
                "title": post.title if post else "",
                "text": post.text if post else "",
                "lang": post.language if post else "",
                "url": post.canonical_url if post else "",
            }
            for f, rep, customer, post in session.execute(query)
        ]


@feedback_group.command("list")
@click.option("--since", help="Only feedback from this date on (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@click.pass_obj
def feedback_list(app: App, since: str | None, as_json: bool) -> None:
    """Show what reps said, oldest first.

    Example: listener feedback list --json
    """
    rows = _rows(app, since)
    if as_json:
        echo_json([{k: v for k, v in row.items() if k != "text"} for row in rows])
        return
    if not rows:
        click.echo("No feedback yet.")
    for row in rows:
        at = row["at"].strftime("%Y-%m-%d %H:%M") if isinstance(row["at"], datetime) else row["at"]
        label = f"{row['kind']}/{row['category']}" if row["kind"] else "-"
        fix = f" -> {row['corrected_kind']}/{row['corrected_category'] or '?'}" if row["corrected_kind"] else ""
        title = " ".join(str(row["title"]).split())[:60]
        click.echo(f"{at}  {row['rep']:<24} {row['action']:<12} {row['customer']:<20} {label}{fix}  {title}")


@feedback_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--since", help="Only feedback from this date on (YYYY-MM-DD).")
@click.pass_obj
def feedback_export(app: App, file: str, since: str | None) -> None:
    """Write the reps' verdicts as JSON Lines in the eval format (id, title, text, lang, kind, category).

    The label is the rep's: "not relevant" is none/other, a kind correction its kind and category. Review the
    lines before adding them to a rules test set.

    Example: listener feedback export verdicts.jsonl
    """
    lines = []
    for row in _rows(app, since):
        if not row["corrected_kind"] or not row["post_id"]:
            continue
        lines.append(
            {
                "id": f"feedback-{row['id']}",
                "title": row["title"],
                "text": row["text"],
                "lang": row["lang"],
                "kind": row["corrected_kind"],
                "category": row["corrected_category"],
            }
        )
    path = Path(file)
    try:
        path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}", hint="check the folder exists and is writable") from None
    click.echo(f"{len(lines)} verdict(s) written to {path}")


@feedback_group.command("report")
@click.option("--since", help="Only feedback from this date on (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of a table.")
@click.pass_obj
def feedback_report(app: App, since: str | None, as_json: bool) -> None:
    """The filter's precision as reps judged it, per kind and category.

    An item a rep marked done or snoozed counts as right; not relevant or a kind correction counts as wrong.
    Precision = right / judged, over the items reps said something about (silence is not a verdict).

    Example: listener feedback report --since 2026-11-01
    """
    judged: dict[tuple[str, str], dict[str, int]] = {}
    seen: set[tuple[int, str]] = set()
    for row in _rows(app, since):
        if not row["kind"] or row["post_id"] is None:
            continue
        key = (str(row["kind"]), str(row["category"]))
        counts = judged.setdefault(key, {"right": 0, "wrong": 0})
        wrong = bool(row["corrected_kind"])
        item = (int(str(row["post_id"])), "wrong" if wrong else "right")
        if item in seen:  # done and snooze on the same item are one verdict
            continue
        seen.add(item)
        counts["wrong" if wrong else "right"] += 1
    report: list[dict[str, Any]] = [
        {
            "kind": kind,
            "category": category,
            "judged": c["right"] + c["wrong"],
            "right": c["right"],
            "precision": round(c["right"] / (c["right"] + c["wrong"]), 3),
        }
        for (kind, category), c in sorted(judged.items())
    ]
    if as_json:
        echo_json(report)
        return
    if not report:
        click.echo("No verdicts yet.")
    for kind in sorted({r["kind"] for r in report}):
        rows = [r for r in report if r["kind"] == kind]
        right, total = sum(int(r["right"]) for r in rows), sum(int(r["judged"]) for r in rows)
        click.echo(f"{kind:<10} precision {right / total:.2f} ({right}/{total})")
        for r in rows:
            click.echo(f"  {r['category']:<14} {float(r['precision']):.2f} ({r['right']}/{r['judged']})")
