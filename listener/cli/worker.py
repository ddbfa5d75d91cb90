"""`listener worker`: the long-running process for systemd or a container (see listener/worker.py)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from listener.cli.app import App


@click.command("worker")
@click.option("--once", is_flag=True, help="One cycle (ingest, then digests) and exit; for tests and cron.")
@click.pass_obj
def worker(app: App, once: bool) -> None:
    """Ingest when sources are due and send digests when reps are due, until stopped (SIGTERM or Ctrl-C).

    Run one or more on any number of hosts against one PostgreSQL: they share the due sources and the due
    digests, and none is polled or sent twice. SIGTERM stops it gracefully: polls in flight finish and are
    stored, claimed sources not started yet are given back, the digest in hand is finished.

    \b
    Example:
      LISTENER_DB=postgresql+psycopg://listener@db/listener listener worker
    """
    from listener.worker import run_worker

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        click.echo(f"{signal.Signals(signum).name}: finishing the polls in flight, then stopping", err=True)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    totals = run_worker(app.sessions(), app.settings, stop, once=once)
    click.echo(totals.summary())


def register(group: click.Group) -> None:
    """Add `worker` to the top-level group."""
    group.add_command(worker)
