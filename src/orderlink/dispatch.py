"""One call of one method, for HTTP and for each `batch` command alike.

faults (faults.py) -> lookup (case-insensitive) -> batch-ability -> scope -> operating-time limit
-> store role -> handler -> `time` block. The order follows auth.md section 4 (the docs give
none); the credential, HTTPS and the request-rate limit are the HTTP layer's, before this. What
is decided is noted on the call's journal trace (journal.py), when it has one. The handler is
charged its own execution: the time its store calls waited for their turn (storage/waiting.py)
is left out of `processing` and `operating`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from orderlink import errors
from orderlink.failures import to_wire
from orderlink.faults import Faults
from orderlink.journal import Trace
from orderlink.limits import Limits, LimitsUnavailable
from orderlink.principal import Principal, Role
from orderlink.registry import Call, Context, Page, Registry
from orderlink.storage import waiting

log = logging.getLogger("orderlink")


@dataclass(frozen=True, slots=True)
class Reply:
    result: Any
    time: dict[str, Any]
    total: int | None = None
    next: int | None = None


class Dispatcher:
    def __init__(
        self,
        registry: Registry,
        ctx: Context,
        limits: Limits,
        *,
        operating_limit: float,
        costs: dict[str, float],
        faults: Faults | None = None,
    ) -> None:
        self.registry = registry
        self.ctx = ctx
        self.limits = limits
        self.operating_limit = operating_limit
        self.costs = costs
        self.faults = faults

    async def call(
        self,
        name: str,
        params: dict[str, Any],
        principal: Principal,
        *,
        started: float | None = None,
        in_batch: bool = False,
        trace: Trace | None = None,
    ) -> Reply:
        """Run `name`; raise a B24Error for anything a client should see as an error."""
        clock = self.ctx.clock
        start = clock.now() if started is None else started
        if self.faults is not None:
            await self.faults.before(principal.portal_id, name, in_batch=in_batch, trace=trace)
        try:
            method = self.registry.lookup(name)
        except errors.MethodNotFound as exc:
            if trace is not None and exc.suggestion:
                trace.missed(exc.suggestion)
            raise
        if in_batch and not method.batchable:
            raise errors.BatchMethodNotAllowed()
        granted = principal.has_scope(method.scope)
        if trace is not None:
            trace.note("scope", {"needs": method.scope, "granted": granted})
        if not granted:
            # settings/how-to-call-rest-api/batch.md prints this code with an empty
            # description inside `result_error`.
            if in_batch:
                raise errors.InsufficientScope("")
            if principal.kind == "oauth":
                raise errors.InsufficientScope(
                    "The request requires higher privileges than provided by the access token"
                )
            raise errors.InsufficientScope()
        key = f"{principal.credential}|{method.name.lower()}"
        if method.charged and self.operating_limit > 0:
            try:
                spent, _ = await self.limits.operating(key)
            except LimitsUnavailable as exc:
                raise to_wire(exc, method.name) from None  # inside a batch, that command's error
            if trace is not None:
                trace.note("operating", {"spent": round(spent, 6), "limit": self.operating_limit,
                                         "refused": spent > self.operating_limit})  # fmt: skip
            if spent > self.operating_limit:
                raise errors.OperationTimeLimit()

        async def run(name: str, params: dict[str, Any], *, started: float) -> Reply:
            return await self.call(
                name, params, principal, started=started, in_batch=True, trace=trace
            )

        try:
            if method.role > Role.NONE and trace is not None:
                trace.note("role", {"needs": method.role.label, "has": principal.role.label,
                                    "granted": principal.role >= method.role})  # fmt: skip
            if principal.role < method.role:
                raise method.denied()
            # Charged: the method's own execution, without its waits for a pooled connection
            # or another batch's transaction (limits.md; docs/decisions.md, issue 12 point 25).
            with waiting.metered(clock.monotonic) as meter:
                begun = clock.monotonic()
                value = await method.handler(Call(method, params, principal, self.ctx, run, trace))
                processing = max(clock.monotonic() - begun - meter.waited, 0.0)
        except errors.B24Error as exc:
            exc.numeric = method.numeric_codes
            raise
        except Exception as exc:
            wire = to_wire(exc, method.name)
            wire.numeric = method.numeric_codes
            raise wire from None
        operating, reset_at = 0.0, None
        if method.charged:
            cost = self.costs.get(method.name.lower(), processing)
            try:
                operating, reset_at = await self.limits.record(key, cost)
            except LimitsUnavailable as exc:
                # The call is done (and its writes committed): answer it rather than make the
                # client retry a write; only its time goes uncounted.
                log.warning("could not record operating time of %s: %s", method.name, exc)
        time = time_block(start, clock.now(), processing, self.ctx)
        # An empty window resets a full window after this call (the docs' crm.enum example:
        # operating 0, operating_reset_at = start + 600).
        time["operating_reset_at"] = reset_at if reset_at is not None else int(start) + 600
        time["operating"] = round(operating, 6)
        if isinstance(value, Page):
            return Reply(value.result, time, value.total, value.next)
        return Reply(value, time)


def time_block(start: float, finish: float, processing: float, ctx: Context) -> dict[str, Any]:
    """The `time` object (api-reference/data-types.md#time) without the operating keys."""
    return {
        "start": start,
        "finish": finish,
        "duration": finish - start,
        "processing": processing,
        "date_start": ctx.iso(start),
        "date_finish": ctx.iso(finish),
    }


def success_body(reply: Reply) -> dict[str, Any]:
    body: dict[str, Any] = {"result": reply.result}
    if reply.total is not None:
        body["total"] = reply.total
        if reply.next is not None:
            body["next"] = reply.next
    body["time"] = reply.time
    return body
