"""``tiktokshop.sandbox``: a strict, stateful local stand-in for TikTok Shop's API and auth hosts.

    from tiktokshop.sandbox import Sandbox
    with Sandbox(orders=500, seed=1) as sandbox:          # serves on a free 127.0.0.1 port
        client = sandbox.client()                          # a TikTokShop with valid tokens
        page = client.order.get_order_list(page_size=50, order_status="AWAITING_SHIPMENT")

It checks every request as TikTok does (app key, timestamp, signature, token, shop cipher,
arguments), keeps orders, packages and products that change as the API is used, answers every
other operation of the spec with data generated from its response model, fails on demand
(``sandbox.faults``), logs requests (``sandbox.requests``) and sends signed webhooks
(``sandbox.webhooks``, retried on TikTok's schedule by its clock). Any process can drive it over
HTTP through its control API under ``/_sandbox`` (docs/sandbox.md). ``tiktokshop sandbox`` or
``python -m tiktokshop.sandbox`` serves one until Ctrl-C.
Importing ``tiktokshop`` does not import this package.
"""

# pyright: standard

from ._app import LoggedRequest, RequestLog
from ._clock import Clock
from ._codes import ERRORS, ErrorKind
from ._faults import FAULT_KINDS, Fault, FaultKind, Faults
from ._sandbox import IN_PROCESS_URL, Sandbox, SandboxSeller
from ._server import SandboxTransport
from ._state import ORDER_STATUSES, PACKAGE_STATUSES, State
from ._webhooks import RETRY_SCHEDULE, Delivery, PendingRetry, Webhooks, sign_webhook

__all__ = [
    "ERRORS",
    "FAULT_KINDS",
    "IN_PROCESS_URL",
    "ORDER_STATUSES",
    "PACKAGE_STATUSES",
    "RETRY_SCHEDULE",
    "Clock",
    "Delivery",
    "ErrorKind",
    "Fault",
    "FaultKind",
    "Faults",
    "LoggedRequest",
    "PendingRetry",
    "RequestLog",
    "Sandbox",
    "SandboxSeller",
    "SandboxTransport",
    "State",
    "Webhooks",
    "sign_webhook",
]
