"""Events: which exist, what each carries, and delivering them to handlers.

The catalog and payloads follow api-reference/crm/deals/events/, api-reference/crm/universal/
events/, api-reference/crm/outdated/invoice/events-invoice/, api-reference/sale/events/ and
api-reference/common/events/. A change and its events are written in one transaction (the
outbox, `Store` methods' `events=`); `Deliverer` then POSTs each one, form-encoded with PHP
bracket keys as `api-reference/events/index.md` shows, at least once: failures and timeouts
retry with backoff, and a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import quote

from orderlink import destinations, entity_types
from orderlink.clock import Clock
from orderlink.settings import Settings
from orderlink.storage.base import Delivery, Emit, Store, StoreUnavailable

log = logging.getLogger("orderlink.events")

# Event name -> the scope an app needs to bind it (auth.md section 5; events.md lists per scope).
CATALOG: dict[str, str] = {
    "ONCRMDEALADD": "crm",
    "ONCRMDEALUPDATE": "crm",
    "ONCRMDEALDELETE": "crm",
    "ONCRMCONTACTADD": "crm",
    "ONCRMCONTACTUPDATE": "crm",
    "ONCRMCONTACTDELETE": "crm",
    "ONCRMCOMPANYADD": "crm",
    "ONCRMCOMPANYUPDATE": "crm",
    "ONCRMCOMPANYDELETE": "crm",
    "ONCRMDEALUSERFIELDADD": "crm",
    "ONCRMDEALUSERFIELDUPDATE": "crm",
    "ONCRMDEALUSERFIELDDELETE": "crm",
    "ONCRMCONTACTUSERFIELDADD": "crm",
    "ONCRMCONTACTUSERFIELDUPDATE": "crm",
    "ONCRMCONTACTUSERFIELDDELETE": "crm",
    "ONCRMCOMPANYUSERFIELDADD": "crm",
    "ONCRMCOMPANYUSERFIELDUPDATE": "crm",
    "ONCRMCOMPANYUSERFIELDDELETE": "crm",
    "ONCRMDYNAMICITEMADD": "crm",
    "ONCRMDYNAMICITEMUPDATE": "crm",
    "ONCRMDYNAMICITEMDELETE": "crm",
    "ONCRMTYPEADD": "crm",
    "ONCRMTYPEUPDATE": "crm",
    "ONCRMTYPEDELETE": "crm",
    "ONCRMTYPEUSERFIELDADD": "crm",
    "ONCRMTYPEUSERFIELDUPDATE": "crm",
    "ONCRMTYPEUSERFIELDDELETE": "crm",
    "ONCRMTYPEUSERFIELDSETENUMVALUES": "crm",
    "ONCRMINVOICEADD": "crm",
    "ONCRMINVOICEUPDATE": "crm",
    "ONCRMINVOICEDELETE": "crm",
    "ONSALEORDERSAVED": "sale",
    "ONORDERENTITYSAVED": "sale",
    "ONSALEBEFOREORDERDELETE": "sale",
    "ONORDERDELETED": "sale",
    "ONPAYMENTENTITYSAVED": "sale",
    "ONPAYMENTDELETED": "sale",
    "ONSHIPMENTENTITYSAVED": "sale",
    "ONSHIPMENTDELETED": "sale",
    "ONAPPINSTALL": "basic",
    "ONAPPUNINSTALL": "basic",
}

# Attempts before a delivery is given up, and the first pause between them (doubling).
MAX_ATTEMPTS = 8
FIRST_RETRY = 2.0
LONGEST_RETRY = 600.0
TIMEOUT = 5.0


def deal(action: str, user_id: int, at: float, deal_id: int | str = "{id}") -> Emit:
    """ONCRMDEALADD / UPDATE / DELETE: `{"FIELDS": {"ID": "6641"}}`."""
    return Emit(f"ONCRMDEAL{action}", {"FIELDS": {"ID": str(deal_id)}}, user_id, at)


def customer(kind: str, action: str, user_id: int, at: float, item_id: int | str = "{id}") -> Emit:
    """ONCRMCONTACT* / ONCRMCOMPANY* (`kind` CONTACT or COMPANY), whichever family changed the
    row: `{"FIELDS": {"ID": "89"}}` (crm/contacts/events/on-crm-contact-add.md)."""
    return Emit(f"ONCRM{kind}{action}", {"FIELDS": {"ID": str(item_id)}}, user_id, at)


def legacy_invoice(action: str, user_id: int, at: float, invoice_id: int | str = "{id}") -> Emit:
    """ONCRMINVOICEADD / UPDATE / DELETE (old invoices): `{"FIELDS": {"ID": "42"}}`, the
    invoice's id as the event pages describe `FIELDS`."""
    return Emit(f"ONCRMINVOICE{action}", {"FIELDS": {"ID": str(invoice_id)}}, user_id, at)


def dynamic_item(
    action: str, entity_type_id: int, user_id: int, at: float, item_id: int | str = "{id}"
) -> Emit:
    """ONCRMDYNAMICITEM*: `{"FIELDS": {"ID": "22", "ENTITY_TYPE_ID": "31"}}`."""
    fields = {"ID": str(item_id), "ENTITY_TYPE_ID": str(entity_type_id)}
    return Emit(f"ONCRMDYNAMICITEM{action}", {"FIELDS": fields}, user_id, at)


