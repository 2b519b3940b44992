"""Logging through the stdlib ``logging`` module, with secrets kept out of every record.

The client logs only methods, paths (never query strings), HTTP statuses, codes and request ids.
httpx logs full URLs at INFO, and signed URLs carry ``sign`` (and, for the token endpoints, the
app secret): a filter on the ``httpx`` and ``httpcore`` loggers masks those query values.
"""

from __future__ import annotations

import logging
import re

__all__ = ["install_redaction", "logger", "redact"]

logger = logging.getLogger("tiktokshop")
logger.addHandler(logging.NullHandler())  # quiet unless the application configures logging

_SECRET_QUERY = re.compile(
    r"(?i)\b(sign|app_secret|access_token|refresh_token|auth_code|code|x-tts-access-token)=([^&\s\"']+)"
)
# Header pairs as httpcore's trace lines print them: (b'x-tts-access-token', b'...')
_SECRET_HEADER = re.compile(r"(?i)(x-tts-access-token|authorization)(['\"]?,\s*b?['\"])([^'\"]+)")

#: Every logger httpx and httpcore write to (a filter on a parent does not see a child's records).
_TRANSPORT_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def redact(text: str) -> str:
    """Mask the values of secret-bearing query parameters and headers in ``text``."""
    text = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", text)
    return _SECRET_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            if isinstance(record.args, dict):
                record.args = {
                    k: redact(v) if isinstance(v, str) else _redact_obj(v) for k, v in record.args.items()
                }
            else:
                record.args = tuple(_redact_obj(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def _redact_obj(value: object) -> object:
    if isinstance(value, (int, float)) or value is None:
        return value
    text = str(value)
    masked = redact(text)
    return masked if masked != text else value


_installed = False


def install_redaction() -> None:
    """Attach the redacting filter to the loggers of httpx and httpcore (once per process)."""
    global _installed
    if _installed:
        return
    for name in _TRANSPORT_LOGGERS:
        logging.getLogger(name).addFilter(_RedactingFilter())
    _installed = True
