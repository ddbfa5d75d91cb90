"""CLI commands: `listener classify` (JSON Lines in, insights out), `listener eval` (metrics on a labelled file) and
`listener model train` (rebuild the second opinion's weights from the labelled files).

None touches the database: they need only the settings (relevance.rules_dir, min_score, second_opinion).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

import click

from listener.errors import BadInput
from listener.relevance import Classifier, RuleClassifier, classify_many, load_classifier
from listener.relevance.evaluate import Metrics, Report, evaluate, post_from_record, read_labelled, read_records
from listener.settings import Settings


def _settings(ctx: click.Context) -> Settings | None:
    app = ctx.find_root().obj
    return getattr(app, "settings", None)


def _classifier(ctx: click.Context, rules_only: bool = False) -> Classifier:
    settings = _settings(ctx)
    wanted = settings.relevance.second_opinion if settings is not None else True
    return load_classifier(settings, second_opinion=wanted and not rules_only)


_RULES_ONLY = click.option(
    "--rules-only",
    is_flag=True,
    help="Rules alone, without the learned second opinion (as relevance.second_opinion = false).",
)


def classify_stream(classifier: Classifier, stream: TextIO) -> list[dict[str, Any]]:
    """Classify every line of `stream`; the whole input is checked before anything is written."""
    posts = [post_from_record(record, line_no) for line_no, record in read_records(stream)]
    out = []
    for post, insight in zip(posts, classify_many(classifier, posts), strict=True):
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
@_RULES_ONLY
@click.pass_context
def classify_cmd(ctx: click.Context, file: TextIO, rules_only: bool) -> None:
    """Classify posts: JSON Lines in (id, title, text, optional source, lang), JSON Lines out in input order.

    Each output line has id, kind, category, score, lang, evidence and facts. Where the rules are unsure, the
    learned model gives a second opinion; facts.unsure then says why the filter is not sure. A bad line stops the
    run with exit code 2 and its line number; nothing is printed for a bad file.

    \b
    Example:
      echo '{"id": "1", "title": "", "text": "We raised a $20M Series B!"}' | listener classify
    """
    results = classify_stream(_classifier(ctx, rules_only), file)
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
@click.option("--calibration", is_flag=True, help="Also the reliability table: score bins, count, kind accuracy.")
@_RULES_ONLY
@click.pass_context
def eval_cmd(ctx: click.Context, file: TextIO, as_json: bool, worst: int, calibration: bool, rules_only: bool) -> None:
    """Score the classifier on a labelled JSON Lines file (taxonomy.md format).

    Prints relevance precision/recall/F1 (kind not none), kind accuracy, category macro-F1 and the number
    of challenges called wins, overall and per language, then the most frequent confusions.

    \b
    Example:
      listener eval ../shared/eval/dev.jsonl
      listener eval ../shared/eval/dev.jsonl --json | jq .overall
      listener eval ../shared/eval/dev.jsonl --calibration --rules-only
    """
    rows = read_labelled(file)
    classifier = _classifier(ctx, rules_only)
    report = evaluate(classifier, rows, worst=worst)
    consulted = getattr(classifier, "consulted", None)
    table = _reliability(classifier, rows) if calibration else None
    if as_json:
        data = report.as_dict()
        if consulted is not None:
            data["second_opinion_consulted"] = consulted
        if table is not None:
            data["reliability"] = [b.__dict__ for b in table]
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(format_report(report))
    if consulted is not None:
        click.echo(f"second opinion: the model was consulted on {consulted} of {len(rows)} posts")
    if table is not None:
        from listener.relevance.calibration import format_table

        click.echo("reliability of the relevant insights' scores (is the kind right?):")
        click.echo(format_table(table))


def _reliability(classifier: Classifier, rows: list[Any]) -> list[Any]:
    from listener.relevance.calibration import reliability

    insights = classify_many(classifier, [row.post for row in rows])
    pairs = [(i.score, i.kind.value == row.kind) for i, row in zip(insights, rows, strict=True) if i.relevant]
    return reliability([s for s, _ in pairs], [r for _, r in pairs])


def _default_data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "tests" / "data" / "relevance"


@click.group("model")
def model_group() -> None:
    """The learned second opinion's weights (config/model/second_opinion.npz)."""


@model_group.command("train")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The labelled folder (default: the checkout's tests/data/relevance; real/dev.jsonl is included, "
                   "real/blind.jsonl never).")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the weights (default: the shipped config/model/second_opinion.npz).")  # fmt: skip
