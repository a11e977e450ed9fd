"""Every error orderlink answers with, one class per wire code, and the one place they are rendered.

Handlers raise; `body()` builds the envelope, for HTTP and inside `batch` alike. The wire codes and
texts come from `_includes/system-errors.md` and each method page's "Error Handling" section.

B24Error                              {"error": code, "error_description": text}, HTTP `status`
├── RequestError                      the request as a whole (HTTP layer, auth, limits)
│   ├── ArgumentError                 400 ERROR_ARGUMENT (batch `cmd`, `$result` references)
│   ├── InvalidRequest                400 INVALID_REQUEST (malformed body, bad parameters)
│   │   ├── HttpsRequired             401 INVALID_REQUEST "Https required"
│   │   ├── BodyTooLarge              413 INVALID_REQUEST
│   │   ├── UrlTooLong                414 INVALID_REQUEST
│   │   ├── HttpMethodNotAllowed      405 INVALID_REQUEST (an HTTP verb other than GET/POST)
│   │   └── BodyTimeout               408 INVALID_REQUEST (the announced body never came)
│   ├── NoAuthFound                   401 NO_AUTH_FOUND (no credential at all)
│   ├── InvalidCredentials            401 INVALID_CREDENTIALS (a wrong webhook code)
│   ├── InvalidToken                  401 invalid_token (an unknown OAuth token)
│   ├── ExpiredToken                  401 expired_token
│   ├── InsufficientScope             401 insufficient_scope
│   ├── UserAccessError               403 user_access_error
│   ├── WrongAuthType                 403 WRONG_AUTH_TYPE
│   ├── MethodNotFound                404 ERROR_METHOD_NOT_FOUND (+ X-Orderlink-Did-You-Mean)
│   ├── BatchMethodNotAllowed         405 ERROR_BATCH_METHOD_NOT_ALLOWED
│   ├── BatchLengthExceeded           400 ERROR_BATCH_LENGTH_EXCEEDED
│   ├── OperationTimeLimit            429 OPERATION_TIME_LIMIT
│   ├── QueryLimitExceeded            503 QUERY_LIMIT_EXCEEDED
│   │   └── TooManyFailures           503 (failed credentials from one address, lockout.py)
│   ├── ServiceUnavailable            503 INTERNAL_SERVER_ERROR (a backing service is down)
│   ├── EventNotFound                 400 ERROR_EVENT_NOT_FOUND
│   ├── HandlerAlreadyExists          400 ERROR_HANDLER_ALREADY_EXIST
│   ├── EventAccessDenied             403 ACCESS_DENIED (offline events, auth_type)
│   ├── WrongHandlerUrl               400 ERROR_WRONG_HANDLER_URL (event.bind `handler`)
│   ├── UnsupportedProtocol           400 ERROR_UNSUPPORTED_PROTOCOL (a handler not http/https)
│   ├── InternalServerError           500 INTERNAL_SERVER_ERROR
│   ├── ProxyRefused                  502 ERROR_PROXY_HOST_REFUSED (proxy.py: a host not owned)
│   ├── UnexpectedAnswer              500 ERROR_UNEXPECTED_ANSWER
│   ├── PortalDeleted                 500 PORTAL_DELETED
│   ├── OverloadLimit                 503 OVERLOAD_LIMIT (an operator's block of the portal)
│   ├── RestNotOnPlan                 403 ACCESS_DENIED (REST only on commercial plans)
│   ├── ManifestNotAvailable          404 ERROR_MANIFEST_IS_NOT_AVAILABLE
│   ├── MethodConfirmWaiting          401 METHOD_CONFIRM_WAITING
│   ├── AdminAuthRequired             401 (the admin API, /_orderlink/api/: no or a wrong token)
│   ├── AdminNotFound                 404 NOT_FOUND (the admin API: no such portal or fault)
│   ├── CsrfTokenMissing              403 ACCESS_DENIED (a signed-in change without its CSRF token)
│   └── OAuthError                    the authorization server, /oauth/token/ and /oauth/authorize/
│       ├── OAuthInvalidRequest       400 invalid_request
│       ├── InvalidClient             401 invalid_client
│       │   └── UnknownClient         400 invalid_client (at the consent step)
│       ├── InvalidGrant              400 invalid_grant
│       └── UnsupportedGrantType      400 unsupported_grant_type
└── MethodError                       400, a method's own documented errors
    ├── SaleError                     numeric codes of the sale module (orderentity, sale.order)
    │   ├── ReadAccessDenied          200040300010 Access Denied
    │   ├── WriteAccessDenied         200040300020 Access Denied
    │   ├── OrderNotFound             200540400001 order does not exist
    │   ├── PersonTypeNotFound        200740400001 person type does not exist
    │   ├── PersonTypeCodeExists      200750000005 person type code exists
    │   ├── PersonTypeInUse           200750000008 The payer type with ID=.. is used in orders
    │   ├── PropertyGroupNotFound     200940400001 property group does not exist
    │   ├── PropertyNotFound          200840400001 property does not exist
    │   ├── PropertyValueNotFound     201040400001 property value does not exist
    │   ├── DuplicateBinding          201650000001
    │   ├── BindingNotFound           201640400004
    │   ├── BasketItemNotFound        200140400001 basket item does not exist
    │   ├── BasketItemNotSaved        200140400007 basket item is not saved - bad data
    │   ├── BasketOrderNotSpecified   200140400008 Required fields: fields[ORDER_ID]
    │   ├── BasketOrderNotFound       200140400009 Order not found
    │   ├── BasketCurrencyMismatch    200140400011 Currency must be the currency of the order
    │   ├── PaymentNotFound           200640400001 payment does not exist
    │   ├── ShipmentNotFound          201140400001 shipment does not exist
    │   ├── WrongDeliveryService      SALE_SHIPMENT_WRONG_DELIVERY_SERVICE
    │   ├── ShipmentShipped           SALE_SHIPMENT_EXIST_SHIPPED
    │   ├── OrderPaid                 SALE_ORDER_CANCEL_PAYMENT_EXIST_ACTIVE
    │   ├── FieldsNotSpecified        100
    │   ├── RequiredFields            0 Required fields: ...
    │   └── SaveError                 0 (text varies)
    ├── SettingsAccessDenied          403 ACCESS_DENIED (sale.paysystem.list, sale.delivery.getlist)
    ├── CheckFailure                  400 ERROR_CHECK_FAILURE (their SELECT/FILTER/ORDER)
    ├── LegacyCrmError                "" + text (crm.deal.*, crm.invoice.*, crm.status.*)
    │   ├── LegacyNotFound            "" Not found (crm.deal.*, crm.contact.*, crm.company.*)
    │   ├── LegacyBadId               "" ID is not defined or invalid.
    │   ├── LegacyCoreError           ERROR_CORE + text (crm.deal.productrows.set)
    │   ├── UserFieldNotFound         ERROR_NOT_FOUND The entity with ID '..' is not found
    │   ├── UserFieldError            ERROR_CORE (crm.*.userfield.*: a bad name or type)
    │   └── UserFieldForeign          "" Access denied. (another entity's custom field)
    ├── StatusExists                  ERROR_CORE The specified status ID already exists.
    ├── UserArgumentError             ERROR_ARGUMENT (user.add: wrong_email, a taken e-mail)
    ├── UserCoreError                 ERROR_CORE (user.add/user.update: access_denied, no user)
    └── CrmItemError                  symbolic codes (crm.item.*)
        ├── ItemNotFound              NOT_FOUND Element not found
        ├── SmartProcessNotFound      NOT_FOUND Smart process not found
        ├── ItemAccessDenied          ACCESS_DENIED
        ├── InvalidArgValue           INVALID_ARG_VALUE
        ├── FieldValueNotValid        CRM_FIELD_ERROR_VALUE_NOT_VALID
        ├── EntityTypeNotSupported    ENTITY_TYPE_NOT_SUPPORTED
        ├── OwnerNotFound             OWNER_NOT_FOUND Owner was not found (crm.item.productrow)
        ├── MissingParameter          100 Could not find value for parameter {name}
        ├── CategoryError             0 (crm.category.*: the deal module's own refusals)
        ├── MultipleValueExpected     100 Expected iterable value for multiple field, ...
        ├── SmartProcessError         0 (crm.type.*: the type's own refusals)
        │   └── TypeNotFound          0 SPA not found
        ├── TypeHasItems              BX_ERROR You cannot delete an entity type that has ...
        ├── EmptyRequired             BX_EMPTY_REQUIRED Field "..." is required (crm.type.*)
        └── UserFieldConfigError      "" + text (userfieldconfig.*)
"""

