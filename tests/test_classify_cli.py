"""`listener classify` and `listener eval`, called in-process with CliRunner; no database is needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from listener.cli import cli
from listener.cli.app import App
from listener.settings import load_settings

CHECK = Path(__file__).parent / "data" / "relevance" / "check.jsonl"
POSTS = [
    {"id": "a", "title": "Harbor Robotics raises $32M Series C", "text": "Led by Northgate Capital.", "lang": "en"},
    {"id": "b", "title": "", "text": "Hoy cumplimos diez años. ¡Gracias!", "source": "twitter", "lang": "es"},
    {"id": "c", "title": "An update on our team", "text": "We are reducing our workforce by 15%."},
    {"id": "d", "title": "", "text": "Happy Friday! Coffee or tea?", "source": "twitter"},
]
KEYS = ["id", "kind", "category", "score", "lang", "evidence", "facts"]


def _invoke(tmp_path: Path, *args: str, input: str | None = None) -> Result:
    settings = load_settings(None, environ={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    app = App(settings=settings)
    try:
        return CliRunner().invoke(cli, list(args), obj=app, input=input, catch_exceptions=False)
    finally:
        app.close()


def _jsonl(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_classify_file_keeps_input_order_and_shape(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(_jsonl(POSTS) + "\n", encoding="utf-8")  # a blank line is skipped
    result = _invoke(tmp_path, "classify", str(path))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c", "d"]
    assert all(list(r) == KEYS for r in rows)
    by_id = {r["id"]: r for r in rows}
    assert (by_id["a"]["kind"], by_id["a"]["category"]) == ("win", "funding")
    assert by_id["a"]["facts"]["round"] == "Series C"
    assert (by_id["b"]["category"], by_id["b"]["facts"]["years"], by_id["b"]["lang"]) == ("milestone", 10, "es")
    assert (by_id["c"]["kind"], by_id["c"]["category"]) == ("challenge", "layoffs")
    assert by_id["d"]["kind"] == "none"
    assert all(0.0 <= r["score"] <= 1.0 for r in rows)


def test_classify_reads_stdin_with_dash_and_by_default(tmp_path: Path) -> None:
    dash = _invoke(tmp_path, "classify", "-", input=_jsonl(POSTS))
    default = _invoke(tmp_path, "classify", input=_jsonl(POSTS))
    assert dash.exit_code == default.exit_code == 0
    assert dash.output == default.output
    assert [json.loads(line)["id"] for line in dash.output.splitlines()] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["a", "list"]', "line 2: expected a JSON object"),
        ('{"id": "x"}', "line 2: missing key 'text'"),
        ('{"id": "x", "text": 5}', "line 2: 'text' must be a string"),
    ],
)
def test_classify_bad_line_exits_2_with_one_line_naming_it(tmp_path: Path, bad_line: str, message: str) -> None:
    text = _jsonl(POSTS[:1]) + bad_line + "\n" + _jsonl(POSTS[1:])
    result = _invoke(tmp_path, "classify", "-", input=text)
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing is printed for a bad file
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1
    assert message in errors[0]


def test_eval_prints_the_figures(tmp_path: Path) -> None:
    result = _invoke(tmp_path, "eval", str(CHECK))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("overall")
    for figure in ("relevance P=", "R=", "F1=", "kind acc=", "category macro-F1=", "challenges called wins=0"):
        assert figure in lines[0]
    languages = {line.split()[0] for line in lines[1:] if line and not line.startswith(("worst", " "))}
    assert {"en", "es", "de", "it", "fr", "pt"} <= languages


def test_eval_json_meets_the_targets_on_the_check_set(tmp_path: Path) -> None:
    result = _invoke(tmp_path, "eval", str(CHECK), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    overall = report["overall"]
    assert overall["f1"] >= 0.90 and overall["kind_accuracy"] >= 0.85
    assert overall["category_macro_f1"] >= 0.75 and overall["challenges_called_wins"] == 0
    assert set(report["by_language"]) >= {"en", "es"}


def test_eval_rejects_an_unknown_label(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "1", "title": "", "text": "x", "kind": "win", "category": "chatter"}) + "\n")
    result = _invoke(tmp_path, "eval", str(path))
    assert result.exit_code == 2
    assert "line 1: unknown kind/category 'win'/'chatter'" in result.stderr