@click.option("--check", is_flag=True, help="Only say whether the shipped weights match the data (exit 1 if stale).")
@click.option(
    "--no-cache", is_flag=True, help="Embed every post again (default: reuse ~/.cache/listener/embeddings*.npz)."
)
@click.pass_context
def train_cmd(ctx: click.Context, data_dir: Path | None, out: Path | None, check: bool, no_cache: bool) -> None:
    """Rebuild the second opinion from the labelled files: embeddings, logistic regression, calibration.

    Deterministic: the same files give the same weights. Takes about a minute (the encoder embeds ~20 posts a
    second a core) and needs scikit-learn (pip install 'listener[train]'). Prints the cross-validated
    reliability table of the combined score.

    \b
    Example:
      listener model train
      listener model train --check
    """
    from listener.relevance.learned import data_hash, load_weights, model_path, rules_hash
    from listener.relevance.training import read_rows, training_files

    data_dir = data_dir or _default_data_dir()
    if not data_dir.is_dir():
        raise BadInput(f"{data_dir}: no such folder; pass --data with the folder of labelled *.jsonl files")
    files = training_files(data_dir)
    target = out or model_path()
    if check:
        current = data_hash(files)
        weights = load_weights(target)
        if current != weights.data_hash:
            click.echo(f"stale: {target} was trained on data {weights.data_hash[:12]}, the files are now "
                       f"{current[:12]}; run `listener model train`")  # fmt: skip
            ctx.exit(1)
        rules = load_classifier(_settings(ctx))
        rows, _ = read_rows(files)
        verdicts = rules_hash([rules.classify(row.post) for row in rows])
        if verdicts != weights.rules_hash:
            click.echo(f"stale: the rules' verdicts on the labelled posts changed since {target} was trained "
                       "(the model reads them); run `listener model train`")  # fmt: skip
            ctx.exit(1)
        click.echo(f"up to date: {target} was trained on these {len(files)} files ({current[:12]}) and these rules")
        return
    _train(ctx, files, target, cache=None if no_cache else _cache_dir() / "embeddings.npz")


@model_group.command("cv")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The labelled folder (default: the checkout's tests/data/relevance); its real/dev.jsonl is "
                   "cross-validated, the other files only ever train.")  # fmt: skip
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20), help="How many folds.")
@click.option(
    "--no-cache", is_flag=True, help="Embed every post again (default: reuse ~/.cache/listener/embeddings*.npz)."
)
@click.pass_context
def cv_cmd(ctx: click.Context, data_dir: Path | None, folds: int, no_cache: bool) -> None:
    """The honest figure: the whole classifier, out of fold, on the real posts (real/dev.jsonl).

    Posts from the same source and near-duplicates stay in one fold; for each fold the model, the combination and
    its calibrator are fitted as `listener model train` fits them, on the written sets and the other folds, and
    the fold is classified by the rules plus that second opinion. Prints kind accuracy, category macro-F1,
    relevance F1 and challenges called wins (rules alone -> combined), by language, and the reliability table of
    the out-of-fold scores. Writes nothing but the embedding cache. Needs scikit-learn, like training.

    \b
    Example:
      listener model cv
      listener model cv --data tests/data/relevance --folds 10
    """
    from listener.relevance.crossval import cross_validate, format_cross_validation
    from listener.relevance.learned import CachedEncoder, Encoder
    from listener.relevance.training import read_rows, training_files

    _need_sklearn()
    data_dir = data_dir or _default_data_dir()
    if not data_dir.is_dir():
        raise BadInput(f"{data_dir}: no such folder; pass --data with the folder of labelled *.jsonl files")
    files = training_files(data_dir)
    rows, origins = read_rows(files)
    rules = load_classifier(_settings(ctx))
    assert isinstance(rules, RuleClassifier)
    encoder = Encoder() if no_cache else CachedEncoder(_cache_dir() / "embeddings.npz")
    embeddings = encoder.embed_posts([row.post for row in rows])
    latents = encoder.latents_of_posts([row.post for row in rows])
    click.echo(format_cross_validation(cross_validate(rules, rows, origins, embeddings, latents, folds)))


def _need_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise BadInput("training needs scikit-learn: pip install 'listener[train]'") from None


def _cache_dir() -> Path:
    import os

    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "listener"


def _train(ctx: click.Context, files: list[Path], target: Path, cache: Path | None) -> None:
    _need_sklearn()
    from listener.relevance.calibration import calibrate, calibration_rows
    from listener.relevance.learned import CachedEncoder, Encoder
    from listener.relevance.training import train

    rules = load_classifier(_settings(ctx))
    assert isinstance(rules, RuleClassifier)
    encoder = CachedEncoder(cache) if cache is not None else Encoder()
    trained = train(
        files,
        encoder,
        lambda row: rules.classify(row.post),
        calibrate=lambda rows, origins, x, insights: calibrate(rules, rows, origins, x, insights),
    )
    trained.weights.save(target)
    data = trained.weights.data_hash[:12]
    click.echo(f"wrote {target}: {len(trained.rows)} posts from {len(files)} files, data {data}")
    use = calibration_rows(trained.origins)
    click.echo(f"calibrated on {int(use.sum())} posts ({'the real ones' if not use.all() else 'all'}); the model's "
               f"win stands below a challenge probability of {trained.weights.challenge_guard:g}; sure from a score "
               f"of {trained.weights.sure_score:g}")  # fmt: skip
    click.echo("the honest figure (everything refitted without the posts it judges): listener model cv")


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
    group.add_command(classify_cmd)
    group.add_command(eval_cmd)
    group.add_command(model_group)
