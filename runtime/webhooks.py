"""Receiving TikTok Shop webhooks: check the signature, then parse the event.

TikTok POSTs JSON ``{type, tts_notification_id, shop_id, timestamp, data}`` with the header
``Authorization`` holding the lowercase hex HMAC-SHA256, keyed with the app secret, of the app key
followed by the raw body. Verify before parsing, on the raw bytes as received::

    event = tiktokshop.webhooks.construct_event(request.body, request.headers["Authorization"],
                                                app_key=APP_KEY, app_secret=APP_SECRET)
    if event.type_name == "ORDER_STATUS_CHANGE": ...
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from pydantic import ConfigDict, Field

from ._errors import TikTokShopError
from ._models import ResponseModel

__all__ = [
    "WebhookEvent",
    "WebhookSignatureError",
    "construct_event",
    "expected_signature",
    "verify_signature",
]


class WebhookSignatureError(TikTokShopError):
    """The webhook's signature is missing or does not match its body: do not trust it."""


class WebhookEvent(ResponseModel):
    """One webhook event. ``type_name`` names ``type`` from the spec's table (``None`` when the
    number is unknown: the event still parses). ``data`` is the event's payload as sent."""

    model_config = ConfigDict(extra="allow")

    type: int
    tts_notification_id: str | None = None
    shop_id: str | None = None
    timestamp: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def type_name(self) -> str | None:
        """The event type's name (``ORDER_STATUS_CHANGE``...), or ``None`` for a number not in the table."""
        from .resources._api import WEBHOOK_TYPES

        return WEBHOOK_TYPES.get(self.type)


def expected_signature(body: bytes, *, app_key: str, app_secret: str) -> str:
    """The ``Authorization`` value TikTok sends with a webhook whose raw body is ``body``."""
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str | bytes | None, *, app_key: str, app_secret: str) -> bool:
    """Whether ``signature`` (the ``Authorization`` header, text or bytes) matches ``body``, compared in
    constant time. Never raises on a hostile header: anything malformed is simply not a match."""
    if isinstance(signature, (bytes, bytearray)):
        try:
            signature = bytes(signature).decode("ascii")
        except UnicodeDecodeError:
            return False
    if not signature or not isinstance(signature, str) or not isinstance(body, (bytes, bytearray)):
        return False
    given = signature.strip().lower()
    if not given.isascii():  # hostile header text: a mismatch, never an exception
        return False
    expected = expected_signature(bytes(body), app_key=app_key, app_secret=app_secret)
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))


def construct_event(
    body: bytes, signature: str | bytes | None, *, app_key: str, app_secret: str
) -> WebhookEvent:
    """Verify the signature of a webhook's raw ``body``, then parse it.

    Raises ``WebhookSignatureError`` when the signature is missing or wrong (nothing is parsed),
    ``ValueError`` when the verified body is not a JSON event.
    """
    if not verify_signature(body, signature, app_key=app_key, app_secret=app_secret):
        raise WebhookSignatureError("the webhook's Authorization header does not sign its body")
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValueError("the webhook body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), int):
        raise ValueError("the webhook body is not an event (no integer `type`)")
    return WebhookEvent.model_validate(payload)
