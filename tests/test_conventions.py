"""Conventions every method and module keeps (STYLE.md), pinned so they cannot drift."""

from __future__ import annotations

import ast
import dataclasses
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from orderlink.auth import KNOWN_SCOPES
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
        assert method.scope in KNOWN_SCOPES, method.name
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


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {name for name in found if name.startswith("orderlink")}


# docs/architecture.md: imports only go down. Each place, and what it must never import.
LAYERS = {
    "storage": ("orderlink.app", "orderlink.dispatch", "orderlink.registry", "orderlink.methods",
                "orderlink.families", "orderlink.rules", "orderlink.records", "orderlink.auth"),
    # Rules see rows as plain dicts (`storage.base.Row`) and days and JSON columns
    # (`records.days`, `records.values`), never a wire format, a store or a protocol error.
    "rules": ("orderlink.app", "orderlink.dispatch", "orderlink.registry", "orderlink.methods",
              "orderlink.families", "orderlink.records.projection", "orderlink.records.reading",
              "orderlink.storage.sqlite", "orderlink.storage.postgres", "orderlink.storage.core",
              "orderlink.errors", "orderlink.params", "orderlink.listing"),
    "families": ("orderlink.app", "orderlink.dispatch", "orderlink.methods"),
    "records": ("orderlink.app", "orderlink.dispatch", "orderlink.methods", "orderlink.families"),
    "methods": ("orderlink.app", "orderlink.dispatch"),
}  # fmt: skip


@pytest.mark.parametrize("place", sorted(LAYERS))
def test_imports_only_go_down(place: str) -> None:
    """Rules know no wire format and no store; the store knows no protocol; nothing below the
    HTTP layer imports it."""
    for path in (SRC / place).rglob("*.py"):
        wrong = {name for name in _imports(path) if name.startswith(LAYERS[place])}
        assert not wrong, f"{path.relative_to(SRC)} imports {sorted(wrong)}"


def test_principal_sits_below_auth_and_registry() -> None:
    assert "orderlink.auth" not in _imports(SRC / "registry.py")
    assert not {n for n in _imports(SRC / "principal.py")}


def test_settings_are_read_from_the_environment_in_one_place() -> None:
    reads = re.compile(r"os\.environ\.get|os\.environ\[|os\.getenv|environ\.get\(|= os\.environ")
    readers = [path.name for path in SRC.rglob("*.py") if reads.search(path.read_text())]
    # The pytest plugin is configured by the test run's environment (ORDERLINK_URL), not by
    # the server's: it never builds Settings.
    assert sorted(readers) == ["pytest_plugin.py", "settings.py"]


def test_no_grab_bag_modules() -> None:
    names = {path.stem for path in SRC.rglob("*.py")}
    assert not names & {"utils", "helpers", "common", "misc"}


def _distributions(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_every_third_party_import_is_a_declared_runtime_dependency() -> None:
    """The README's first command is a plain `pip install -e .`: every package the server
    imports, lazily or not, must come with it or with a runtime extra (`postgres`, `redis`),
    never only with the test extras (event delivery's httpx once did, and a fresh install
    failed at startup while CI, which installs `[test]`, stayed green)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _distributions(project["dependencies"])
    for extra, requirements in project["optional-dependencies"].items():
        if extra != "test":
            runtime |= _distributions(requirements)
    owners = importlib.metadata.packages_distributions()
    imported: dict[str, Path] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top != "orderlink" and top not in sys.stdlib_module_names:
                    imported.setdefault(top, path)
    assert {"uvicorn", "orjson", "httpx", "asyncpg", "redis"} <= set(imported)
    for module, path in imported.items():
        distributions = {d.lower() for d in owners.get(module, [module])}
        assert distributions & runtime, (
            f"{module} (imported by {path.name}) is not a runtime dependency"
        )


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",)],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_the_tree_is_lint_and_type_clean(command: tuple[str, ...]) -> None:
    """STYLE.md's bar (ruff + strict mypy over src, bench and tests), held by CI itself."""
    done = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dashboard_reads_only_the_admin_api() -> None:
    """docs/dashboard.md: the pages have no second way to the data. Only ui/api.js fetches, and
    only below /_orderlink/api; no page script loads anything from another site."""
    scripts = sorted((SRC / "ui").glob("*.js"))
    assert scripts
    for path in scripts:
        text = path.read_text()
        if path.name != "api.js":
            assert "fetch(" not in text, path.name
            assert "XMLHttpRequest" not in text, path.name
        assert not re.search(r"""["'`](?:https?:)?//""", text), path.name
    api = (SRC / "ui" / "api.js").read_text()
    assert api.count("fetch(") == 1
    assert 'const BASE = "/_orderlink/api";' in api
