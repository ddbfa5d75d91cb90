"""`listener import FILE.csv|FILE.opml` and `listener export opml`: all rows or none, every bad row named by line."""

from __future__ import annotations

import re
import xml.sax
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from defusedxml.sax import parseString as safe_parse
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.discovery import Discovery
from connectors.registry import CONNECTORS
from listener.crm import CUSTOMER_FIELDS, find_owner, language_code, map_headers, parse_any_date, parse_maps
from listener.db.schema import Customer, Source
from listener.directory import (
    add_contact,
    add_customer,
    check_domain,
    find_customer,
    get_rep,
    update_contact,
    update_customer,
)
from listener.errors import BadInput, ListenerError, NotFound
from listener.names import name_key
from listener.settings import Settings
from listener.sourcing import URL_KINDS, Resolved, check_source_url, discover_urls, insert_source, resolve_locator
from listener.tabular import Table, decode, read_csv_table, read_xlsx_table

MAX_ERRORS_SHOWN = 50
CSV_COLUMNS = (
    "customer, rep, domains, website, aliases, language, since, founded, interests, cadence, tier, tags, sources"
)


class ImportRejected(BadInput):
    """A file with bad rows: each problem names its line; nothing was imported."""

    def __init__(self, file_name: str, problems: Sequence[str]) -> None:
        super().__init__(
            f"{file_name}: {len(problems)} bad row(s), nothing imported",
            hint="fix the lines above and import the file again",
        )
        self.problems = list(problems)


@dataclass
class Row:
    """One customer with its sources, as read from a file, with the line it came from."""

    line: int
    name: str
    rep: str = ""
    domains: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    language: str = ""
    since: str = ""
    interests: list[str] = field(default_factory=list)
    cadence: str = ""
    sources: list[tuple[str, str | None]] = field(default_factory=list)  # (locator, kind or None to detect)
    titles: dict[str, str] = field(default_factory=dict)  # locator -> the title the file gives it
    lines: dict[str, int] = field(default_factory=dict)  # locator -> its own line, when not the row's
    founded: str = ""
    tier: str = ""
    website: str = ""  # a CRM's website column: a domain, and a source if a feed is found there
    tags: list[str] = field(default_factory=list)  # OPML folders the customer sat in


@dataclass
class ContactRow:
    """One contact from a CRM contacts export, linked to its company by name."""

    line: int
    customer: str
    name: str
    rep: str = ""
    email: str = ""
    role: str = ""
    birthday: str = ""
    language: str = ""


@dataclass
class ImportSummary:
    customers_added: int = 0
    sources_added: int = 0
    lines: int = 0
    sources_present: int = 0  # already there (importing the same file twice adds nothing twice)
    customers_updated: int = 0
    contacts_added: int = 0
    contacts_updated: int = 0
    changes: list[str] = field(default_factory=list)  # "line 3: Acme Corp: cadence 30 -> 7"
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # not errors: e.g. a CRM website without a feed
    skipped: list[str] = field(default_factory=list)  # --skip-bad: the rows left out, with their problem


def _split(value: str | None) -> list[str]:
    """`a; b`, `a|b` or one a line: the parts, trimmed."""
    return [part.strip() for part in (value or "").replace(";", "\n").replace("|", "\n").splitlines() if part.strip()]


def _kinded(locator: str) -> tuple[str, str | None]:
    """`page:https://...` or `rss:https://...` in a CSV cell names the kind; anything else is detected."""
    kind, _, rest = locator.partition(":")
    if kind.lower() in URL_KINDS and rest.lower().startswith(("http://", "https://")):
        return rest.strip(), kind.lower()
    return locator, None


