"""A process's descendants, read from /proc (Linux): for the memory and CPU samplers of tests and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path


def descendants(root: int) -> list[int]:
    """The ids of every live process below `root` (children, their children, ...), from each process's parent id."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:  # ended meanwhile
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])  # after the command name, which may hold ")"
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found
