"""`listener import FILE.csv|FILE.opml` and `listener export opml`: all rows or none, every bad row named by line."""

from __future__ import annotations

import csv
import io
import xml.sax
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.sax.saxutils import quoteattr

from defusedxml.sax import parseString as safe_parse
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.discovery import Discovery
from connectors.registry import CONNECTORS
from listener.db.schema import Customer, Source
from listener.directory import add_customer, find_customer, get_rep
from listener.errors import BadInput, ListenerError
from listener.settings import Settings
from listener.sourcing import URL_KINDS, Resolved, check_source_url, discover_urls, insert_source, resolve_locator

MAX_ERRORS_SHOWN = 50
CSV_COLUMNS = "customer, rep, domains, aliases, language, since, interests, cadence, sources"


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


@dataclass(frozen=True)
class ImportSummary:
    customers_added: int
    sources_added: int
    lines: int
    sources_present: int = 0  # already there (importing the same file twice adds nothing twice)


def _split(value: str | None) -> list[str]:
    """`a; b`, `a|b` or one a line: the parts, trimmed."""
    return [part.strip() for part in (value or "").replace(";", "\n").replace("|", "\n").splitlines() if part.strip()]


def _kinded(locator: str) -> tuple[str, str | None]:
    """`page:https://...` or `rss:https://...` in a CSV cell names the kind; anything else is detected."""
    kind, _, rest = locator.partition(":")
    if kind.lower() in URL_KINDS and rest.lower().startswith(("http://", "https://")):
        return rest.strip(), kind.lower()
    return locator, None


def read_csv(text: str) -> list[Row]:
    """Rows of a CSV with a header naming at least a `customer` (or `name`) column; blank rows are skipped."""
    reader = csv.DictReader(io.StringIO(text))
    headers = {(h or "").strip().lower(): h for h in (reader.fieldnames or [])}
    name_key = headers.get("customer") or headers.get("name")
    if name_key is None:
        raise BadInput("line 1: the CSV needs a header row with a `customer` column", hint=f"columns: {CSV_COLUMNS}")
    rows = []
    for record in reader:
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue

        def get(*keys: str, record: dict[str, str | None] = record) -> str:
            return " ; ".join((record.get(headers[k]) or "").strip() for k in keys if k in headers).strip(" ;")

        rows.append(
            Row(
                line=reader.line_num,
                name=(record.get(name_key) or "").strip(),
                rep=get("rep", "rep_email"),
                domains=_split(get("domains", "domain")),
                aliases=_split(get("aliases")),
                language=get("language", "lang"),
                since=get("since", "customer_since"),
                interests=[i.strip() for i in get("interests").replace(";", ",").split(",") if i.strip()],
                cadence=get("cadence"),
                sources=[_kinded(loc) for loc in _split(get("sources", "source", "feeds", "feed", "urls", "url"))],
            )
        )
    return rows


