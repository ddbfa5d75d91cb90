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


def vm_hwm_kib(pid: int) -> int:
    """The process's own peak resident set (VmHWM, KiB) since it last exec'd; 0 once it is gone.

    Unlike the ru_maxrss that wait4 returns, it does not carry over the parent's peak: Linux keeps the larger of
    the old and new memory's high-water mark across exec, so a child forked from a large test worker reports the
    worker's size there, however little it used itself.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
