"""`listener rep|customer|contact ...`: sales ops manage who sells to whom."""

from __future__ import annotations

import sys
from datetime import date

import click

from listener import directory
from listener.cli.app import App
from listener.cli.common import at_terminal, echo_json, plural, split_commas
from listener.db.schema import CUSTOMER_TIERS, Customer
from listener.errors import BadInput

TIER = click.Choice(CUSTOMER_TIERS, case_sensitive=False)


@click.group("rep")
def rep_group() -> None:
    """Sales reps: who gets a morning digest, in which time zone and language."""


@rep_group.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The rep's name, as the digest greets them.")
@click.option("--tz", "time_zone", default="UTC", show_default=True, help="IANA time zone, e.g. Europe/Madrid.")
@click.option("--hour", default=7, show_default=True, type=int, help="Local hour the digest is sent (0-23).")
@click.option("--lang", default="en", show_default=True, help="Language of the digest's own words (en, es).")
@click.option("--workdays", default="mon-fri", show_default=True, help="Days the digest is sent: mon-fri, sun-thu...")
@click.option("--pronoun", default="", help="she, he or they: how drafts may refer to you (default: never gendered).")
@click.pass_obj
def rep_add(app: App, email: str, name: str, time_zone: str, hour: int, lang: str, workdays: str, pronoun: str) -> None:
    """Add a rep.

    \b
    Example:
      listener rep add ana@example.com --name "Ana García" --tz Europe/Madrid --hour 8 --lang es
    """
    with app.transaction() as session:
        rep = directory.add_rep(
            session, email, name, time_zone=time_zone, hour=hour, language=lang, workdays=workdays, pronoun=pronoun
        )
        click.echo(f"Added rep {rep.name} <{rep.email}>: digest at {rep.digest_hour:02d}:00 {rep.time_zone}.")


