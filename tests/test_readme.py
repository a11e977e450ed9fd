"""Issue 12, point 16: every example in README.md works on its own, run twice, and in any order,
against a fresh server started as the quick start starts it (`orderlink serve --seed-examples`).

The examples are read out of README.md itself, so an edited example is tested as written. Only
the addresses change: the README's sample webhook URL becomes the server's real one, and its
ports (8080 for the quick-start server, 8081 for an example that starts its own, 8082 for the
proxy one starts beside it) become free ones. A block marked `<!-- readme-test: skip (why) -->`
is not run; the marks are counted, so a new example cannot slip out of the test unnoticed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .live import LiveServer, free_port, start_server

README = Path(__file__).resolve().parent.parent / "README.md"
SAMPLE_WEBHOOK = "http://127.0.0.1:8080/rest/1/k3x9q2m7a1b4c8d0/"
_BLOCK = re.compile(
    r"(?P<mark><!-- readme-test: skip [^>]*-->\n)?```(?P<lang>bash|python)\n(?P<body>.*?)```",
    re.S,
)


@dataclass(frozen=True)
class Example:
    line: int
    lang: str
    body: str

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.lang})"


def _blocks() -> tuple[list[Example], int]:
    text = README.read_text("utf-8")
    runnable, skipped = [], 0
    for found in _BLOCK.finditer(text):
        if found.group("mark"):
            skipped += 1
            continue
        line = text.count("\n", 0, found.start("body"))
        runnable.append(Example(line, found.group("lang"), found.group("body")))
    return runnable, skipped


EXAMPLES, SKIPPED = _blocks()


def test_every_example_is_run_or_marked_with_a_reason() -> None:
    # The two set-up commands of the quick start and the production template are the skips.
    assert SKIPPED == 3
    assert len(EXAMPLES) >= 5
    assert any(SAMPLE_WEBHOOK in e.body for e in EXAMPLES)


@pytest.fixture
def quick_start(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "orderlink.db", "--seed-examples")
    try:
        yield server
    finally:
        server.stop()


def run(example: Example, server: LiveServer, cwd: Path) -> str:
    """Run one example as a reader would, in the quick start's directory and environment."""
    body = example.body.replace(SAMPLE_WEBHOOK, server.webhook_url)
    body = body.replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
    body = body.replace("8081", str(free_port())).replace("8082", str(free_port()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINK_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = ["bash", "-euo", "pipefail", "-c", body]
    if example.lang == "python":
        command = [sys.executable, "-c", body]
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    shown = f"{example} answered:\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    # curl does not fail on an error answer: a Bitrix24 error body would show here.
    assert '"error"' not in done.stdout, shown
    return done.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_each_example_works_on_its_own_and_twice(
    example: Example, quick_start: LiveServer, tmp_path: Path
) -> None:
    first = run(example, quick_start, tmp_path)
    second = run(example, quick_start, tmp_path)
    if "fast_bitrix24" in example.body:
        assert first == second  # it leaves the bindings as it found them


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_the_examples_work_one_after_another(
    order: str, quick_start: LiveServer, tmp_path: Path
) -> None:
    for example in EXAMPLES if order == "forward" else EXAMPLES[::-1]:
        run(example, quick_start, tmp_path)
