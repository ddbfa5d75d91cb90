"""CLI commands: `listener classify` (JSON Lines in, insights out) and `listener eval` (metrics on a labelled file).

Neither touches the database: they need only the settings (for relevance.rules_dir and min_score).
"""

from __future__ import annotations

import json
from typing import Any, TextIO

import click

from listener.relevance import Classifier, load_classifier
from listener.relevance.evaluate import Metrics, Report, evaluate, post_from_record, read_labelled, read_records
from listener.settings import Settings


def _settings(ctx: click.Context) -> Settings | None:
    app = ctx.find_root().obj
    return getattr(app, "settings", None)


def _classifier(ctx: click.Context) -> Classifier:
    return load_classifier(_settings(ctx))


def classify_stream(classifier: Classifier, stream: TextIO) -> list[dict[str, Any]]:
    """Classify every line of `stream`; the whole input is checked before anything is written."""
    out = []
    for line_no, record in read_records(stream):
        post = post_from_record(record, line_no)
        insight = classifier.classify(post)
        out.append(
            {
                "id": post.external_id,
                "kind": insight.kind.value,
                "category": insight.category,
                "score": insight.score,
                "lang": insight.lang,
                "evidence": list(insight.evidence),
                "facts": insight.facts,
            }
        )
    return out


@click.command("classify")
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@click.pass_context
def classify_cmd(ctx: click.Context, file: TextIO) -> None:
    """Classify posts: JSON Lines in (id, title, text, optional source, lang), JSON Lines out in input order.

    Each output line has id, kind, category, score, lang, evidence and facts. A bad line stops the run with
    exit code 2 and its line number; nothing is printed for a bad file.

    \b
    Example:
      echo '{"id": "1", "title": "", "text": "We raised a $20M Series B!"}' | listener classify
    """
    results = classify_stream(_classifier(ctx), file)
    for row in results:
        click.echo(json.dumps(row, ensure_ascii=False))


def _format_metrics(name: str, m: Metrics) -> str:
    return (
        f"{name:<8} n={m.n:<4} relevance P={m.precision:.3f} R={m.recall:.3f} F1={m.f1:.3f}  "
        f"kind acc={m.kind_accuracy:.3f}  category macro-F1={m.category_macro_f1:.3f}  "
        f"challenges called wins={m.challenges_called_wins}"
    )


def format_report(report: Report) -> str:
    """The human-readable report of `listener eval`."""
    lines = [_format_metrics("overall", report.overall)]
    lines += [_format_metrics(lang, m) for lang, m in sorted(report.by_language.items())]
    if report.confusions:
        lines.append("worst confusions (gold -> predicted: count):")
        lines += [f"  {gold} -> {predicted}: {count}" for gold, predicted, count in report.confusions]
    return "\n".join(lines)


@click.command("eval")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of the table.")
@click.option("--worst", default=10, show_default=True, help="How many confusions to list.")
@click.pass_context
def eval_cmd(ctx: click.Context, file: TextIO, as_json: bool, worst: int) -> None:
    """Score the classifier on a labelled JSON Lines file (taxonomy.md format).

    Prints relevance precision/recall/F1 (kind not none), kind accuracy, category macro-F1 and the number
    of challenges called wins, overall and per language, then the most frequent confusions.

    \b
    Example:
      listener eval ../shared/eval/dev.jsonl
      listener eval ../shared/eval/dev.jsonl --json | jq .overall
    """
    rows = read_labelled(file)
    report = evaluate(_classifier(ctx), rows, worst=worst)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        click.echo(format_report(report))


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
    group.add_command(classify_cmd)
    group.add_command(eval_cmd)
