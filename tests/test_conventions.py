"""Conventions every method and module keeps (STYLE.md), pinned so they cannot drift."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from orderlink.catalog import methods_markdown
from orderlink.methods import build_registry
from orderlink.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "orderlink"


def test_docs_methods_md_is_in_sync_with_the_registry() -> None:
    expected = methods_markdown(build_registry())
    actual = (ROOT / "docs" / "methods.md").read_text()
    assert actual == expected, "regenerate with: orderlink methods > docs/methods.md"


def test_every_method_names_its_scope_doc_page_and_summary() -> None:
    for method in build_registry():
        assert method.scope in {"crm", "sale", "user", "basic"}, method.name
        assert re.fullmatch(r"[a-z0-9_\-/.]+\.md", method.doc), method.name
        assert method.summary, f"{method.name}: handler docstring needs a one-line summary"


def test_a_method_switched_by_a_setting_names_a_boolean_setting() -> None:
    flags = {f.name for f in dataclasses.fields(Settings) if f.type == "bool"}
    switched = [m for m in build_registry() if m.setting is not None]
    assert {m.name for m in switched} >= {"crm.invoice.add", "crm.invoice.fields"}
    for method in switched:
        assert method.setting in flags, method.name


def test_methods_never_import_the_http_layer() -> None:
    for path in (SRC / "methods").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("orderlink.app", "uvicorn", "httpx")), path


def test_storage_never_raises_protocol_errors() -> None:
    for path in (SRC / "storage").rglob("*.py"):
        assert "orderlink.errors" not in path.read_text(), path


def test_settings_are_read_from_the_environment_in_one_place() -> None:
    reads = re.compile(r"os\.environ\.get|os\.environ\[|os\.getenv|environ\.get\(|= os\.environ")
    readers = [path.name for path in SRC.rglob("*.py") if reads.search(path.read_text())]
    assert readers == ["settings.py"]


def test_no_grab_bag_modules() -> None:
    names = {path.stem for path in SRC.rglob("*.py")}
    assert not names & {"utils", "helpers", "common", "misc"}
