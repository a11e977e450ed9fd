"""The method registry: every REST method orderlink answers, declared once with what guards it.

Each `methods/<namespace>.py` owns a `MethodTable`; `methods/__init__.py` merges them into one
`Registry`. Scope, store role and batch-ability are declared here and enforced only in `dispatch`.
A method switched on by a setting (`setting="legacy_invoices"`) is left out of the registry an app
serves when that setting is off (`Registry.enabled`), so it is unknown everywhere at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from orderlink import errors
from orderlink.coerce import UnixIso
from orderlink.principal import Principal, Role

__all__ = [
    "Call",
    "Context",
    "Handler",
    "Method",
    "MethodTable",
    "Page",
    "Principal",
    "Registry",
    "Role",
]

if TYPE_CHECKING:
    from orderlink.clock import Clock
    from orderlink.journal import Trace
    from orderlink.settings import Settings
    from orderlink.storage.base import Store


@dataclass(frozen=True, slots=True)
class Context:
    """What every handler may use besides its parameters: passed in, never global."""

    store: Store
    settings: Settings
    clock: Clock
    zone: tzinfo
    iso: UnixIso
    # The methods served, for introspection (`methods`, `method.get`).
    registry: Registry


class SubCall(Protocol):
    """Runs another method with the same caller: how `batch` runs its commands."""

    def __call__(self, name: str, params: dict[str, Any], *, started: float) -> Awaitable[Any]: ...


@dataclass(slots=True)
class Call:
    method: Method
    params: dict[str, Any]
    principal: Principal
    ctx: Context
    run: SubCall | None = None
    # What the journal records of this call (journal.py); None when it records nothing.
    trace: Trace | None = None

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def portal(self) -> int:
        return self.principal.portal_id


@dataclass(frozen=True, slots=True)
class Page:
    """A list method's answer: `result`, `total`, and `next` only when more rows remain."""

    result: Any
    total: int
    next: int | None = None


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    handler: Handler
    scope: str
    doc: str
    role: Role = Role.NONE
    denied: type[errors.B24Error] = errors.ReadAccessDenied
    batchable: bool = True
    # The page prints digit error codes as JSON numbers (sale.order.*), not strings.
    numeric_codes: bool = False
    # Names the method also answers to (b24pysdk's typed API calls `crm.orderentity.Fields`).
    aliases: tuple[str, ...] = ()
    # Counted against the operating-time limit (limits.md: the outer `batch` call is not).
    charged: bool = True
    summary: str = ""
    # A boolean `Settings` field that must be on for the method to exist (`legacy_invoices`).
    setting: str | None = None


@dataclass
class MethodTable:
    """One namespace's methods; `@table.method(...)` registers a handler. `scope` and `docs`
    (the folder of the namespace's pages) are said once, for every method: a method names its
    `page` in that folder, or its whole `doc` path and its `scope` where they differ."""

    scope: str = ""
    docs: str = ""
    methods: list[Method] = field(default_factory=list)

    def method(
        self,
        name: str,
        *,
        page: str = "",
        doc: str = "",
        scope: str = "",
        role: Role = Role.NONE,
        denied: type[errors.B24Error] = errors.ReadAccessDenied,
        batchable: bool = True,
        numeric_codes: bool = False,
        aliases: tuple[str, ...] = (),
        charged: bool = True,
        setting: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            summary = (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else ""
            self.methods.append(
                Method(
                    name=name,
                    handler=handler,
                    scope=scope or self.scope,
                    doc=doc or self.docs + page,
                    role=role,
                    denied=denied,
                    batchable=batchable,
                    numeric_codes=numeric_codes,
                    aliases=aliases,
                    charged=charged,
                    summary=summary,
                    setting=setting,
                )
            )
            return handler

        return register


# How alike an unknown name and a served one must be to suggest it (difflib's ratio): a typo or
# two (`crm.dael.list`, `crm.deal.lst`), not just a shared namespace (`crm.orderentity.explode`).
NEAR_MISS = 0.85


class Registry:
    """All methods by lower-cased name: method names are case-insensitive (protocol.md 1)."""

    def __init__(self, *tables: MethodTable) -> None:
        self._by_name: dict[str, Method] = {}
        self._methods: list[Method] = []
        for table in tables:
            for method in table.methods:
                self._methods.append(method)
                for name in (method.name, *method.aliases):
                    key = name.lower()
                    if key in self._by_name:
                        raise ValueError(f"method {name!r} is registered twice")
                    self._by_name[key] = method

    def enabled(self, settings: Settings) -> Registry:
        """The methods these settings serve: one whose `setting` is off is left out, so dispatch,
        `batch`, `methods` and `method.get` all answer for it as for an unknown name."""
        on = [m for m in self._methods if m.setting is None or getattr(settings, m.setting)]
        return Registry(MethodTable(methods=on))

    def lookup(self, name: str) -> Method:
        method = self._by_name.get(name.lower())
        if method is None:
            raise errors.MethodNotFound(suggestion=self.nearest(name))
        return method

    def nearest(self, name: str) -> str:
        """The served name closest to an unknown one (`crm.orderentity.deletebyfiltr` ->
        `crm.orderentity.deleteByFilter`), or "" when none is close."""
        if not name or len(name) > 100:
            return ""
        wanted = name.lower()
        found = difflib.get_close_matches(wanted, self._by_name, n=1, cutoff=NEAR_MISS)
        return self._by_name[found[0]].name if found else ""

    def get(self, name: str) -> Method | None:
        return self._by_name.get(name.lower())

    def __iter__(self) -> Iterator[Method]:
        return iter(sorted(self._methods, key=lambda m: m.name.lower()))

    def __len__(self) -> int:
        return len(self._methods)
