"""What real clients call first: who am I, what may I call, what time is it.

Pages: api-reference/common/users/profile.md (user.current: methods/user.py),
api-reference/common/system/{scope,methods,method-get,server-time,app-info}.md.
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce
from orderlink.auth import KNOWN_SCOPES
from orderlink.registry import Call, MethodTable

table = MethodTable(scope="basic", docs="api-reference/common/system/")


async def _user_names(call: Call) -> tuple[str, str]:
    user = await call.store.get_user(call.portal, call.principal.user_id)
    return (user.name, user.last_name) if user else ("", "")


@table.method("profile", doc="api-reference/common/users/profile.md")
async def profile(call: Call) -> Any:
    """The calling user: id, admin flag, name."""
    first, last = await _user_names(call)
    return {
        "ID": str(call.principal.user_id),
        "ADMIN": call.principal.is_admin,
        "NAME": first,
        "LAST_NAME": last,
        "PERSONAL_GENDER": "",
        "TIME_ZONE": "",
    }


@table.method("scope", page="scope.md")
async def scope(call: Call) -> Any:
    """Scopes granted to the caller, or with `full=true` every scope the portal has."""
    if coerce.to_flag(call.params.get("full")):
        return sorted(s for s in KNOWN_SCOPES if s != "basic")
    # Real portals never list `basic` (every application has it); b24phpsdk refuses an unknown
    # scope code "basic" in this answer.
    return sorted(s for s in call.principal.scopes if s != "basic")


def _available(call: Call, method_scope: str) -> bool:
    return call.principal.has_scope(method_scope)


@table.method("methods", page="methods.md")
async def methods(call: Call) -> Any:
    """Method names: the caller's (no parameters), all (`full`), or one scope's (`scope`)."""
    registry = call.ctx.registry
    if coerce.to_flag(call.params.get("full")):
        return [m.name.lower() for m in registry]
    wanted = call.params.get("scope")
    if isinstance(wanted, str):
        # methods.md: an empty `scope` lists the methods every application has.
        wanted = wanted.strip() or "basic"
        return [m.name.lower() for m in registry if m.scope == wanted]
    return [m.name.lower() for m in registry if _available(call, m.scope)]


@table.method("method.get", page="method-get.md")
async def method_get(call: Call) -> Any:
    """Whether a method exists, and whether the caller may call it."""
    name = call.params.get("name")
    found = call.ctx.registry.get(name) if isinstance(name, str) and name else None
    return {
        "isExisting": found is not None,
        "isAvailable": found is not None and _available(call, found.scope),
    }


@table.method("server.time", page="server-time.md")
async def server_time(call: Call) -> Any:
    """The server's time in the portal's zone."""
    return coerce.iso(call.ctx.clock.now(), call.ctx.zone)


@table.method("app.info", page="app-info.md")
async def app_info(call: Call) -> Any:
    """The calling application's card. Over a webhook real portals answer the portal's licence
    and the webhook's scopes (both official SDKs' real-portal tests read `SCOPE`, `LICENSE`)."""
    if call.principal.app_id is None:
        return {
            "SCOPE": sorted(s for s in call.principal.scopes if s != "basic"),
            "LICENSE": "en_selfhosted",
            "LICENSE_PREVIOUS": "en_selfhosted",
            "LICENSE_TYPE": "selfhosted",
            "LICENSE_FAMILY": "selfhosted",
            "INSTALLED": True,
        }
    install = await call.store.install_of(call.portal, call.principal.app_id)
    return {
        "ID": call.principal.app_id,
        "CODE": call.principal.client_id,
        "VERSION": 1,
        "STATUS": "L",  # a local application (app-info.md: STATUS L)
        "INSTALLED": bool(install and install.installed),
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": "en",
        "LICENSE": "en_selfhosted",
        "LICENSE_TYPE": "selfhosted",
        "LICENSE_FAMILY": "selfhosted",
    }