class _OpmlHandler(xml.sax.ContentHandler):
    """Top-level outlines are customers; outlines under them are feeds (xmlUrl) or other sources (type + url)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.errors: list[tuple[int, str]] = []
        self.in_body = False
        self._locator: xml.sax.xmlreader.Locator | None = None
        # One entry per open outline: (line, text) of a sourceless outline that is an error unless it has children.
        self._open: list[tuple[int, str] | None] = []

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:
        self._locator = locator

    def _line(self) -> int:
        return int(self._locator.getLineNumber() or 0) if self._locator else 0

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        if name == "body":
            self.in_body = True
        if name != "outline" or not self.in_body:
            return
        if self._open:
            self._open[-1] = None  # a folder: its children say what to watch
        text = (attrs.get("text") or attrs.get("title") or "").strip()
        url = (attrs.get("xmlUrl") or "").strip()
        kind = (attrs.get("type") or "").strip().lower() or None
        other = (attrs.get("url") or attrs.get("htmlUrl") or "").strip()
        pending: tuple[int, str] | None = None
        if not self._open:
            row = Row(
                line=self._line(),
                name=text,
                rep=(attrs.get("rep") or "").strip(),
                domains=_split(attrs.get("domains")),
                aliases=_split(attrs.get("aliases")),
                language=(attrs.get("language") or "").strip(),
                since=(attrs.get("since") or "").strip(),
                interests=_split(attrs.get("interests")),
                cadence=(attrs.get("cadence") or "").strip(),
            )
            if url:  # a feed at the top level: the customer is the feed itself (its title names it)
                row.sources.append((url, "rss"))
            self.rows.append(row)
        elif self.rows:
            locator = url or other
            if url:
                self.rows[-1].sources.append((url, "rss"))
            elif other and kind and kind not in ("rss", "link"):
                self.rows[-1].sources.append((other, kind))
            else:
                locator = ""
            if locator and text and text != locator:
                self.rows[-1].titles[locator] = text
            if locator:
                self.rows[-1].lines[locator] = self._line()
            if not locator:
                pending = (self._line(), text)
        self._open.append(pending)

    def endElement(self, name: str) -> None:
        if name == "outline" and self.in_body and self._open:
            pending = self._open.pop()
            if pending is not None:
                self.errors.append((pending[0], f"outline {pending[1]!r} has no xmlUrl (nor a type and url)"))
        elif name == "body":
            self.in_body = False


def read_opml(data: bytes) -> tuple[list[Row], list[tuple[int, str]]]:
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
    return handler.rows, handler.errors


def read_rows(path: Path) -> tuple[list[Row], list[tuple[int, str]]]:
    """The rows of a .csv or .opml file, and the structural errors found by line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    suffix = path.suffix.lower()
    if suffix in (".opml", ".xml") or (suffix not in (".csv", ".txt") and data.lstrip()[:1] == b"<"):
        return read_opml(data)
    if suffix in (".csv", ".txt"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")  # spreadsheets on Windows still export this
        return read_csv(text), []
    raise BadInput(f"{path.name}: unknown file type", hint="use a .csv or .opml file")


def import_file(session: Session, settings: Settings, path: Path, *, rep_email: str | None = None) -> ImportSummary:
    """Import a CSV or OPML file in the caller's transaction; ImportRejected names every bad row."""
    if rep_email:
        get_rep(session, rep_email)  # one clear error, not one per row
    rows, structural = read_rows(path)
    found = _discover_all(settings, rows)
    problems: list[tuple[int, str]] = list(structural)
    customers = sources = present = 0
    for row in rows:
        try:
            added_customer, added_sources, already = _apply(session, settings, row, rep_email, found, problems)
        except ListenerError as exc:
            problems.append((row.line, f"{row.name}: {exc.explain()}" if row.name else exc.explain()))
            continue
        customers += added_customer
        sources += added_sources
        present += already
    if problems:
        lines = [f"{path.name} line {line}: {text}" for line, text in sorted(problems, key=lambda p: p[0])]
        if len(lines) > MAX_ERRORS_SHOWN:
            lines = [*lines[:MAX_ERRORS_SHOWN], f"... and {len(lines) - MAX_ERRORS_SHOWN} more"]
        raise ImportRejected(path.name, lines)
    return ImportSummary(customers, sources, len(rows), present)


def _needs_discovery(locator: str, kind: str | None) -> bool:
    if kind is not None or not locator.lower().startswith(("http://", "https://")):
        return False
    return not any(c.normalize_locator(locator) for name, c in CONNECTORS.items() if name not in URL_KINDS)


def _discover_all(settings: Settings, rows: Sequence[Row]) -> dict[str, Discovery | BadInput]:
    """Feed discovery for every URL in the file that needs it, all at once (one file may name hundreds)."""
    urls = []
    for row in rows:
        for locator, kind in row.sources:
            if _needs_discovery(locator, kind):
                try:
                    urls.append(check_source_url(settings, locator))
                except BadInput:
                    continue  # reported with its line by _apply
    return discover_urls(settings, urls)


def _apply(
    session: Session,
    settings: Settings,
    row: Row,
    rep_email: str | None,
    found: dict[str, Discovery | BadInput],
    problems: list[tuple[int, str]],
) -> tuple[int, int, int]:
    """Add the row's customer (unless there) and its sources (unless there): (customers, sources, already there).

    A bad customer raises; each bad source is added to `problems` with its own line, and the others still checked.
    """
    if not row.name:
        raise BadInput("no customer name")
    customer = find_customer(session, row.name)
    created = 0
    if customer is None:
        rep = row.rep or rep_email
        if not rep:
            raise BadInput(f"customer {row.name!r} names no rep", hint="add a rep column or pass --rep")
        if row.cadence and not row.cadence.isdigit():
            raise BadInput(f"cadence {row.cadence!r} is not a number of days")
        customer = add_customer(
            session,
            row.name,
            rep_email=rep,
            domains=row.domains,
            aliases=row.aliases,
            language=row.language or "en",
            since=row.since or None,
            interests=row.interests,
            cadence_days=int(row.cadence) if row.cadence else 30,
        )
        created = 1
    added = already = 0
    for locator, kind in row.sources:
        try:
            resolved = _resolve(settings, locator, kind, found)
        except ListenerError as exc:
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
            added += 1
        else:
            already += 1
    return created, added, already


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
        }
        attrs = "".join(f" {key}={quoteattr(value)}" for key, value in details.items() if value)
        lines.append(f"  <outline text={quoteattr(customer.name)}{attrs}>")
        for src in sorted(customer.sources, key=lambda s: s.id):
            title = quoteattr(src.title or src.locator)
            if src.kind == "rss":
                lines.append(f'    <outline type="rss" text={title} xmlUrl={quoteattr(src.locator)}/>')
            else:
                lines.append(f"    <outline type={quoteattr(src.kind)} text={title} url={quoteattr(src.locator)}/>")
        lines.append("  </outline>")
    lines += ["</body>", "</opml>", ""]
    return "\n".join(lines)
