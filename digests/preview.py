"""Write one rep's digest as files (HTML, text, .ics drafts): `listener digest preview` and the demo use this."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from digests.actions import with_actions
from digests.build import build_digest
from digests.render import render
from listener.db.schema import Rep
from listener.directory import get_rep
from listener.settings import Settings


def file_stem(rep_email: str) -> str:
    """The rep's email as a safe file name, one to one: every character but letters, digits and `@.+-` (and a
    leading dot) becomes `_` and its UTF-8 bytes in hex (two digits each), `_` included, so `a/b@x` and `a_b@x`
    never share a file and no name can be `..` or hold a path separator."""

    def escape(match: re.Match[str]) -> str:
        return "".join(f"_{byte:02x}" for byte in match.group().encode("utf-8"))

    return re.sub(r"^\.|[^A-Za-z0-9@.+-]", escape, rep_email) or "rep"


def write_digest_files(
    session: Session, settings: Settings, rep: Rep | str, on: date, out_dir: Path, now: datetime
) -> list[Path]:
    """Build and render `rep`'s digest for `on`; write <rep>.html, <rep>.txt and any .ics drafts; return the paths."""
    if isinstance(rep, str):
        rep = get_rep(session, rep)
    digest = with_actions(build_digest(session, settings, rep, on, now), settings, rep_id=rep.id)
    rendered = render(digest)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(rep.email)
    html_path = out_dir / f"{stem}.html"
    text_path = out_dir / f"{stem}.txt"
    html_path.write_text(rendered.html, encoding="utf-8")
    text_path.write_text(rendered.text, encoding="utf-8")
    paths = [html_path, text_path]
    for attachment in digest.attachments:
        path = out_dir / f"{stem}-{attachment.filename}"
        path.write_bytes(attachment.content)
        paths.append(path)
    return paths
