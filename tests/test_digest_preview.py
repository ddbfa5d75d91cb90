"""`digest preview` and write_digest_files: the files a rep's digest is written to, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from listener.cli.app import App
from listener.db.schema import Digest
from tests.conftest import Invoke
from tests.test_digest_helpers import NOW, TODAY, seed_scenario


def test_write_digest_files_writes_html_text_and_ics(app: App, tmp_path: Path) -> None:
    from digests.preview import write_digest_files

    with app.transaction() as session:
        rep = seed_scenario(session)
        paths = write_digest_files(session, app.settings, rep, TODAY, tmp_path / "out", NOW)
    names = sorted(p.name for p in paths)
    assert names == [
        "ana@example.com-meet-acme-robotics-2026-11-23.ics",
        "ana@example.com-meet-nimbus-logistica-2026-11-23.ics",
        "ana@example.com.html",
        "ana@example.com.txt",
    ]
    html = (tmp_path / "out" / "ana@example.com.html").read_text()
    text = (tmp_path / "out" / "ana@example.com.txt").read_text()
    assert "Acme Robotics raises $20M Series B" in html and "Acme Robotics raises $20M Series B" in text
    assert "Hi Lena, " in text  # the contact's first name
    assert (tmp_path / "out" / names[0]).read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_write_digest_files_accepts_an_email(app: App, tmp_path: Path) -> None:
    from digests.preview import write_digest_files

    with app.transaction() as session:
        seed_scenario(session)
        paths = write_digest_files(session, app.settings, "ANA@example.com", TODAY, tmp_path, NOW)
    assert paths[0].name == "ana@example.com.html"


def test_preview_cli_writes_files_and_records_nothing(invoke: Invoke, app: App, tmp_path: Path) -> None:
    with app.transaction() as session:
        seed_scenario(session)
    result = invoke("digest", "preview", "--rep", "ana@example.com", "--date", "2026-11-23", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "ana@example.com.html") in result.output
    assert (tmp_path / "ana@example.com.txt").read_text().startswith("Good morning, Ana")
    with app.transaction() as session:
        assert session.query(Digest).count() == 0


def test_preview_cli_bad_input_exits_2(invoke: Invoke, app: App, tmp_path: Path) -> None:
    with app.transaction() as session:
        seed_scenario(session)
    result = invoke("digest", "preview", "--rep", "nobody@example.com", "--out", str(tmp_path))
    assert result.exit_code == 2 and result.output.startswith("error: no rep")
    result = invoke("digest", "preview", "--rep", "ana@example.com", "--date", "2026-02-30", "--out", str(tmp_path))
    assert result.exit_code == 2 and "is not a date" in result.output
    assert not list(tmp_path.glob("*.html"))