def crm_item(
    entity_type_id: int, action: str, user_id: int, at: float, item_id: int | str = "{id}"
) -> Emit:
    """Deals, contacts and companies raise their own events whichever family changed them;
    other types the dynamic ones."""
    if entity_type_id == entity_types.DEAL:
        return deal(action, user_id, at, item_id)
    if entity_type_id in _CUSTOMERS:
        return customer(_CUSTOMERS[entity_type_id], action, user_id, at, item_id)
    return dynamic_item(action, entity_type_id, user_id, at, item_id)


_CUSTOMERS = {entity_types.CONTACT: "CONTACT", entity_types.COMPANY: "COMPANY"}


def crm_type(action: str, user_id: int, at: float, type_id: int | str = "{id}") -> Emit:
    """ONCRMTYPEADD / UPDATE / DELETE (crm/universal/events/type/): `{"FIELDS": {"ID": "45"}}`,
    the smart process's `id`, not its entityTypeId."""
    return Emit(f"ONCRMTYPE{action}", {"FIELDS": {"ID": str(type_id)}}, user_id, at)


def type_user_field(
    action: str, user_id: int, at: float, field_id: int | str, entity_id: str, name: str
) -> Emit:
    """ONCRMTYPEUSERFIELDADD / UPDATE / DELETE / SETENUMVALUES (crm/universal/userfieldconfig/
    events/): `{"FIELDS": {"ID": "6977", "ENTITY_ID": "CRM_13", "FIELD_NAME": "UF_CRM_13_..."}}`."""
    fields = {"ID": str(field_id), "ENTITY_ID": entity_id, "FIELD_NAME": name}
    return Emit(f"ONCRMTYPEUSERFIELD{action}", {"FIELDS": fields}, user_id, at)


def user_field(
    entity_id: str, action: str, user_id: int, at: float, field_id: int | str, name: str
) -> Emit:
    """ONCRM{DEAL,CONTACT,COMPANY}USERFIELDADD / UPDATE / DELETE (`entity_id` CRM_DEAL, ...;
    crm/deals/user-defined-fields/events/, crm/contacts/userfield/events/, crm/companies/
    userfields/events/): `{"FIELDS": {"ID": "553", "ENTITY_ID": "CRM_CONTACT", "FIELD_NAME":
    "UF_CRM_..."}}`."""
    fields = {"ID": str(field_id), "ENTITY_ID": entity_id, "FIELD_NAME": name}
    owner = entity_id.removeprefix("CRM_")
    return Emit(f"ONCRM{owner}USERFIELD{action}", {"FIELDS": fields}, user_id, at)


def order_saved(order_id: int | str, user_id: int, at: float, xml_id: str = "") -> tuple[Emit, ...]:
    """An order was saved: ONSALEORDERSAVED and ONORDERENTITYSAVED (sale/events/*)."""
    return (
        Emit("ONSALEORDERSAVED", {"FIELDS": {"ID": str(order_id), "XML_ID": xml_id,
                                             "ACTION": "save"}}, user_id, at),
        Emit("ONORDERENTITYSAVED", {"FIELDS": {"ID": str(order_id)}}, user_id, at),
    )  # fmt: skip


def order_deleted(order_id: int, user_id: int, at: float, xml_id: str = "") -> tuple[Emit, ...]:
    return (
        Emit("ONSALEBEFOREORDERDELETE", {"FIELDS": {"ID": str(order_id), "XML_ID": xml_id,
                                                    "ACTION": "delete"}}, user_id, at),
        Emit("ONORDERDELETED", {"FIELDS": {"ID": str(order_id)}}, user_id, at),
    )  # fmt: skip


def payment(action: str, payment_id: int | str, user_id: int, at: float) -> tuple[Emit, ...]:
    """ONPAYMENTENTITYSAVED on add and update, ONPAYMENTDELETED on delete:
    `{"FIELDS": {"ID": 300}}` (sale/events/on-payment-*.md)."""
    return (_content("PAYMENT", action, payment_id, user_id, at),)


def shipment(action: str, shipment_id: int | str, user_id: int, at: float) -> tuple[Emit, ...]:
    """ONSHIPMENTENTITYSAVED / ONSHIPMENTDELETED (sale/events/on-shipment-*.md)."""
    return (_content("SHIPMENT", action, shipment_id, user_id, at),)


def _content(entity: str, action: str, item_id: int | str, user_id: int, at: float) -> Emit:
    name = f"ON{entity}DELETED" if action == "DELETE" else f"ON{entity}ENTITYSAVED"
    return Emit(name, {"FIELDS": {"ID": str(item_id)}}, user_id, at)


async def wanted(store: Store, portal_id: int, emits: tuple[Emit, ...]) -> tuple[Emit, ...]:
    """Only the events some handler listens to, so writes nobody listens to stay cheap."""
    if not emits:
        return emits
    bound = await store.bound_events(portal_id)
    return tuple(e for e in emits if e.event in bound or e.url is not None)


