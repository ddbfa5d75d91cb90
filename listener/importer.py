"""`listener import FILE.csv|FILE.opml` and `listener export opml`: all rows or none, every bad row named by line."""

from __future__ import annotations

import csv
import io
import xml.sax
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from defusedxml.sax import parseString as safe_parse
from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.db.schema import Customer, Source
from listener.directory import add_customer, find_customer
from listener.errors import BadInput, ListenerError
from listener.settings import Settings
from listener.sourcing import Resolved, insert_source, resolve_locator

MAX_ERRORS_SHOWN = 20


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
    sources: list[tuple[str, str | None]] = field(default_factory=list)  # (locator, kind or None to detect)


@dataclass(frozen=True)
class ImportSummary:
    customers_added: int
    sources_added: int
    lines: int


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").replace(";", "\n").replace("|", "\n").splitlines() if part.strip()]


def read_csv(text: str) -> list[Row]:
    """Rows of a CSV with a header: customer (or name), rep, domains, aliases, language, since, sources."""
    reader = csv.DictReader(io.StringIO(text))
    headers = {h.strip().lower(): h for h in (reader.fieldnames or [])}
    name_key = headers.get("customer") or headers.get("name")
    if name_key is None:
        raise BadInput("line 1: the CSV needs a header with a `customer` column", hint="see docs/ingest.md")
    rows = []
    for record in reader:

        def get(key: str, record: dict[str, str | None] = record) -> str:
            return (record.get(headers[key]) or "") if key in headers else ""

        sources: list[tuple[str, str | None]] = [
            (loc, None) for key in ("sources", "source", "feeds", "feed", "urls", "url") for loc in _split(get(key))
        ]
        rows.append(
            Row(
                line=reader.line_num,
                name=(record.get(name_key) or "").strip(),
                rep=get("rep").strip(),
                domains=_split(get("domains") or get("domain")),
                aliases=_split(get("aliases")),
                language=get("language").strip(),
                since=get("since").strip(),
                sources=sources,
            )
        )
    return rows


class _OpmlHandler(xml.sax.ContentHandler):
    """Top-level outlines are customers; outlines under them are feeds (xmlUrl) or other sources (type + url)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.errors: list[str] = []
        self.depth = 0  # outline depth below <body>
        self.in_body = False
        self._locator: xml.sax.xmlreader.Locator | None = None

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:
        self._locator = locator

    def _line(self) -> int:
        return int(self._locator.getLineNumber() or 0) if self._locator else 0

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        if name == "body":
            self.in_body = True
        if name != "outline" or not self.in_body:
            return
        self.depth += 1
        text = (attrs.get("text") or attrs.get("title") or "").strip()
        url = (attrs.get("xmlUrl") or "").strip()
        kind = (attrs.get("type") or "").strip().lower() or None
        if self.depth == 1:
            row = Row(line=self._line(), name=text, rep=(attrs.get("rep") or "").strip())
            if url:  # a feed at the top level: the customer is the feed itself (its title names it)
                row.sources.append((url, "rss"))
            self.rows.append(row)
        elif self.rows:
            other = (attrs.get("url") or attrs.get("htmlUrl") or "").strip()
            if url:
                self.rows[-1].sources.append((url, "rss"))
            elif other and kind and kind != "rss":
                self.rows[-1].sources.append((other, kind))
            else:
                self.errors.append(f"line {self._line()}: outline {text!r} has no xmlUrl")

    def endElement(self, name: str) -> None:
        if name == "outline" and self.in_body:
            self.depth -= 1
        elif name == "body":
            self.in_body = False


def read_opml(data: bytes) -> tuple[list[Row], list[str]]:
    """Rows of an OPML file (DTDs and entities refused), plus the structural errors found."""
    handler = _OpmlHandler()
    try:
        safe_parse(data, handler)
    except xml.sax.SAXParseException as exc:
        raise BadInput(f"line {exc.getLineNumber()}: the OPML is not well-formed XML ({exc.getMessage()})") from None
    except Exception as exc:  # defusedxml refuses entities and DTDs with its own exceptions
        raise BadInput(f"the OPML was refused: {type(exc).__name__} (DTDs and entities are not allowed)") from None
    return handler.rows, handler.errors


def import_file(
    session: Session,
    settings: Settings,
    path: Path,
    *,
    rep_email: str | None = None,
    resolve: Callable[[Settings, str, str | None], Resolved] | None = None,
) -> ImportSummary:
    """Import a CSV or OPML file in the caller's transaction; BadInput lists every bad row."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    errors: list[str] = []
    if path.suffix.lower() in (".opml", ".xml"):
        rows, errors = read_opml(data)
    elif path.suffix.lower() in (".csv", ".txt"):
        rows = read_csv(data.decode("utf-8-sig", "replace"))
    else:
        raise BadInput(f"{path.name}: unknown file type", hint="use a .csv or .opml file")
    resolver = resolve or (lambda s, loc, kind: resolve_locator(s, loc, kind))
    customers = sources = 0
    for row in rows:
        try:
            added_customer, added_sources = _apply(session, settings, row, rep_email, resolver)
            customers += added_customer
            sources += added_sources
        except ListenerError as exc:
            errors.append(f"line {row.line}: {exc.explain()}")
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = f"; and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise BadInput(f"{path.name}: {len(errors)} bad row(s), nothing imported: {shown}{more}")
    return ImportSummary(customers, sources, len(rows))


def _apply(
    session: Session,
    settings: Settings,
    row: Row,
    rep_email: str | None,
    resolve: Callable[[Settings, str, str | None], Resolved],
) -> tuple[int, int]:
    if not row.name:
        raise BadInput("no customer name")
    customer = find_customer(session, row.name)
    created = 0
    if customer is None:
        rep = row.rep or rep_email
        if not rep:
            raise BadInput(f"customer {row.name!r} names no rep", hint="add a rep column or pass --rep")
        customer = add_customer(
            session,
            row.name,
            rep_email=rep,
            domains=row.domains,
            aliases=row.aliases,
            language=row.language or "en",
            since=row.since or None,
        )
        created = 1
    added = 0
    for locator, kind in row.sources:
        resolved = resolve(settings, locator, kind)
        exists = session.scalar(
            select(Source.id).where(
                Source.customer_id == customer.id, Source.kind == resolved.kind, Source.locator == resolved.locator
            )
        )
        if exists is None:  # importing the same file twice adds nothing twice
            insert_source(session, customer, resolved)
            added += 1
    return created, added


def export_opml(session: Session, customers: Sequence[Customer] | None = None) -> str:
    """Every customer as a top-level outline with its sources as children (feeds with xmlUrl)."""
    rows = customers if customers is not None else session.scalars(select(Customer).order_by(Customer.name)).all()
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "<head><title>Listener sources</title></head>",
        "<body>",
    ]
    for customer in rows:
        lines.append(f"  <outline text={quoteattr(customer.name)} rep={quoteattr(customer.rep.email)}>")
        for src in sorted(customer.sources, key=lambda s: s.id):
            title = quoteattr(src.title or src.locator)
            if src.kind == "rss":
                lines.append(f'    <outline type="rss" text={title} xmlUrl={quoteattr(src.locator)}/>')
            else:
                lines.append(f"    <outline type={quoteattr(src.kind)} text={title} url={quoteattr(src.locator)}/>")
        lines.append("  </outline>")
    lines += ["</body>", "</opml>", ""]
    return "\n".join(lines)