def read_table_rows(
    table: Table, maps: dict[str, str], *, dayfirst: bool = False
) -> tuple[list[Row] | list[ContactRow], list[str]]:
    """Customer rows, or contact rows when the file is a contacts export, and the columns it ignores."""
    columns, ignored = map_headers(table.headers, maps)
    if "customer" not in columns and not any(f in columns for f in ("contact", "first_name", "last_name")):
        raise BadInput(
            "line 1: the file needs a column naming the customer (or the contact and their company)",
            hint=f'columns: {CSV_COLUMNS}; CRM names such as "Company name" or "Account Name" work, '
            'or pass --map "Your Column=customer"',
        )

    def cell(cells: list[str], name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    if any(f in columns for f in ("contact", "first_name", "last_name", "email")):
        # A contacts export: company columns other than the company's name and owner say nothing we keep.
        unused = [f for f in CUSTOMER_FIELDS if f in columns and f not in ("customer", "rep", "language")]
        ignored = [*ignored, *(table.headers[columns[f]] for f in unused)]
        contacts = []
        for line, cells in table.rows:
            name = cell(cells, "contact") or " ".join(
                p for p in (cell(cells, "first_name"), cell(cells, "last_name")) if p
            )
            birthday = cell(cells, "birthday")
            contacts.append(
                ContactRow(
                    line=line,
                    customer=cell(cells, "customer"),
                    name=name,
                    rep=cell(cells, "rep"),
                    email=cell(cells, "email"),
                    role=cell(cells, "role"),
                    birthday=_birthday(birthday, dayfirst) if birthday else "",
                    language=language_code(cell(cells, "language")),
                )
            )
        return contacts, ignored
    rows = []
    for line, cells in table.rows:
        rows.append(
            Row(
                line=line,
                name=cell(cells, "customer"),
                rep=cell(cells, "rep"),
                domains=_split(cell(cells, "domains")),
                aliases=_split(cell(cells, "aliases")),
                language=language_code(cell(cells, "language")),
                since=cell(cells, "since"),
                interests=[i.strip() for i in cell(cells, "interests").replace(";", ",").split(",") if i.strip()],
                cadence=cell(cells, "cadence"),
                sources=[_kinded(loc) for loc in _split(cell(cells, "sources"))],
                founded=cell(cells, "founded"),
                tier=cell(cells, "tier"),
                website=cell(cells, "website"),
                tags=_split(cell(cells, "tags")),
            )
        )
    return rows, ignored


def _birthday(text: str, dayfirst: bool) -> str:
    """MM-DD from MM-DD, YYYY-MM-DD or any date form parse_any_date reads (the year is dropped)."""
    if re.match(r"^\d{1,2}-\d{1,2}$", text.strip()):
        return text.strip()
    return parse_any_date(text, dayfirst=dayfirst, what="birthday").strftime("%m-%d")


@dataclass
class _Outline:
    line: int
    attrs: dict[str, str]
    children: list[_Outline] = field(default_factory=list)

    @property
    def text(self) -> str:
        return (self.attrs.get("text") or self.attrs.get("title") or "").strip()

    def source(self) -> tuple[str, str] | None:
        """(locator, kind) when this outline is a feed (xmlUrl) or another source (type + url)."""
        url = (self.attrs.get("xmlUrl") or "").strip()
        if url:
            return url, "rss"
        kind = (self.attrs.get("type") or "").strip().lower()
        other = (self.attrs.get("url") or self.attrs.get("htmlUrl") or "").strip()
        if other and kind and kind not in ("rss", "link"):
            return other, kind
        return None

    def is_customer(self) -> bool:
        """An outline `listener export opml` wrote for a customer: it carries Listener's attributes."""
        return any(self.attrs.get(key) for key in _CUSTOMER_ATTRIBUTES)


_CUSTOMER_ATTRIBUTES = ("rep", "domains", "aliases", "language", "since", "founded", "interests", "cadence", "tier")


class _OpmlHandler(xml.sax.ContentHandler):
    """The outlines of the body as a tree, each with its line."""

    def __init__(self) -> None:
        super().__init__()
        self.top: list[_Outline] = []
        self._stack: list[_Outline] = []
        self.in_body = False
        self._locator: xml.sax.xmlreader.Locator | None = None

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:
        self._locator = locator

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        if name == "body":
            self.in_body = True
        if name != "outline" or not self.in_body:
            return
        line = int(self._locator.getLineNumber() or 0) if self._locator else 0
        node = _Outline(line, {key: attrs.get(key) or "" for key in attrs.getNames()})
        (self._stack[-1].children if self._stack else self.top).append(node)
        self._stack.append(node)

    def endElement(self, name: str) -> None:
        if name == "outline" and self.in_body and self._stack:
            self._stack.pop()
        elif name == "body":
            self.in_body = False


def _customer_row(node: _Outline) -> Row:
    attrs = node.attrs
    return Row(
        line=node.line,
        name=node.text,
        rep=attrs.get("rep", "").strip(),
        domains=_split(attrs.get("domains")),
        aliases=_split(attrs.get("aliases")),
        language=attrs.get("language", "").strip(),
        since=attrs.get("since", "").strip(),
        founded=attrs.get("founded", "").strip(),
        interests=_split(attrs.get("interests")),
        cadence=attrs.get("cadence", "").strip(),
        tier=attrs.get("tier", "").strip(),
        tags=_split(attrs.get("tags")),
    )


def _add_sources(row: Row, node: _Outline, errors: list[tuple[int, str]], *, strict: bool) -> None:
    """Every source in the subtree goes to `row`; with `strict`, a leaf that is not a source is an error."""
    for child in node.children:
        found = child.source()
        if found is not None:
            locator = found[0]
            row.sources.append(found)
            if child.text and child.text != locator:
                row.titles[locator] = child.text
            row.lines[locator] = child.line
        elif child.children:
            _add_sources(row, child, errors, strict=strict)
        elif strict:
            errors.append((child.line, f"outline {child.text!r} has no xmlUrl (nor a type and url)"))


def _feed_customer(node: _Outline, tags: list[str]) -> Row:
    """A feed that stands for a company (a reader's list of feeds): named by its text, its site as a domain."""
    row = Row(line=node.line, name=node.text, tags=list(tags))
    source = node.source()
    assert source is not None
    row.sources.append(source)
    row.lines[source[0]] = node.line
    site = (node.attrs.get("htmlUrl") or "").strip()
    if site and (domain := _website_domain(site)):
        row.domains.append(domain)
    return row


def _folder_rows(folder: _Outline, path: list[str], rows: list[Row], errors: list[tuple[int, str]]) -> None:
    """A feed reader's folder: its feeds are customers; a subfolder holding feeds is one company's feeds."""
    for child in folder.children:
        if child.is_customer():
            row = _customer_row(child)
            row.tags = list(dict.fromkeys([*path, *row.tags]))
            _add_sources(row, child, errors, strict=True)
            rows.append(row)
        elif child.source() is not None:
            rows.append(_feed_customer(child, path))
        elif any(grandchild.source() is not None for grandchild in child.children):
            row = Row(line=child.line, name=child.text, tags=list(path))
            _add_sources(row, child, errors, strict=False)
            rows.append(row)
        elif child.children:
            _folder_rows(child, [*path, child.text] if child.text else path, rows, errors)
        # an empty folder, or a note without a feed, names nothing to watch: skipped


def opml_rows(top: list[_Outline], one_customer: str | None = None) -> tuple[list[Row], list[tuple[int, str]]]:
    """Customers from the outline tree (see `listener import --help`), and the structural errors by line."""
    rows: list[Row] = []
    errors: list[tuple[int, str]] = []
    if one_customer:
        row = Row(line=top[0].line if top else 1, name=one_customer)
        _add_sources(row, _Outline(0, {}, top), errors, strict=False)
        return [row], errors
    for node in top:
        if node.is_customer():
            row = _customer_row(node)
            _add_sources(row, node, errors, strict=True)
            rows.append(row)
        elif node.source() is not None:
            rows.append(_feed_customer(node, []))
        elif node.children:
            _folder_rows(node, [node.text] if node.text else [], rows, errors)
        # else: an empty folder names nothing to watch (a reader's, not a customer: it has no rep or details)
    return rows, errors


def read_opml(data: bytes, one_customer: str | None = None) -> tuple[list[Row], list[tuple[int, str]]]:
    """Rows of an OPML file (DTDs and entities refused), plus the structural errors found, by line."""
    handler = _OpmlHandler()
    try:
        safe_parse(data, handler)
    except xml.sax.SAXParseException as exc:
        raise BadInput(
            f"line {exc.getLineNumber()}: the OPML is not well-formed XML ({exc.getMessage()})",
            hint="fix the file (an unescaped & is the usual culprit) and import it again",
        ) from None
    except Exception as exc:  # defusedxml refuses entities and DTDs with its own exceptions
        raise BadInput(
            f"the OPML was refused: {type(exc).__name__}", hint="remove the DTD and entity declarations"
        ) from None
    return opml_rows(handler.top, one_customer)


Rows = list[Row] | list[ContactRow]


def read_rows(
    path: Path, maps: dict[str, str] | None = None, *, dayfirst: bool = False, one_customer: str | None = None
) -> tuple[Rows, list[tuple[int, str]], list[str]]:
    """The rows of a .csv, .xlsx or .opml file, the structural errors found by line, and the ignored columns."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    suffix = path.suffix.lower()
    if suffix in (".opml", ".xml") or (suffix not in (".csv", ".txt", ".tsv", ".xlsx") and data.lstrip()[:1] == b"<"):
        rows, errors = read_opml(data, one_customer)
        return rows, errors, []
    if suffix == ".xlsx":
        table = read_xlsx_table(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        table = read_csv_table(decode(data))
    else:
        raise BadInput(f"{path.name}: unknown file type", hint="use a .csv, .xlsx or .opml file")
    found, ignored = read_table_rows(table, maps or {}, dayfirst=dayfirst)
    return found, [], ignored


def import_file(
    session: Session,
    settings: Settings,
    path: Path,
    *,
    rep_email: str | None = None,
    maps: Sequence[str] = (),
    dayfirst: bool = False,
    skip_bad: bool = False,
    one_customer: str | None = None,
) -> ImportSummary:
    """Import a CSV, Excel or OPML file in the caller's transaction.

    Without `skip_bad`, ImportRejected names every bad row and the caller rolls everything back. With it, a run
    that meets bad rows is rolled back and run again without them (no savepoints: pysqlite's are not
    reliable), and the rows left out are listed in `summary.skipped`.
    """
    if rep_email:
        get_rep(session, rep_email)  # one clear error, not one per row
    rows, structural, ignored = read_rows(path, parse_maps(maps), dayfirst=dayfirst, one_customer=one_customer)
    found = _discover_all(settings, [row for row in rows if isinstance(row, Row)])
    left_out: dict[int, list[tuple[int, str]]] = {}  # row index -> its problems (with --skip-bad)
    for _attempt in range(3):  # a bad row can only hide another one's problem once or twice
        summary = ImportSummary(lines=len(rows), ignored_columns=list(ignored))
        problems: dict[int, list[tuple[int, str]]] = {}
        every_row: list[Row | ContactRow] = list(rows)
        for index, row in enumerate(every_row):
            if index in left_out:
                continue
            row_problems: list[tuple[int, str]] = []
            try:
                if isinstance(row, ContactRow):
                    _apply_contact(session, row, rep_email, summary)
                else:
                    _apply(session, settings, row, rep_email, found, row_problems, summary, dayfirst)
            except ListenerError as exc:
                name = row.name if isinstance(row, Row) else f"{row.customer}: {row.name}".strip(": ")
                row_problems.append((row.line, f"{name}: {exc.explain()}" if name else exc.explain()))
            if row_problems:
                problems[index] = row_problems
        if not skip_bad or not problems:
            break
        session.rollback()
        left_out.update(problems)
    every = [*structural, *(problem for found_problems in problems.values() for problem in found_problems)]
    if skip_bad and not problems:
        skipped = [*structural, *(problem for row_problems in left_out.values() for problem in row_problems)]
        summary.skipped = [f"{path.name} line {line}: {text}" for line, text in sorted(skipped, key=lambda p: p[0])]
        return summary
    if every:
        lines = [f"{path.name} line {line}: {text}" for line, text in sorted(every, key=lambda p: p[0])]
        if len(lines) > MAX_ERRORS_SHOWN:
            lines = [*lines[:MAX_ERRORS_SHOWN], f"... and {len(lines) - MAX_ERRORS_SHOWN} more"]
        raise ImportRejected(path.name, lines)
    return summary


def _needs_discovery(locator: str, kind: str | None) -> bool:
    if kind is not None or not locator.lower().startswith(("http://", "https://")):
        return False
    return not any(c.normalize_locator(locator) for name, c in CONNECTORS.items() if name not in URL_KINDS)


def _discover_all(settings: Settings, rows: Sequence[Row]) -> dict[str, Discovery | BadInput]:
    """Feed discovery for every URL in the file that needs it, all at once (one file may name hundreds)."""
    urls = []
    for row in rows:
        for locator, kind in [*row.sources, *([(_website_url(row.website), None)] if row.website else [])]:
            if _needs_discovery(locator, kind):
                try:
                    urls.append(check_source_url(settings, locator))
                except BadInput:
                    continue  # reported with its line by _apply
    return discover_urls(settings, urls)


def _website_url(website: str) -> str:
    website = website.strip()
    return website if website.lower().startswith(("http://", "https://")) else f"https://{website}"


def _website_domain(website: str) -> str | None:
    host = (urlsplit(_website_url(website)).hostname or "").removeprefix("www.")
    try:
        return check_domain(host)
    except BadInput:
        return None


def _apply(
    session: Session,
    settings: Settings,
    row: Row,
    rep_email: str | None,
    found: dict[str, Discovery | BadInput],
    problems: list[tuple[int, str]],
    summary: ImportSummary,
    dayfirst: bool = False,
) -> None:
    """Add the row's customer, or update what the row changes, then add its sources (unless there).

    A bad customer raises; each bad source is added to `problems` with its own line, and the others still checked.
    """
    if not row.name:
        raise BadInput("no customer name")
    since = parse_any_date(row.since, dayfirst=dayfirst, what="--since").isoformat() if row.since else None
    founded = parse_any_date(row.founded, dayfirst=dayfirst, what="--founded").isoformat() if row.founded else None
    if row.cadence and not row.cadence.isdigit():
        raise BadInput(f"cadence {row.cadence!r} is not a number of days")
    domains = list(row.domains)
    if row.website and (domain := _website_domain(row.website)) and domain not in domains:
        domains.append(domain)
    customer = find_customer(session, row.name)
    if customer is None:
        owner = row.rep or rep_email
        if not owner:
            raise BadInput(f"customer {row.name!r} names no rep", hint="add a rep column or pass --rep")
        customer = add_customer(
            session,
            row.name,
            rep_email=find_owner(session, owner).email,
            domains=domains,
            aliases=row.aliases,
            language=row.language or "en",
            since=since,
            founded=founded,
            interests=row.interests,
            cadence_days=int(row.cadence) if row.cadence else 30,
            tier=row.tier or "normal",
            tags=row.tags,
        )
        summary.customers_added += 1
    else:
        changed = update_customer(
            session,
            customer,
            rep=find_owner(session, row.rep) if row.rep else None,
            language=row.language or None,
            cadence_days=int(row.cadence) if row.cadence else None,
            tier=row.tier or None,
            since=since,
            founded=founded,
            add_domains=domains,
            add_aliases=row.aliases,
            add_interests=row.interests,
            add_tags=row.tags,
        )
        if changed:
            summary.customers_updated += 1
            summary.changes.append(f"line {row.line}: {customer.name}: {', '.join(changed)}")
    wanted = list(row.sources)
    if row.website:
        wanted.append((_website_url(row.website), None))
    for locator, kind in wanted:
        try:
            resolved = _resolve(settings, locator, kind, found)
        except ListenerError as exc:
            if row.website and locator == _website_url(row.website) and (locator, kind) not in row.sources:
                # A CRM website is a hint, not a request: a site without a feed still imports its customer.
                summary.warnings.append(f"line {row.line}: {row.name}: no source from its website: {exc.explain()}")
            else:
                problems.append((row.lines.get(locator, row.line), f"{row.name}: {exc.explain()}"))
            continue
        if row.titles.get(locator) and not resolved.title:
            resolved = replace(resolved, title=row.titles[locator])
        exists = session.scalar(
            select(Source.id).where(
                Source.customer_id == customer.id, Source.kind == resolved.kind, Source.locator == resolved.locator
            )
        )
        if exists is None:
            insert_source(session, customer, resolved)
            summary.sources_added += 1
        else:
            summary.sources_present += 1


def _apply_contact(session: Session, row: ContactRow, rep_email: str | None, summary: ImportSummary) -> None:
    """Add the contact to its company (created when the row names an owner), or update what changed."""
    if not row.customer:
        raise BadInput("no company named for the contact", hint="a column such as Associated Company or Account Name")
    if not row.name:
        raise BadInput("no contact name")
    customer = find_customer(session, row.customer)
    if customer is None:
        owner = row.rep or rep_email
        if not owner:
            raise NotFound(f"no customer named {row.customer!r}", hint="import the companies first, or pass --rep")
        customer = add_customer(session, row.customer, rep_email=find_owner(session, owner).email)
        summary.customers_added += 1
    contact = next((c for c in customer.contacts if c.name_key == name_key(row.name)), None)
    if contact is None:
        add_contact(
            session, customer.name, row.name, email=row.email, role=row.role, birthday=row.birthday,
            language=row.language,
        )  # fmt: skip
        summary.contacts_added += 1
        return
    changed = update_contact(
        contact, email=row.email or None, role=row.role or None, birthday=row.birthday or None,
        language=row.language or None,
    )  # fmt: skip
    if changed:
        summary.contacts_updated += 1
        summary.changes.append(f"line {row.line}: {customer.name}: {contact.name}: {', '.join(changed)}")


def _resolve(settings: Settings, locator: str, kind: str | None, found: dict[str, Discovery | BadInput]) -> Resolved:
    discovery = None
    try:
        if _needs_discovery(locator, kind):
            answer = found.get(check_source_url(settings, locator))
            if isinstance(answer, BadInput):
                raise answer
            discovery = answer
        return resolve_locator(settings, locator, kind, discovery=discovery)
    except BadInput as exc:
        # The CLI's hints name --kind; in a file the kind is a prefix of the cell.
        if exc.hint and "--kind page" in exc.hint:
            raise BadInput(exc.message, hint=f"to watch the page for new article links, write page:{locator}") from None
        if exc.hint and "--kind rss" in exc.hint:
            raise BadInput(exc.message, hint=f"check the URL, or write rss:{locator} to add it anyway") from None
        raise


# XML 1.0 can carry only these characters; anything else (U+FFFF, most C0 controls) makes the file unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _attr(value: str) -> str:
    """An attribute value, quoted, without the characters XML cannot carry (#17: the export must import back)."""
    return quoteattr(_NOT_XML.sub("", value))


def export_opml(session: Session, customers: Sequence[Customer] | None = None) -> str:
    """Every customer as a top-level outline (with its rep and details) and its sources as children."""
    rows = customers if customers is not None else session.scalars(select(Customer).order_by(Customer.name)).all()
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "<head><title>Listener sources</title></head>",
        "<body>",
    ]
    for customer in rows:
        details = {
            "rep": customer.rep.email,
            "domains": "; ".join(customer.domains or []),
            "aliases": "; ".join(customer.aliases or []),
            "language": customer.language,
            "since": customer.customer_since.isoformat() if customer.customer_since else "",
            "interests": "; ".join(customer.interests or []),
            "cadence": str(customer.touch_cadence_days),
            "founded": customer.founded_on.isoformat() if customer.founded_on else "",
            "tier": customer.tier,
            "tags": "; ".join(customer.tags or []),
        }
        attrs = "".join(f" {key}={_attr(value)}" for key, value in details.items() if value)
        lines.append(f"  <outline text={_attr(customer.name)}{attrs}>")
        for src in sorted(customer.sources, key=lambda s: s.id):
            title = _attr(src.title or src.locator)
            if src.kind == "rss":
                lines.append(f'    <outline type="rss" text={title} xmlUrl={_attr(src.locator)}/>')
            else:
                lines.append(f"    <outline type={_attr(src.kind)} text={title} url={_attr(src.locator)}/>")
        lines.append("  </outline>")
    lines += ["</body>", "</opml>", ""]
    return "\n".join(lines)
