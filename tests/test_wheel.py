"""The built wheel carries what an installed Listener needs: rules, phrasebook, templates, demo data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel with the project's backend (no network: hatchling is installed) and unpack it."""
    hatchling_build = pytest.importorskip("hatchling.build", reason="hatchling is needed to build the wheel")
    dist = tmp_path_factory.mktemp("dist")
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        name = hatchling_build.build_wheel(str(dist))
    finally:
        os.chdir(cwd)
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(dist / name) as wheel:
        wheel.extractall(target)
    return target


def test_wheel_contains_config_templates_and_demo_data(unpacked_wheel: Path) -> None:
    files = {p.relative_to(unpacked_wheel).as_posix() for p in unpacked_wheel.rglob("*") if p.is_file()}
    assert "listener/_config/listener.toml" in files
    assert any(f.startswith("listener/_config/rules/") for f in files)
    assert any(f.startswith("listener/_config/phrasebook/") for f in files)
    assert any(f.startswith("digests/templates/") for f in files)
    assert "listener/demo/data/demo.toml" in files
    assert any(f.startswith("listener/demo/data/feeds/") for f in files)
    assert "listener/db/migrations/env.py" in files
    assert not any("__pycache__" in f or f.startswith("tests/") for f in files)


@pytest.mark.slow
def test_demo_runs_from_the_installed_wheel(unpacked_wheel: Path, tmp_path: Path) -> None:
    """Run the demo with the wheel's code first on sys.path, from a folder far from the checkout."""
    env = {**os.environ, "PYTHONPATH": str(unpacked_wheel), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("LISTENER_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "listener", "demo", "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (
        str(unpacked_wheel)
        in subprocess.run(
            [sys.executable, "-c", "import listener, digests; print(listener.__file__, digests.__file__)"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert len(list((tmp_path / "out").glob("*.html"))) == 3
