"""End to end: `listener demo` runs the real pipeline offline and writes digests a rep can use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.cli import cli


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("demo-out")
    home = tmp_path_factory.mktemp("home")
    result = CliRunner().invoke(
        cli, ["demo", "--out", str(out)], env={"XDG_CONFIG_HOME": str(home), "LISTENER_CONFIG": ""}
    )
    assert result.exit_code == 0, result.output
    return result.output, out


def test_demo_writes_one_html_and_text_digest_per_rep(demo_run: tuple[str, Path]) -> None:
    output, out = demo_run
    html = sorted(out.glob("*.html"))
    text = sorted(out.glob("*.txt"))
    assert len(html) == 3 and len(text) == 3
    assert "Seeded 3 reps, 10 customers" in output
    assert re.search(r"Ingested: \d+ sources polled, [1-9]\d* new posts, 0 failed", output), output
    for path in html + text:
        assert path.stat().st_size > 1000, f"{path.name} is nearly empty"


def test_demo_digests_carry_the_sample_news(demo_run: tuple[str, Path]) -> None:
    _, out = demo_run
    everything = "\n".join(p.read_text(encoding="utf-8") for p in out.glob("*.txt"))
    # Wins, news and challenges from the sample feeds reach the right reps' digests.
    assert "Clínicas Alba" in everything
    assert "Nimbus Logistics" in everything
    assert "Tallyo" in everything
    # The same story on a customer's blog and newsroom is one item, not two.
    assert everything.count("Serie A de 12 millones") <= 1 or everything.count("Clínicas Alba cierra") <= 1


def test_demo_html_escapes_hostile_feed_markup(demo_run: tuple[str, Path]) -> None:
    _, out = demo_run
    for path in out.glob("*.html"):
        page = path.read_text(encoding="utf-8")
        assert "<script" not in page.lower(), path.name
        assert "onerror" not in page.lower() or "onerror=" not in page.lower(), path.name


def test_demo_never_congratulates_a_challenge(demo_run: tuple[str, Path]) -> None:
    _, out = demo_run
    for path in out.glob("*.txt"):
        page = path.read_text(encoding="utf-8")
        for challenge in ("Post-mortem", "lawsuit", "Ajustamos nuestra estructura", "retirada preventiva"):
            for line in page.splitlines():
                if challenge.lower() in line.lower():
                    assert not re.search(r"congrat|enhorabuena|felicidades", line, re.IGNORECASE), line


def test_the_demo_asks_the_model_about_all_its_posts_whatever_the_per_run_cap() -> None:
    from dataclasses import replace

    from listener.demo.runner import DEMO_SECOND_OPINION_POSTS, demo_settings
    from listener.settings import load_settings

    base = load_settings(None, environ={})
    assert base.relevance.second_opinion_max_posts < DEMO_SECOND_OPINION_POSTS  # the product's cap binds on the demo
    demo = demo_settings(base, "sqlite://", "http://127.0.0.1:1")
    assert demo.relevance.second_opinion_max_posts == DEMO_SECOND_OPINION_POSTS
    assert demo.relevance.second_opinion == base.relevance.second_opinion  # the rest of the user's choice stands
    larger = replace(base, relevance=replace(base.relevance, second_opinion_max_posts=500))
    assert demo_settings(larger, "sqlite://", "http://127.0.0.1:1").relevance.second_opinion_max_posts == 500
