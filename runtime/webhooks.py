"""Receiving TikTok Shop webhooks: check the signature, then parse the event.

TikTok POSTs JSON ``{type, tts_notification_id, shop_id, timestamp, data}`` with the header
``Authorization`` holding the lowercase hex HMAC-SHA256, keyed with the app secret, of the app key
followed by the raw body. Verify before parsing, on the raw bytes as received::

    event = tiktokshop.webhooks.construct_event(request.body, request.headers["Authorization"],
                                                app_key=APP_KEY, app_secret=APP_SECRET)
    if event.type_name == "ORDER_STATUS_CHANGE": ...

The event is of the class of its type (``tiktokshop.types.webhooks.OrderStatusChangeEvent``,
``event.data.order_status``); an unknown type parses as a plain ``WebhookEvent``. For a whole
receiver (verify, parse, de-duplicate, dispatch to handlers, answer within TikTok's 3 seconds, with
ASGI and WSGI adapters), see ``WebhookReceiver``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar, Generic, TypeVar, cast

from pydantic import ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from ._errors import TikTokShopError
from ._models import ResponseModel

__all__ = [
    "DEFAULT_REPLAY_WINDOW",
    "RETRY_SCHEDULE",
    "DedupStore",
    "MemoryDedupStore",
    "RedisDedupStore",
    "SqliteDedupStore",
    "WebhookData",
    "WebhookError",
    "WebhookEvent",
    "WebhookPayloadError",
    "WebhookReceiver",
    "WebhookResult",
    "WebhookSignatureError",
    "construct_event",
    "expected_signature",
    "parse_event",
    "verify_signature",
]

DataT = TypeVar("DataT")


class WebhookError(TikTokShopError):
    """A webhook delivery that must not be trusted or cannot be read."""


class WebhookSignatureError(WebhookError):
    """The webhook's signature is missing or does not match its body: do not trust it."""


class WebhookPayloadError(WebhookError, ValueError):
    """A correctly signed webhook whose body is not a TikTok event (not JSON, no integer ``type``)."""


class WebhookData(ResponseModel):
    """Base of the typed ``data`` models of webhook events: every field optional, unknown ones kept."""


class WebhookEvent(ResponseModel, Generic[DataT]):
    """One webhook event. Documented types parse as their own subclass (``OrderStatusChangeEvent``)
    with a typed ``data``; an unknown number parses as ``WebhookEvent`` with ``data`` a dict.
    ``type_name`` names the type (``None`` for a number not in the spec's table)."""

    model_config = ConfigDict(extra="allow")

    #: The type number, name and group of the subclass of a documented type.
    TYPE: ClassVar[int | None] = None
    TYPE_NAME: ClassVar[str | None] = None
    GROUP: ClassVar[str | None] = None

    type: int
    tts_notification_id: str | None = None
    shop_id: str | None = None
    timestamp: int | None = None
    data: DataT = Field(default_factory=dict)  # type: ignore[assignment]

    @property
    def type_name(self) -> str | None:
        """The event type's name (``ORDER_STATUS_CHANGE``...), or ``None`` for a number not in the table."""
        if type(self).TYPE_NAME is not None:
            return type(self).TYPE_NAME
        from .resources._api import WEBHOOK_TYPES

        return WEBHOOK_TYPES.get(self.type)


def expected_signature(body: bytes, *, app_key: str, app_secret: str) -> str:
    """The ``Authorization`` value TikTok sends with a webhook whose raw body is ``body``."""
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256).hexdigest()


def _signature_text(signature: object) -> str | None:
    """The header as ASCII text, or ``None`` when it cannot be a signature (bytes that are not ASCII,
    non-ASCII text, another type): hostile headers are refused, never a ``TypeError``."""
    if isinstance(signature, (bytes, bytearray)):
        try:
            signature = bytes(signature).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(signature, str) or not signature.isascii():
        return None
    return signature.strip().lower()


def verify_signature(body: bytes, signature: str | bytes | None, *, app_key: str, app_secret: str) -> bool:
    """Whether ``signature`` (the ``Authorization`` header) matches ``body``, compared in constant time.

    Never raises: a missing, non-ASCII or non-text signature, or a body that is not bytes, is ``False``.
    """
    text = _signature_text(signature)
    if not text or not isinstance(body, (bytes, bytearray)):  # pyright: ignore[reportUnnecessaryIsInstance]
        return False
    expected = expected_signature(bytes(body), app_key=app_key, app_secret=app_secret)
    return hmac.compare_digest(expected, text)


def parse_event(body: bytes | str | dict[str, Any]) -> WebhookEvent[Any]:
    """Parse an event (already verified) into the class of its type, or ``WebhookEvent`` if unknown.

    Raises ``WebhookPayloadError`` when it is not JSON or not an event (no integer ``type``, or a
    field of the wrong type).
    """
    if isinstance(body, dict):
        payload: Any = body
    else:
        try:
            payload = json.loads(body)
        except (ValueError, TypeError):
            raise WebhookPayloadError("the webhook body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError("the webhook body is not an event (no integer `type`)")
    event = cast("dict[str, Any]", payload)
    if type(event.get("type")) is not int:
        raise WebhookPayloadError("the webhook body is not an event (no integer `type`)")
    from .types.webhooks import EVENT_CLASSES

    cls: type[WebhookEvent[Any]] = EVENT_CLASSES.get(event["type"], WebhookEvent)
    if cls is WebhookEvent and not isinstance(event.get("data", {}), dict):
        raise WebhookPayloadError("the webhook body is not an event (`data` is not an object)")
    try:
        return cls.model_validate(event)  # pyright: ignore[reportUnknownVariableType]
    except PydanticValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors(include_url=False))
        raise WebhookPayloadError(f"the webhook event does not match its type: {fields}") from None


def construct_event(
    body: bytes, signature: str | bytes | None, *, app_key: str, app_secret: str
) -> WebhookEvent[Any]:
    """Verify the signature of a webhook's raw ``body``, then parse it (see ``parse_event``).

    Raises ``WebhookSignatureError`` when the signature is missing or wrong (nothing is parsed),
    ``WebhookPayloadError`` (a ``ValueError``) when the verified body is not a JSON event.
    """
    if not verify_signature(body, signature, app_key=app_key, app_secret=app_secret):
        raise WebhookSignatureError("the webhook's Authorization header does not sign its body")
    return parse_event(body)


from ._webhook_receiver import (  # noqa: E402 - the receiver builds on the functions above
    DEFAULT_REPLAY_WINDOW,
    RETRY_SCHEDULE,
    DedupStore,
    MemoryDedupStore,
    RedisDedupStore,
    SqliteDedupStore,
    WebhookReceiver,
    WebhookResult,
)
