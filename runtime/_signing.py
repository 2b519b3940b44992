"""Request signing for the TikTok Shop Open API (the 202309+ scheme).

``sign`` is the lowercase hex HMAC-SHA256, keyed with the app secret, of::

    app_secret + path + k1v1k2v2... + body + app_secret

where the query pairs exclude ``sign`` and ``access_token`` and are sorted by key, and ``body`` is
the exact JSON text sent (left out when there is none, when it is ``{}``, and for multipart uploads).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["UNSIGNED_QUERY_KEYS", "sign_request", "string_to_sign"]

#: Query keys that never take part in the signature.
UNSIGNED_QUERY_KEYS = frozenset({"sign", "access_token"})


def string_to_sign(path: str, query: Mapping[str, str], body: str | None) -> str:
    """Return the message part of the signature (without the surrounding app secret).

    ``query`` values must be the exact strings sent; ``body`` the exact JSON text sent, or ``None``.
    """
    parts = [path]
    for key in sorted(query):
        if key not in UNSIGNED_QUERY_KEYS:
            parts.append(key)
            parts.append(query[key])
    if body and body != "{}":
        parts.append(body)
    return "".join(parts)


def sign_request(app_secret: str, path: str, query: Mapping[str, str], body: str | None = None) -> str:
    """Compute the ``sign`` query value for one request.

    Raises ``TypeError`` if a query value is not a string (values must be signed as they are sent).
    """
    message = app_secret + string_to_sign(path, query, body) + app_secret
    return hmac.new(app_secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_signature(
    app_secret: str, path: str, query: Mapping[str, str], body: str | None, signature: str
) -> bool:
    """Check a received ``sign`` in constant time (used by the sandbox and by tests)."""
    expected = sign_request(app_secret, path, query, body)
    return hmac.compare_digest(expected, signature)
