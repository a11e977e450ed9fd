"""The published list of methods orderlink serves (docs/methods.md), generated from the registry."""

from __future__ import annotations

from orderlink.principal import IMPLIED
from orderlink.registry import Registry, Role

DOCS_BASE = "https://github.com/bitrix24/b24restdocs/blob/main/"

_ROLE = {
    Role.NONE: "any user",
    Role.STORE_MANAGER: "store manager",
    Role.STORE_ADMIN: "store admin",
}


def methods_markdown(registry: Registry) -> str:
    lines = [
        "# Methods orderlink serves",
        "",
        "Generated from the method registry by `orderlink methods`; a test keeps this file in "
        "sync. Method names are case-insensitive; every method answers GET and POST, JSON, form "
        "and multipart bodies.",
        "",
        "| method | scope | who may call | in batch | docs page | summary |",
        "|---|---|---|---|---|---|",
    ]
    for method in registry:
        names = f"`{method.name}`" + "".join(f" (also `{a}`)" for a in method.aliases)
        if method.setting is not None:
            # settings.py: every field has the flag `--<field-with-dashes>`.
            names += f" (with `--{method.setting.replace('_', '-')}`)"
        lines.append(
            f"| {names} | {_scopes(method.scope)} | {_ROLE[method.role]} | "
            f"{'yes' if method.batchable else 'no'} | [{method.doc}]({DOCS_BASE}{method.doc}) | "
            f"{method.summary} |"
        )
    lines.append("")
    lines.append(f"{len(registry)} methods.")
    lines.append("")
    return "\n".join(lines)


def _scopes(scope: str) -> str:
    """The scope a method declares and the wider ones that include it (`user_brief`)."""
    wider = sorted(IMPLIED.get(scope, frozenset()))
    return ", ".join(f"`{name}`" for name in (*wider, scope))
