"""event.bind, event.unbind, event.get, events: an application's event handlers.

Pages: api-reference/events/{event-bind,event-unbind,event-get,events}.md. All four work only
with application authorization; a webhook gets 403 WRONG_AUTH_TYPE (docs/decisions.md).
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce, destinations, errors
from orderlink.events import CATALOG
from orderlink.registry import Call, MethodTable

table = MethodTable(scope="basic", docs="api-reference/events/")


def _app(call: Call) -> int:
    if call.principal.app_id is None:
        raise errors.WrongAuthType()
    return call.principal.app_id


def _event(call: Call) -> str:
    name = call.params.get("event")
    event = name.strip().upper() if isinstance(name, str) else ""
    scope = CATALOG.get(event)
    if scope is None or not call.principal.has_scope(scope):
        raise errors.EventNotFound()
    return event


def _handler(call: Call, *, checked: bool = True) -> str:
    """`handler`, and for event.bind, a destination deliveries may reach: the rest module's
    handler check answers ERROR_WRONG_HANDLER_URL "Wrong handler URL" (no host) or
    ERROR_UNSUPPORTED_PROTOCOL (not http/https), destinations.py adds what orderlink refuses.
    event.unbind takes any handler as stored, so one bound before a rule can still be removed."""
    handler = call.params.get("handler")
    if not isinstance(handler, str) or not handler.strip():
        raise errors.ArgumentError("Handler URL is required: handler=https://...")
    handler = handler.strip()
    if not checked:
        return handler
    if destinations.unsupported_scheme(handler):
        raise errors.UnsupportedProtocol()
    problem = destinations.refusal(handler, call.ctx.settings)
    if problem:
        raise errors.WrongHandlerUrl(problem)
    return handler


def _auth_type(call: Call, verb: str) -> int:
    """`auth_type`: the user whose token the handler gets; a non-admin may name only itself.

    0 (the default) means the user who caused the event, for an administrator's handler only:
    "for a user without admin rights, events are set on behalf of the current user"
    (api-reference/events/event-bind.md), so a non-admin's handler always gets its binder's
    own token and never the token of an administrator who changed a deal."""
    value = coerce.to_int(call.params.get("auth_type")) or 0
    if value and value != call.principal.user_id and not call.principal.is_admin:
        raise errors.EventAccessDenied(
            f"Access denied! Event {verb} with AUTH_TYPE requires administrator access rights"
        )
    if value <= 0 and not call.principal.is_admin:
        return call.principal.user_id
    return max(value, 0)


def _offline(call: Call, verb: str) -> bool:
    offline = str(call.params.get("event_type") or "online").lower() == "offline"
    if offline and not call.principal.is_admin:
        raise errors.EventAccessDenied(
            f"Access denied! Offline events {verb} requires administrator access rights"
        )
    return offline


@table.method("event.bind", page="event-bind.md")
async def bind(call: Call) -> Any:
    """Register a handler URL for an event."""
    app_id = _app(call)
    event, handler = _event(call), _handler(call)
    created = await call.store.bind_handler(
        call.portal,
        app_id,
        event,
        handler,
        auth_type=_auth_type(call, "binding"),
        offline=_offline(call, "binding"),
        user_id=call.principal.user_id,
        now=call.ctx.clock.now(),
    )
    if created is None:
        raise errors.HandlerAlreadyExists()
    return True


@table.method("event.unbind", page="event-unbind.md")
async def unbind(call: Call) -> Any:
    """Remove a handler; answers how many were removed."""
    app_id = _app(call)
    event, handler = _event(call), _handler(call, checked=False)
    _offline(call, "unbinding")
    raw = call.params.get("auth_type")
    auth_type = None if raw is None else _auth_type(call, "unbinding")
    count = await call.store.unbind_handlers(call.portal, app_id, event, handler, auth_type)
    return {"count": count}


@table.method("event.get", page="event-get.md")
async def get(call: Call) -> Any:
    """The application's handlers."""
    app_id = _app(call)
    return [
        {
            "event": h.event,
            "handler": h.handler,
            "auth_type": str(h.auth_type),
            "offline": int(h.offline),
        }
        for h in await call.store.handlers(call.portal, app_id)
    ]


@table.method("events", page="events.md")
async def events(call: Call) -> Any:
    """Event names available to the application (`SCOPE` filters, `FULL` lists all)."""
    _app(call)
    params = {k.upper(): v for k, v in call.params.items()}
    if coerce.to_flag(params.get("FULL")):
        return list(CATALOG)
    wanted = params.get("SCOPE")
    if isinstance(wanted, str) and wanted:
        return [name for name, scope in CATALOG.items() if scope == wanted.lower()]
    return [name for name, scope in CATALOG.items() if call.principal.has_scope(scope)]
