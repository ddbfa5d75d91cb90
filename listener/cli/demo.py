"""`listener demo`: the whole pipeline offline on bundled sample data."""

from __future__ import annotations

from pathlib import Path

import click

from listener.cli.app import App


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="demo-out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the digests (HTML and plain text, one pair per rep).",
)
@click.pass_obj
def demo_command(app: App, out_dir: Path) -> None:
    """Run Listener end to end on bundled sample data, offline, in a temporary database.

    Three fictional reps and their customers; the customers' feeds (and a fake X and Reddit) are served
    on 127.0.0.1, ingested through the real path, classified, and each rep's digest is written to --out.
    Your own database is not touched.

    \b
    Example:
      listener demo --out /tmp/demo && xdg-open /tmp/demo/*.html
    """
    from listener.demo.runner import run_demo  # imported here: the demo pulls in every stage

    run_demo(out_dir, base_settings=app.settings, say=click.echo)


def register(group: click.Group) -> None:
    """Add demo to the top-level group."""
    group.add_command(demo_command)
