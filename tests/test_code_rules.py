"""Rules of the codebase that a linter cannot check: doctests run, nothing happens at import."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGES = ["driftline", "collector", "detectors", "alerting", "dashboards"]
ROOT = Path(__file__).parents[1]


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if ".migrations" not in info.name:  # Alembic env scripts run when imported
                names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_importing_everything_creates_no_engine_and_no_files(tmp_path: Path) -> None:
    script = (
        "import sqlalchemy\n"
        "def refuse(*a, **k): raise SystemExit('create_engine called at import time')\n"
        "sqlalchemy.create_engine = refuse\n"
        "import importlib\n"
        f"for name in {_modules()!r}: importlib.import_module(name)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stderr
    assert list(tmp_path.iterdir()) == []