def form_encode(value: Any, prefix: str = "") -> Iterator[str]:
    """`{"data": {"FIELDS": {"ID": 1}}}` -> `data[FIELDS][ID]=1`, the way PHP posts arrays."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from form_encode(item, f"{prefix}[{key}]" if prefix else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from form_encode(item, f"{prefix}[{index}]")
    else:
        text = "" if value is None else ("1" if value is True else "" if value is False else value)
        yield f"{quote(prefix, safe='[]')}={quote(str(text), safe='')}"


class Deliverer:
    """Delivers the outbox in the background: claims due rows (so two workers never send the
    same attempt), POSTs them, and records each attempt."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        auth_block: Callable[[Delivery], Awaitable[dict[str, Any]]],
        *,
        poll: float = 0.5,
        batch: int = 20,
        log_days: float = 30.0,
        settings: Settings | None = None,
        lookup: destinations.Lookup = destinations.system_lookup,
    ) -> None:
        self.store = store
        # Where deliveries may go (destinations.py), checked again at every attempt.
        self.settings = settings if settings is not None else Settings()
        self.lookup = lookup
        self.clock = clock
        self.auth_block = auth_block
        self.poll = poll
        self.batch = batch
        self.log_days = log_days
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: Any = None

    def start(self) -> None:
        import httpx

        # httpx logs every request's full URL at INFO, and a handler URL may carry
        # `user:pass@` credentials: its own request lines are never logged.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="orderlink-events")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        paused = False
        while True:
            try:
                sent = await self.deliver_due()
                if paused:
                    log.warning("event delivery resumed")
                    paused = False
            except StoreUnavailable as exc:
                if not paused:  # once per outage, not every poll
                    log.warning("event delivery paused: %s", exc)
                    paused = True
                sent = 0
            except Exception:
                log.exception("event delivery failed")
                sent = 0
            if sent:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)

    async def prune(self) -> int:
        """Drop finished deliveries older than the log keeps (`--delivery-log-days`; 0 keeps
        every one). Pending ones are never touched: an event is not lost to housekeeping."""
        if self.log_days <= 0:
            return 0
        return await self.store.prune_deliveries(self.clock.now() - self.log_days * 86400)

    async def deliver_due(self) -> int:
        """Send every delivery that is due now; returns how many were attempted."""
        claimed = await self.store.claim_deliveries(self.clock.now(), self.batch, TIMEOUT * 4)
        if claimed:
            await asyncio.gather(*(self._send(d) for d in claimed))
        return len(claimed)

    async def _send(self, delivery: Delivery) -> None:
        ok, status = False, ""
        try:
            url, headers, extensions = await self.target(delivery.handler)
        except destinations.Refused as exc:
            # A destination the rules refuse gets no token and no retry.
            log.warning("event delivery %d refused: %s", delivery.id, shown_url(str(exc)))
            await self.store.finish_delivery(
                delivery.id,
                delivered=False,
                status=f"Refused: {exc}",
                retry_at=None,
                now=self.clock.now(),
            )
            return
        except Exception as exc:  # a name that does not resolve (now) is a failed attempt
            status = type(exc).__name__
        else:
            body = await self.body(delivery)
            try:
                response = await self._client.post(
                    url, content=body.encode(), headers=headers, extensions=extensions
                )
                ok, status = 200 <= response.status_code < 300, f"HTTP {response.status_code}"
            except Exception as exc:  # every transport failure is an attempt that failed
                ok, status = False, type(exc).__name__
        now = self.clock.now()
        retry_at = None
        if not ok and delivery.attempts < MAX_ATTEMPTS:
            retry_at = now + min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LONGEST_RETRY)
        await self.store.finish_delivery(
            delivery.id, delivered=ok, status=status, retry_at=retry_at, now=now
        )

    async def target(self, handler: str) -> tuple[Any, dict[str, str], dict[str, Any]]:
        """The URL to POST to, checked again now (destinations.pinned): a name is replaced by
        the address that passed, and keeps its own name as Host header and TLS server name."""
        import httpx

        address = await destinations.pinned(handler, self.settings, self.lookup)
        url = httpx.URL(handler)
        headers = {"content-type": "application/x-www-form-urlencoded"}
        extensions: dict[str, Any] = {}
        if address is not None:
            headers["host"] = url.netloc.decode("ascii")
            if url.scheme == "https":
                extensions["sni_hostname"] = url.host
            url = url.copy_with(host=str(address))
        return url, headers, extensions

    async def body(self, delivery: Delivery) -> str:
        payload: dict[str, Any] = {
            "event": delivery.event,
            "event_handler_id": delivery.handler_id or 0,
            "data": delivery.data,
            "ts": int(self.clock.now()),
            "auth": await self.auth_block(delivery),
        }
        return "&".join(form_encode(payload))


_USERINFO = re.compile(r"(?<=//)[^/@?#]*@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def shown_url(url: str) -> str:
    """A handler URL for a log line or `orderlink events log`: credentials masked, control
    characters escaped so a stored URL can never split a row."""
    url = _USERINFO.sub("***@", url)
    return _CONTROL.sub(_escaped, url)


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