from __future__ import annotations

from typing import Any, ClassVar


class B24Error(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    status: ClassVar[int] = 500
    description: ClassVar[str] = "Internal server error"
    # HTTP headers every answer of this error carries besides the envelope's (`Connection`).
    fixed_headers: ClassVar[tuple[tuple[bytes, bytes], ...]] = ()

    def __init__(self, description: str | None = None) -> None:
        self.text = self.description if description is None else description
        # This answer's headers: the fixed ones, and those its arguments add (`Allow`).
        self.headers: list[tuple[bytes, bytes]] = list(self.fixed_headers)
        # Set by dispatch when the method's page prints digit codes as JSON numbers
        # (`sale.order.*`: `"error":200040300020`; `crm.orderentity.*` prints strings).
        self.numeric = False
        super().__init__(self.text)


def body(error: B24Error) -> dict[str, Any]:
    """The error envelope, for HTTP and for a `batch` entry alike."""
    code: str | int = error.code
    if error.numeric and error.code.isdigit():
        code = int(error.code)
    return {"error": code, "error_description": error.text}


# -- the request as a whole ------------------------------------------------------------------


class RequestError(B24Error):
    pass


class InvalidRequest(RequestError):
    code = "INVALID_REQUEST"
    status = 400
    description = "Invalid request"


class ArgumentError(RequestError):
    """A parameter the protocol itself needs is unusable (batch `cmd`, a `$result` reference)."""

    code = "ERROR_ARGUMENT"
    status = 400
    description = "Invalid argument"


class HttpsRequired(InvalidRequest):
    status = 401  # _includes/system-errors.md lists INVALID_REQUEST "Https required" as 401
    description = "Https required"


class BodyTooLarge(InvalidRequest):
    status = 413
    description = "Request entity too large"


class UrlTooLong(InvalidRequest):
    status = 414
    description = "Request-URI Too Long"


class HttpMethodNotAllowed(InvalidRequest):
    """GET and POST run methods (protocol.md section 1); HEAD, PUT, DELETE, ... never do."""

    status = 405
    description = "HTTP method not allowed: use GET or POST"

    def __init__(self, description: str | None = None, *, allow: str = "GET, POST, OPTIONS"):
        super().__init__(description)
        self.headers.append((b"allow", allow.encode()))


class BodyTimeout(InvalidRequest):
    status = 408
    description = "Request body was not received in time"
    # The rest of the body may still arrive: the connection cannot be reused.
    fixed_headers = ((b"connection", b"close"),)


class NoAuthFound(RequestError):
    code = "NO_AUTH_FOUND"
    status = 401
    description = "Wrong authorization data"


class InvalidCredentials(RequestError):
    """A webhook URL whose user id and code match no webhook: what real portals answer
    (b24pysdk's BitrixAPIInvalidCredentials, _includes/system-errors.md)."""

    code = "INVALID_CREDENTIALS"
    status = 401
    description = "Invalid request credentials"


class InvalidToken(RequestError):
    """An access token no installed application issued (b24pysdk's BitrixAPIInvalidToken;
    b24jssdk's limiter treats it as an auth error)."""

    code = "invalid_token"
    status = 401
    description = "Unable to get application by token"


class ExpiredToken(RequestError):
    code = "expired_token"
    status = 401
    description = "The access token provided has expired"


class InsufficientScope(RequestError):
    # 401 as in the newest _includes/system-errors.md; b24pysdk files it under Unauthorized.
    code = "insufficient_scope"
    status = 401
    description = "The request requires higher privileges than provided by the webhook token"


class UserAccessError(RequestError):
    code = "user_access_error"
    status = 403
    description = "The user does not have access to the application"


class WrongAuthType(RequestError):
    code = "WRONG_AUTH_TYPE"
    status = 403
    description = "Current authorization type is denied for this method"


class MethodNotFound(RequestError):
    # Text undocumented (protocol.md open point 4); CRest annotates this code "Method not found!".
    code = "ERROR_METHOD_NOT_FOUND"
    status = 404
    description = "Method not found!"

    def __init__(self, description: str | None = None, *, suggestion: str = "") -> None:
        super().__init__(description)
        # The nearest registered name (registry.nearest); the text stays the portal's, so the
        # hint travels in a header of orderlink's own and in the journal (docs/decisions.md).
        self.suggestion = suggestion
        if suggestion:
            self.headers.append((b"x-orderlink-did-you-mean", suggestion.encode("ascii")))


class BatchMethodNotAllowed(RequestError):
    code = "ERROR_BATCH_METHOD_NOT_ALLOWED"
    status = 405
    description = "Method is not allowed for batch usage"


class BatchLengthExceeded(RequestError):
    code = "ERROR_BATCH_LENGTH_EXCEEDED"
    status = 400
    description = "Max batch length exceeded"


class OperationTimeLimit(RequestError):
    # Text undocumented (protocol.md open point 4); see docs/decisions.md.
    code = "OPERATION_TIME_LIMIT"
    status = 429
    description = "Method is blocked due to operation time limit."


class QueryLimitExceeded(RequestError):
    code = "QUERY_LIMIT_EXCEEDED"
    status = 503
    description = "Too many requests"


class TooManyFailures(QueryLimitExceeded):
    """An address past its failed-credential limit (lockout.py): the request-limit code, so a
    client backs off as it does for QUERY_LIMIT_EXCEEDED."""

    description = "Too many failed authorization attempts"


class ServiceUnavailable(RequestError):
    code = "INTERNAL_SERVER_ERROR"
    status = 503
    description = "Storage is temporarily unavailable"


class EventNotFound(RequestError):
    """event.bind for an event that does not exist (api-reference/events/event-bind.md)."""

    code = "ERROR_EVENT_NOT_FOUND"
    status = 400
    description = "Event not found"


class HandlerAlreadyExists(RequestError):
    """The sample error of error-codes.md, for binding the same handler twice."""

    code = "ERROR_HANDLER_ALREADY_EXIST"
    status = 400
    description = "Handler already exists!"


class EventAccessDenied(RequestError):
    """event.bind/unbind beyond a non-administrator's rights (event-bind.md, event-unbind.md)."""

    code = "ACCESS_DENIED"
    status = 403
    description = "Access denied!"


# event.bind's handler URL: the codes and texts of the rest module's handler check, which
# event.bind and placement.bind share (api-reference/widgets/placement-bind.md and the bizproc
# pages list the same two codes; event-bind.md itself documents only ERROR_EVENT_NOT_FOUND).


class WrongHandlerUrl(RequestError):
    """A handler URL no delivery may reach: no host, unparseable, or a refused destination
    (destinations.py); the reason follows the portal's own text."""

    code = "ERROR_WRONG_HANDLER_URL"
    status = 400
    description = "Wrong handler URL"

    def __init__(self, reason: str = "") -> None:
        super().__init__(f"{self.description}: {reason}" if reason else None)


class UnsupportedProtocol(RequestError):
    """A handler URL with a host but a scheme other than http or https."""

    code = "ERROR_UNSUPPORTED_PROTOCOL"
    status = 400
    description = "Unsupported handler protocol"


class InternalServerError(RequestError):
    code = "INTERNAL_SERVER_ERROR"
    status = 500
    description = "Internal server error"


class ProxyRefused(RequestError):
    """orderlink's intercepting proxy (proxy.py) was asked for a host it neither serves nor was
    told to let through: refused, never forwarded. orderlink's own code; no portal answers it."""

    code = "ERROR_PROXY_HOST_REFUSED"
    status = 502
    description = "orderlink's proxy does not forward to this host"


# The rest of _includes/system-errors.md: orderlink never answers these by itself; a fault
# (faults.py, `orderlink fault add --error CODE`) does, with the table's status and text.


class UnexpectedAnswer(RequestError):
    code = "ERROR_UNEXPECTED_ANSWER"
    status = 500
    description = "Server returned an unexpected response"


class PortalDeleted(RequestError):
    # 500 in the system table; b24pysdk files the code under 410 but maps it by code first.
    code = "PORTAL_DELETED"
    status = 500
    description = "Portal was deleted"


class OverloadLimit(RequestError):
    code = "OVERLOAD_LIMIT"
    status = 503
    description = "REST API is blocked due to overload"


class RestNotOnPlan(RequestError):
    code = "ACCESS_DENIED"
    status = 403
    description = "REST API is available only on commercial plans"


class ManifestNotAvailable(RequestError):
    code = "ERROR_MANIFEST_IS_NOT_AVAILABLE"
    status = 404
    description = "Manifest is not available"


class MethodConfirmWaiting(RequestError):
    """api-reference/scopes/confirmation.md: a method the administrator has not confirmed."""

    code = "METHOD_CONFIRM_WAITING"
    status = 401
    description = "Waiting for confirmation"


# -- orderlink's own admin API (/_orderlink/api/, docs/admin-api.md), in the same envelope ------


class AdminAuthRequired(RequestError):
    """No admin token, or a wrong one: the one answer for every path under /_orderlink/api/,
    known or not, so nothing about portals shows without the token."""

    code = "NO_AUTH_FOUND"
    status = 401
    description = "The admin API needs the header Authorization: Bearer <admin token>"
    fixed_headers = ((b"www-authenticate", b'Bearer realm="orderlink"'),)


class AdminNotFound(RequestError):
    code = "NOT_FOUND"
    status = 404
    description = "Not found"


class CsrfTokenMissing(RequestError):
    """A dashboard session's request that changes something, without the session's CSRF token
    (sessions.py): refused before any route is looked at."""

    code = "ACCESS_DENIED"
    status = 403
    description = "A signed-in request that changes something needs the header X-Orderlink-CSRF"


# -- a method's own errors -------------------------------------------------------------------


class MethodError(B24Error):
    status = 400


class SaleError(MethodError):
    """Codes of the sale-module controllers behind crm.orderentity.* and sale.order.*."""

    code = "0"
    description = "Internal error"


class ReadAccessDenied(SaleError):
    code = "200040300010"
    description = "Access Denied"


class WriteAccessDenied(SaleError):
    code = "200040300020"
    description = "Access Denied"


class OrderNotFound(SaleError):
    code = "200540400001"
    description = "order does not exist"


class PersonTypeNotFound(SaleError):
    code = "200740400001"
    description = "person type does not exist"


class PersonTypeCodeExists(SaleError):
    code = "200750000005"
    description = "person type code exists"


class PersonTypeInUse(SaleError):
    """sale-person-type-delete.md's example: `The payer type with ID=8 is used in orders`."""

    code = "200750000008"
    description = "The payer type is used in orders"


class PropertyGroupNotFound(SaleError):
    code = "200940400001"
    description = "property group does not exist"


class PropertyNotFound(SaleError):
    code = "200840400001"
    description = "property does not exist"


class PropertyValueNotFound(SaleError):
    code = "201040400001"
    description = "property value does not exist"


class DuplicateBinding(SaleError):
    code = "201650000001"
    description = "Duplicate entry for key [ownerId, ownerTypeId, orderId]"


class BindingNotFound(SaleError):
    code = "201640400004"
    description = "entity relation is not exists"


class BasketItemNotFound(SaleError):
    code = "200140400001"
    description = "basket item does not exist"


class BasketItemNotSaved(SaleError):
    """sale-basket-item-add.md: the item was not created (a value it cannot hold)."""

    code = "200140400007"
    description = "basket item is not saved - bad data"


class BasketOrderNotSpecified(SaleError):
    code = "200140400008"
    description = "Required fields: fields[ORDER_ID]"


class BasketOrderNotFound(SaleError):
    code = "200140400009"
    description = "Order not found"


class BasketCurrencyMismatch(SaleError):
    code = "200140400011"
    description = "Currency must be the currency of the order"


class PaymentNotFound(SaleError):
    code = "200640400001"
    description = "payment does not exist"


class ShipmentNotFound(SaleError):
    code = "201140400001"
    description = "shipment does not exist"


class WrongDeliveryService(SaleError):
    code = "SALE_SHIPMENT_WRONG_DELIVERY_SERVICE"
    description = "Delivery service not found"


class ShipmentShipped(SaleError):
    code = "SALE_SHIPMENT_EXIST_SHIPPED"
    description = "The shipment has already been shipped. Please cancel the shipment"


class OrderPaid(SaleError):
    """sale-order-delete.md: an order with paid payments is not deleted."""

    code = "SALE_ORDER_CANCEL_PAYMENT_EXIST_ACTIVE"
    description = "The order has active payments"


class FieldsNotSpecified(SaleError):
    code = "100"
    description = "Parameter `fields` is not specified or is empty"


class IdNotSpecified(SaleError):
    code = "100"
    description = "Parameter `id` is not specified or is empty"


class RequiredFields(SaleError):
    code = "0"

    def __init__(self, missing: list[str]) -> None:
        super().__init__("Required fields: " + ", ".join(missing))


class SaveError(SaleError):
    """Code 0, "various order saving errors": the text says what went wrong."""

    code = "0"


class SettingsAccessDenied(MethodError):
    """sale-pay-system-list.md, sale-delivery-get-list.md: not a CRM administrator."""

    code = "ACCESS_DENIED"
    status = 403
    description = "Access denied!"


class CheckFailure(MethodError):
    code = "ERROR_CHECK_FAILURE"
    description = "Validation error"


class LegacyCrmError(MethodError):
    """crm.deal.* / crm.invoice.*: an empty code; the text carries the meaning."""

    code = ""
    description = "Failed to get list. General error."


class LegacyNotFound(LegacyCrmError):
    """crm.deal.*, crm.contact.*, crm.company.*: no such id (crm-deal-get.md)."""

    description = "Not found"


class LegacyBadId(LegacyCrmError):
    """An id that is missing or no positive integer; crm-deal-delete.md's example prints the
    period the error tables leave out."""

    description = "ID is not defined or invalid."


class StatusExists(MethodError):
    """crm-status-add.md: a STATUS_ID its reference list already has."""

    code = "ERROR_CORE"
    description = "The specified status ID already exists."


class UserArgumentError(MethodError):
    """user-add.md's ERROR_ARGUMENT refusals (`wrong_email`, a taken e-mail, a profile string
    that is not one)."""

    code = "ERROR_ARGUMENT"
    description = "wrong_email"


class UserCoreError(MethodError):
    """user-add.md / user-update.md's ERROR_CORE: `access_denied`, or an empty text for a user
    id that names nobody."""

    code = "ERROR_CORE"
    description = "access_denied"


class UserFieldNotFound(LegacyCrmError):
    code = "ERROR_NOT_FOUND"
    description = "The entity is not found"


class UserFieldError(LegacyCrmError):
    code = "ERROR_CORE"
    description = "Incorrect custom type specified."


class UserFieldForeign(LegacyCrmError):
    """crm-contact-userfield-get.md / -update.md / -delete.md: the id names a custom field of
    another entity (a deal's, asked through crm.contact.userfield.*)."""

    description = "Access denied."


class LegacyCoreError(LegacyCrmError):
    """crm-deal-productrows-set.md: a row the CRM core refuses; the text ends in `<br>`."""

    code = "ERROR_CORE"

    def __init__(self, text: str) -> None:
        super().__init__(text + "<br>")


class CrmItemError(MethodError):
    code = "INVALID_ARG_VALUE"
    description = "Invalid argument"


class ItemNotFound(CrmItemError):
    code = "NOT_FOUND"
    description = "Element not found"


class ItemAccessDenied(CrmItemError):
    code = "ACCESS_DENIED"
    description = "Access denied"


class InvalidArgValue(CrmItemError):
    code = "INVALID_ARG_VALUE"


class FieldValueNotValid(CrmItemError):
    code = "CRM_FIELD_ERROR_VALUE_NOT_VALID"

    def __init__(self, field: str) -> None:
        super().__init__(f'Invalid value for field "{field}"')


class EntityTypeNotSupported(CrmItemError):
    code = "ENTITY_TYPE_NOT_SUPPORTED"
    description = "Entity type is not supported"


class OwnerNotFound(CrmItemError):
    code = "OWNER_NOT_FOUND"
    description = "Owner was not found"


class SmartProcessNotFound(CrmItemError):
    # crm-item-add.md's example body; its table says "SPA not found".
    code = "NOT_FOUND"
    description = "Smart process not found"


class MissingParameter(CrmItemError):
    """A required controller parameter is absent (the binder's code 100, as the booking.*
    pages print it: `Could not find value for parameter {id}`)."""

    code = "100"

    def __init__(self, name: str) -> None:
        super().__init__(f"Could not find value for parameter {{{name}}}")


class CategoryError(CrmItemError):
    """crm-category-add.md, crm-category-delete.md: code `0` with the deal module's text."""

    code = "0"


class MultipleValueExpected(CrmItemError):
    code = "100"

    def __init__(self, got: str) -> None:
        super().__init__(f"Expected iterable value for multiple field, but got {got} instead")


class SmartProcessError(CrmItemError):
    """crm.type.*: code `0` with the page's text (crm-type-add.md: "Select a workplace ...")."""

    code = "0"


class TypeNotFound(SmartProcessError):
    """crm-type-get.md / crm-type-update.md: `0` "SPA not found"; the getByEntityTypeId and
    delete pages word it "Smart process not found"."""

    code = "0"
    description = "SPA not found"


class TypeHasItems(CrmItemError):
    code = "BX_ERROR"
    description = "You cannot delete an entity type that has elements"


class EmptyRequired(CrmItemError):
    """A required field a request leaves empty, as the ORM behind crm.type.* refuses it (inferred:
    the pages print the field `isRequired` but no error for it)."""

    code = "BX_EMPTY_REQUIRED"

    def __init__(self, title: str) -> None:
        super().__init__(f'Field "{title}" is required')


class UserFieldConfigError(CrmItemError):
    """userfieldconfig.*: an empty code; the text carries the meaning (userfieldconfig-*.md)."""

    code = ""
    description = "You do not have permission to view user field settings"


# -- the authorization server (settings/oauth/index.md) --------------------------------------
# Status codes undocumented; these are what b24phpsdk reads: `invalid_grant` under 400 as
# "authorize again", `invalid_client` under 401.


class OAuthError(RequestError):
    status = 400


class OAuthInvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidClient(OAuthError):
    code = "invalid_client"
    status = 401


class UnknownClient(InvalidClient):
    status = 400


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"