@rep_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@click.pass_obj
def rep_list(app: App, as_json: bool) -> None:
    """List the reps.

    \b
    Example:
      listener rep list --json
    """
    with app.transaction() as session:
        rows = [
            {
                "email": r.email,
                "name": r.name,
                "tz": r.time_zone,
                "hour": r.digest_hour,
                "lang": r.language,
                "customers": len(r.customers),
            }
            for r in directory.list_reps(session)
        ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No reps yet: add one with `listener rep add EMAIL --name NAME`.")
    elif at_terminal():
        click.echo(f"{'EMAIL':<32} {'NAME':<24} {'TIME ZONE':<20} {'HOUR':<5} LANG  CUSTOMERS")
    for row in rows:
        click.echo(
            f"{row['email']:<32} {row['name']:<24} {row['tz']:<20} {row['hour']:02d}:00 "
            f"{row['lang']:<4}  {plural(int(str(row['customers'])), 'customer')}"
        )


@rep_group.command("edit")
@click.argument("email")
@click.option("--email", "new_email", help="A new email address.")
@click.option("--name", help="The rep's name.")
@click.option("--tz", "time_zone", help="IANA time zone, e.g. Europe/Madrid.")
@click.option("--hour", type=int, help="Local hour the digest is sent (0-23).")
@click.option("--lang", help="Language of the digest's own words (en, es).")
@click.option("--workdays", help="Days the digest is sent: mon-fri, sun-thu, mon,wed,fri...")
@click.option("--pronoun", help='she, he or they: how drafts may refer to the rep ("" = never gendered).')
@click.pass_obj
def rep_edit(
    app: App,
    email: str,
    new_email: str | None,
    name: str | None,
    time_zone: str | None,
    hour: int | None,
    lang: str | None,
    workdays: str | None,
    pronoun: str | None,
) -> None:
    """Change a rep's email, name, time zone, digest hour, language, work days or pronoun.

    \b
    Example:
      listener rep edit ana@example.com --tz America/Mexico_City --hour 8
    """
    with app.transaction() as session:
        rep = directory.get_rep(session, email)
        changes = directory.edit_rep(
            session,
            rep,
            email=new_email,
            name=name,
            time_zone=time_zone,
            hour=hour,
            language=lang,
            workdays=workdays,
            pronoun=pronoun,
        )
        click.echo(f"Rep {rep.email}: {', '.join(changes)}." if changes else f"Rep {rep.email}: nothing to change.")


@rep_group.command("remove")
@click.argument("email")
@click.option("--reassign-to", "heir", help="The rep who takes over the customers (needed if there are any).")
@click.pass_obj
def rep_remove(app: App, email: str, heir: str | None) -> None:
    """Remove a rep who leaves; their customers, with their history, go to another rep.

    \b
    Example:
      listener rep remove ana@example.com --reassign-to bruno@example.com
    """
    with app.transaction() as session:
        rep, moved = directory.remove_rep(session, email, heir)
        removed = rep.email
    click.echo(
        f"Removed rep {removed}"
        + (f"; {plural(moved, 'customer')} moved to {heir.lower()}." if moved and heir else ".")
    )


@click.group("customer")
def customer_group() -> None:
    """Customers: the companies a rep keeps close, with what we know about them."""


@customer_group.command("add")
@click.argument("name")
@click.option("--rep", "rep_email", required=True, help="Email of the rep who owns the relationship.")
@click.option("--domain", "domains", multiple=True, help="The customer's web domain (repeatable).")
@click.option("--since", help="Customer since YYYY-MM-DD (for anniversaries).")
@click.option("--founded", help="Company founded YYYY-MM-DD (for company anniversaries).")
@click.option("--interests", multiple=True, help="Comma-separated interests, for gift ideas: coffee,cycling.")
@click.option("--alias", "aliases", multiple=True, help="Another name the customer goes by (repeatable).")
@click.option("--lang", default="en", show_default=True, help="Language to write to them in (en, es, ...).")
@click.option("--cadence", default=30, show_default=True, type=int, help="Days between touches before 'going quiet'.")
@click.option("--tier", default="normal", show_default=True, type=TIER, help="high customers come first in digests.")
@click.pass_obj
def customer_add(
    app: App,
    name: str,
    rep_email: str,
    domains: tuple[str, ...],
    since: str | None,
    founded: str | None,
    interests: tuple[str, ...],
    aliases: tuple[str, ...],
    lang: str,
    cadence: int,
    tier: str,
) -> None:
    """Add a customer owned by a rep.

    \b
    Example:
      listener customer add "Nimbus Logistics" --rep ana@example.com --domain nimbus.example \\
          --since 2021-03-15 --interests coffee,cycling --lang es --cadence 21
    """
    with app.transaction() as session:
        customer = directory.add_customer(
            session,
            name,
            rep_email=rep_email,
            domains=domains,
            since=since,
            founded=founded,
            interests=split_commas(interests),
            aliases=aliases,
            language=lang,
            cadence_days=cadence,
            tier=tier,
        )
        click.echo(f"Added customer {customer.name} (rep {customer.rep.email}).")
        click.echo(f"Next: listener source add {_quote(customer.name)} https://... (a feed or homepage URL)")


def _quote(name: str) -> str:
    return f'"{name}"' if " " in name else name


def _customer_row(customer: Customer) -> dict[str, object]:
    return {
        "name": customer.name,
        "rep": customer.rep.email,
        "domains": customer.domains,
        "aliases": customer.aliases,
        "since": customer.customer_since,
        "founded": customer.founded_on,
        "interests": customer.interests,
        "lang": customer.language,
        "cadence_days": customer.touch_cadence_days,
        "tier": customer.tier,
        "tags": customer.tags,
        "muted_until": customer.muted_until,
        "sources": len(customer.sources),
        "contacts": len(customer.contacts),
    }


@customer_group.command("list")
@click.option("--rep", "rep_email", help="Only this rep's customers.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@click.pass_obj
def customer_list(app: App, rep_email: str | None, as_json: bool) -> None:
    """List customers.

    \b
    Example:
      listener customer list --rep ana@example.com
    """
    with app.transaction() as session:
        rows = [_customer_row(c) for c in directory.list_customers(session, rep_email)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No customers yet: add one with `listener customer add NAME --rep EMAIL`.")
    elif at_terminal():
        click.echo(f"{'NAME':<32} {'REP':<30} {'SOURCES':<11} {'LANG':<4}  TIER")
    for row in rows:
        sources = plural(int(str(row["sources"])), "source")
        click.echo(f"{row['name']:<32} {row['rep']:<30} {sources:<11} {row['lang']:<4}  {row['tier']}")


@customer_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_obj
def customer_show(app: App, name: str, as_json: bool) -> None:
    """Show one customer with contacts and sources.

    \b
    Example:
      listener customer show "Nimbus Logistics"
    """
    with app.transaction() as session:
        customer = directory.get_customer(session, name)
        row = _customer_row(customer)
        row["contacts"] = [
            {"name": c.name, "role": c.role, "email": c.email, "birthday": c.birthday} for c in customer.contacts
        ]
        row["sources"] = [
            {"id": s.id, "kind": s.kind, "locator": s.locator, "enabled": s.enabled, "last_error": s.last_error}
            for s in customer.sources
        ]
    if as_json:
        echo_json(row)
        return
    for key, value in row.items():
        if key in ("contacts", "sources"):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "-"
        elif isinstance(value, date):
            value = value.isoformat()
        click.echo(f"{key + ':':<14}{value if value not in (None, '') else '-'}")
    click.echo("contacts:")
    for c in row["contacts"]:  # type: ignore[attr-defined]
        click.echo(f"  {c['name']} {('(' + c['role'] + ')') if c['role'] else ''} {c['email']} {c['birthday']}")
    click.echo("sources:")
    for s in row["sources"]:  # type: ignore[attr-defined]
        state = "" if s["enabled"] else " (disabled)"
        error = f"  ! {s['last_error']}" if s["last_error"] else ""
        click.echo(f"  #{s['id']} {s['kind']:<8} {s['locator']}{state}{error}")


@customer_group.command("edit")
@click.argument("name")
@click.option("--name", "new_name", help="A new name.")
@click.option("--rep", "rep_email", help="Hand the customer to this rep.")
@click.option("--lang", help="Language to write to them in.")
@click.option("--cadence", type=int, help="Days between touches before 'going quiet'.")
@click.option("--tier", type=TIER, help="high, normal or low: high customers come first in digests.")
@click.option("--interests", help='Comma-separated; replaces the list ("" clears it).')
@click.option("--domains", help='Comma-separated; replaces the list ("" clears it).')
@click.option("--aliases", help='Comma-separated; replaces the list ("" clears it).')
@click.option("--tags", help='Comma-separated; replaces the list ("" clears it).')
@click.option("--since", help='Customer since YYYY-MM-DD ("" clears it).')
@click.option("--founded", help='Company founded YYYY-MM-DD ("" clears it).')
@click.pass_obj
def customer_edit(
    app: App,
    name: str,
    new_name: str | None,
    rep_email: str | None,
    lang: str | None,
    cadence: int | None,
    tier: str | None,
    interests: str | None,
    domains: str | None,
    aliases: str | None,
    tags: str | None,
    since: str | None,
    founded: str | None,
) -> None:
    """Change what we know about a customer; only the options given change.

    \b
    Example:
      listener customer edit "Nimbus Logistics" --rep bruno@example.com --tier high --interests "coffee, running"
    """
    with app.transaction() as session:
        customer = directory.get_customer(session, name)
        changes = directory.update_customer(
            session,
            customer,
            name=new_name,
            rep=directory.get_rep(session, rep_email) if rep_email else None,
            language=lang,
            cadence_days=cadence,
            tier=tier,
            since=since,
            founded=founded,
            interests=split_commas(interests) if interests is not None else None,
            domains=split_commas(domains) if domains is not None else None,
            aliases=split_commas(aliases) if aliases is not None else None,
            tags=split_commas(tags) if tags is not None else None,
        )
        label = customer.name
    click.echo(f"{label}: {', '.join(changes)}." if changes else f"{label}: nothing to change.")


@customer_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask (scripts); without it a terminal asks first.")
@click.pass_obj
def customer_remove(app: App, name: str, yes: bool) -> None:
    """Remove a customer with its contacts, sources, posts and interactions.

    At a terminal it asks first; scripts pass --yes. To hand customers to another rep, use
    `customer edit NAME --rep EMAIL` or `rep remove EMAIL --reassign-to EMAIL` instead.

    \b
    Example:
      listener customer remove "Nimbus Logistics" --yes
    """
    with app.transaction() as session:
        customer = directory.get_customer(session, name)
        if not yes and sys.stdin.isatty():
            what = f"{len(customer.sources)} source(s), {len(customer.contacts)} contact(s) and their history"
            if not click.confirm(f"Remove {customer.name} with {what}?", default=False):
                raise BadInput("nothing removed", hint="pass --yes to remove without asking")
        removed = customer.name
        session.delete(customer)
    click.echo(f"Removed customer {removed}.")


@click.group("contact")
def contact_group() -> None:
    """Contacts at a customer: whom to greet, and whose birthday is coming."""


@contact_group.command("add")
@click.argument("customer")
@click.argument("name")
@click.option("--email", default="", help="The contact's email.")
@click.option("--role", default="", help="Their role, e.g. CTO.")
@click.option("--birthday", default="", help="MM-DD (the year is not stored).")
@click.option("--lang", default="", help="BCP 47 tag they read best (es-419, pt-BR...); default: the customer's.")
@click.pass_obj
def contact_add(app: App, customer: str, name: str, email: str, role: str, birthday: str, lang: str) -> None:
    """Add a contact to a customer.

    \b
    Example:
      listener contact add "Nimbus Logistics" "Lucía Pérez" --role CEO --email lucia@nimbus.example --birthday 03-14
    """
    with app.transaction() as session:
        contact = directory.add_contact(
            session, customer, name, email=email, role=role, birthday=birthday, language=lang
        )
        click.echo(f"Added contact {contact.name} to {contact.customer.name}.")


@contact_group.command("list")
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_obj
def contact_list(app: App, customer: str, as_json: bool) -> None:
    """List a customer's contacts.

    \b
    Example:
      listener contact list "Nimbus Logistics"
    """
    with app.transaction() as session:
        rows = [
            {"name": c.name, "role": c.role, "email": c.email, "birthday": c.birthday}
            for c in directory.get_customer(session, customer).contacts
        ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No contacts yet.")
    elif at_terminal():
        click.echo(f"{'NAME':<28} {'ROLE':<20} {'EMAIL':<32} BIRTHDAY")
    for row in rows:
        click.echo(f"{row['name']:<28} {row['role']:<20} {row['email']:<32} {row['birthday']}")


@contact_group.command("edit")
@click.argument("customer")
@click.argument("name")
@click.option("--name", "new_name", help="A new name.")
@click.option("--email", help='Their email ("" clears it).')
@click.option("--role", help='Their role ("" clears it).')
@click.option("--birthday", help='MM-DD ("" clears it).')
@click.option("--lang", help='Language to write to them in ("" = the customer\'s).')
@click.pass_obj
def contact_edit(
    app: App,
    customer: str,
    name: str,
    new_name: str | None,
    email: str | None,
    role: str | None,
    birthday: str | None,
    lang: str | None,
) -> None:
    """Change a contact; only the options given change.

    \b
    Example:
      listener contact edit "Nimbus Logistics" "Lucía Pérez" --role "CEO & founder" --birthday 03-15
    """
    with app.transaction() as session:
        contact = directory.get_contact(session, customer, name)
        changes = directory.update_contact(
            contact, name=new_name, email=email, role=role, birthday=birthday, language=lang
        )
        label = f"{contact.name} ({contact.customer.name})"
    click.echo(f"{label}: {', '.join(changes)}." if changes else f"{label}: nothing to change.")


@contact_group.command("remove")
@click.argument("customer")
@click.argument("name")
@click.pass_obj
def contact_remove(app: App, customer: str, name: str) -> None:
    """Remove a contact from a customer.

    \b
    Example:
      listener contact remove "Nimbus Logistics" "Lucía Pérez"
    """
    with app.transaction() as session:
        contact = directory.get_contact(session, customer, name)
        label = f"{contact.name} ({contact.customer.name})"
        session.delete(contact)
    click.echo(f"Removed contact {label}.")


def register(group: click.Group) -> None:
    """Add rep, customer and contact to the top-level group."""
    group.add_command(rep_group)
    group.add_command(customer_group)
    group.add_command(contact_group)
