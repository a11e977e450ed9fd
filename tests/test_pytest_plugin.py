"""The pytest plugin as an integrator uses it: tests/plugin_project is a small test project
whose tests each get their own portal; it runs here in a subprocess under pytest-xdist with 2
workers (each worker starts a server of its own)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).parent / "plugin_project"

pytestmark = pytest.mark.live


def test_the_example_project_passes_under_xdist() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERLINK_", "COV_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", str(PROJECT)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\b10 passed\b", summary), summary


def test_the_example_project_passes_in_this_process() -> None:
    """The same project through `pytest.main` in this process (no xdist), so the plugin's own
    code is measured by this run's coverage as well (a subprocess's is not)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = pytest.main(
            ["-q", "-p", "no:cacheprovider", "-p", "no:cov", "-p", "no:xdist", "-c",
             str(PROJECT / "pytest.ini"), "--rootdir", str(PROJECT), str(PROJECT)]
        )  # fmt: skip
    assert code == 0, out.getvalue()[-4000:]
    assert re.search(r"\b10 passed\b", out.getvalue()), out.getvalue()[-2000:]
