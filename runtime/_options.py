"""What one call may steer (timeout, retries, extra query, body and headers), the checks every
argument passes before anything is sent, and the events the ``on_request`` / ``on_response``
hooks receive (secrets masked).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, NamedTuple, TypeGuard, cast

import httpx
from pydantic import BaseModel

from ._errors import ConfigurationError, ValidationError

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "MAX_URL_LENGTH",
    "NOT_GIVEN",
    "CallOptions",
    "ExtraBody",
    "ExtraHeaders",
    "ExtraQuery",
    "NotGiven",
    "RequestEvent",
    "RequestHook",
    "RequestOptions",
    "ResponseEvent",
    "ResponseHook",
    "Timeout",
    "check_options",
    "check_query",
    "check_value",
    "loose_mapping",
    "mask_headers",
    "mask_query",
    "positive_seconds",
    "short_repr",
]

#: The largest answer read by default (decompressed): above TikTok's largest real answers.
DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024
#: The longest request URL sent (httpx's own limit); a longer one is refused before sending.
MAX_URL_LENGTH = 65_536
#: How deep lists and objects in arguments may nest (TikTok's deepest bodies need under 10).
MAX_DEPTH = 32
#: The widest integer an argument may hold (TikTok's numbers fit in 64 bits).
MAX_INT_BITS = 64

#: A per-call timeout: seconds for the attempt (connect capped at 10 s), or an ``httpx.Timeout``.
Timeout = float | httpx.Timeout
QueryValue = str | int | float | bool
#: Query parameters added to a call (signed with the rest).
ExtraQuery = Mapping[str, QueryValue | list[QueryValue] | tuple[QueryValue, ...]]
#: JSON body fields added to a call (merged over the method's own; signed as sent).
ExtraBody = Mapping[str, Any]
#: HTTP headers added to a call.
ExtraHeaders = Mapping[str, str]

#: Query keys the client sets itself: an extra query may not replace them.
RESERVED_QUERY = frozenset({"app_key", "app_secret", "timestamp", "sign", "access_token", "shop_cipher"})
#: Headers the client or the transport sets itself: extra headers may not replace them.
RESERVED_HEADERS = frozenset(
    {"x-tts-access-token", "host", "content-length", "content-type", "transfer-encoding", "connection"}
)
_SECRET_QUERY = frozenset({"sign", "app_secret", "access_token", "refresh_token", "auth_code", "code"})
_SECRET_HEADERS = frozenset({"x-tts-access-token", "authorization", "cookie", "set-cookie"})
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")


class NotGiven:
    """The type of ``NOT_GIVEN``: an option left out (``None`` may mean something else)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


class RequestOptions(NamedTuple):
    """The per-call options as a generated method received them (checked by ``check_options``)."""

    timeout: Timeout | None = None
    max_retries: int | None = None
    extra_query: ExtraQuery | None = None
    extra_body: ExtraBody | None = None
    extra_headers: ExtraHeaders | None = None


@dataclass(frozen=True)
class CallOptions:
    """Checked per-call options: ``None`` means the client's own setting."""

    timeout: httpx.Timeout | None = None
    max_retries: int | None = None
    extra_query: dict[str, str] = field(default_factory=dict)
    extra_body: dict[str, Any] = field(default_factory=dict)
    extra_headers: dict[str, str] = field(default_factory=dict)


NO_OPTIONS = CallOptions()


@dataclass(frozen=True)
class RequestEvent:
    """What ``on_request`` sees before each attempt is sent. ``query`` and ``headers`` have every
    secret (``sign``, ``app_secret``, tokens, ``auth_code``) replaced by ``***``."""

    operation: str
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    attempt: int


@dataclass(frozen=True)
class ResponseEvent:
    """What ``on_response`` sees after each attempt: the HTTP status (``None`` when no answer
    came), seconds taken, TikTok's ``request_id`` when one was read, masked headers, and the name
    of the error the attempt ended with (``None`` on success)."""

    operation: str
    method: str
    path: str
    attempt: int
    status_code: int | None
    elapsed: float
    request_id: str | None
    headers: Mapping[str, str]
    error: str | None


RequestHook = Callable[[RequestEvent], object]
ResponseHook = Callable[[ResponseEvent], object]


def is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """Whether ``value`` is a mapping (typed as one with keys and values not yet checked)."""
    return isinstance(value, Mapping)


def mask_query(pairs: Any) -> dict[str, str]:
    """``pairs`` (a mapping or ``(key, value)`` pairs) with secret values replaced by ``***``."""
    items: Iterable[Any] = pairs.items() if is_mapping(pairs) else pairs
    return {str(k): ("***" if str(k).lower() in _SECRET_QUERY else str(v)) for k, v in items}


def mask_headers(headers: Any) -> dict[str, str]:
    """``headers`` (a mapping or pairs) with credentials replaced by ``***``."""
    items: Iterable[Any] = headers.items() if is_mapping(headers) else headers
    return {str(k).lower(): ("***" if str(k).lower() in _SECRET_HEADERS else str(v)) for k, v in items}


def _name(key: object) -> str:
    """A field or key name safe to print (lone surrogates escaped, long names cut)."""
    text = key if isinstance(key, str) and key.isprintable() and key.isascii() else repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def check_value(op_id: str, field: str, value: Any, *, allow_bytes: bool = False) -> None:
    """Refuse an argument value that cannot be sent as JSON or query text, before anything is sent:
    text that is not valid Unicode, NaN or infinity, integers wider than 64 bits, bytes, lists or
    objects nested more than 32 deep or containing themselves. Raises ``ValidationError``.
    """
    _check(op_id, field, value, 0, set(), allow_bytes)


def _refuse(op_id: str, field: str, problem: str) -> ValidationError:
    return ValidationError(f"{op_id}: {field}: {problem}; nothing was sent", field=field)


def _check(op_id: str, field: str, value: Any, depth: int, path: set[int], allow_bytes: bool) -> None:
    if value is None or isinstance(value, (bool, Enum, datetime, date)):
        return
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _refuse(
                    op_id,
                    field,
                    "text is not valid Unicode (a lone surrogate, perhaps from bytes decoded with "
                    "errors='surrogateescape')",
                ) from None
        return
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise _refuse(op_id, field, f"integer too large ({value.bit_length()} bits; at most 64)")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _refuse(
                op_id, field, f"{value!r} is not a number TikTok accepts (NaN and infinity are refused)"
            )
        return
    if isinstance(value, (bytes, bytearray, memoryview)):
        if allow_bytes:
            return
        raise _refuse(op_id, field, "bytes cannot be sent here: pass text (str)")
    if depth >= MAX_DEPTH:
        raise _refuse(op_id, field, f"nested more than {MAX_DEPTH} levels deep")
    marker = id(value)
    if marker in path:
        raise _refuse(op_id, field, "contains itself (a cycle)")
    items: Any
    if is_mapping(value):
        items = value.items()
    elif isinstance(value, BaseModel):
        items = iter(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = enumerate(cast("Iterable[Any]", value))
    else:
        return  # anything else is left to the request model's checks
    path.add(marker)
    try:
        for key, item in items:
            if isinstance(value, Mapping) and not isinstance(key, str):
                raise _refuse(op_id, f"{field}.{_name(key)}", f"keys must be text, got {type(key).__name__}")
            _check(op_id, f"{field}.{_name(key)}", item, depth + 1, path, allow_bytes)
    finally:
        path.discard(marker)


def loose_mapping(name: str, value: Any) -> Mapping[str, Any]:
    """The ``query`` or ``body`` of a loosely typed method: a mapping (``None``: empty).
    Raises ``ValidationError`` for anything else."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{name} must be a mapping of names to values, got {type(value).__name__}; nothing was sent",
            field=name,
        )
    return cast("Mapping[str, Any]", value)


def check_options(op_id: str, options: RequestOptions | None) -> CallOptions:
    """Check a call's options. Raises ``ValidationError`` naming the option and the fix."""
    if options is None or options == _EMPTY:
        return NO_OPTIONS
    timeout = None
    if options.timeout is not None:
        timeout = check_timeout(options.timeout, lambda m: ValidationError(f"{op_id}: {m}", field="timeout"))
    retries = options.max_retries
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValidationError(
            f"{op_id}: max_retries must be an int >= 0, got {_short(retries)}", field="max_retries"
        )
    query = check_query(op_id, options.extra_query)
    body: dict[str, Any] = {}
    if options.extra_body is not None:
        if not isinstance(options.extra_body, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ValidationError(f"{op_id}: extra_body must be a mapping of JSON fields", field="extra_body")
        check_value(op_id, "extra_body", options.extra_body)
        body = dict(options.extra_body)
    headers = check_headers(
        options.extra_headers, lambda m: ValidationError(f"{op_id}: {m}", field="extra_headers")
    )
    return CallOptions(timeout, retries, query, body, headers)


_EMPTY = RequestOptions()


def short_repr(value: Any) -> str:
    """A short ``repr`` of a user's value for an error message; never fails (deep, cyclic or
    huge values are described by their type)."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return f"an integer of {value.bit_length()} bits"
    kind = type(value).__name__
    if isinstance(value, (list, tuple, set, frozenset, dict)) or not isinstance(value, (str, int, float)):
        return f"a {kind}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_short = short_repr


def wire_text(value: Any) -> str:
    """A query value as sent and signed: booleans in lowercase, lists joined with commas."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(wire_text(item) for item in cast("Iterable[Any]", value))
    return str(value)


def check_query(op_id: str, query: Any, name: str = "extra_query") -> dict[str, str]:
    """Query values as sent and signed. Raises ``ValidationError`` for a reserved key or a value
    that is not text, a number, a bool or a list of them."""
    if query is None:
        return {}
    if not is_mapping(query):
        raise ValidationError(f"{op_id}: {name} must be a mapping of names to values", field=name)
    out: dict[str, str] = {}
    for key, value in query.items():
        if not isinstance(key, str) or not key:
            raise ValidationError(f"{op_id}: {name} keys must be non-empty text", field=name)
        where = f"{name}.{_name(key)}"
        check_value(op_id, where, key)
        if key in RESERVED_QUERY:
            fix = " (pass shop_cipher= instead)" if key == "shop_cipher" else ""
            raise ValidationError(f"{op_id}: {where}: the client sets {key!r} itself{fix}", field=where)
        check_value(op_id, where, value)
        scalars: Iterable[Any] = cast("Iterable[Any]", value) if isinstance(value, (list, tuple)) else [value]
        for item in scalars:
            if not isinstance(item, (str, int, float)):
                raise ValidationError(
                    f"{op_id}: {where}: expected text, a number, a bool or a list of them, "
                    f"got {type(item).__name__}",
                    field=where,
                )
        out[key] = wire_text(value)
    return out


def positive_seconds(value: Any) -> bool:
    """Whether ``value`` is a finite, positive number of seconds (not a bool, not a huge int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return 0 < value < 10**9
    return math.isfinite(value) and 0 < value < 1e9


def check_timeout(value: Any, error: Callable[[str], Exception]) -> httpx.Timeout:
    """A timeout option as an ``httpx.Timeout``; raises ``error(message)`` for a bad value."""
    if isinstance(value, httpx.Timeout):
        return value
    if not positive_seconds(value):
        raise error(f"timeout must be a positive number of seconds or an httpx.Timeout, got {_short(value)}")
    return httpx.Timeout(float(value), connect=min(float(value), 10.0))


def check_headers(headers: Any, error: Callable[[str], Exception]) -> dict[str, str]:
    """Extra headers as sent; raises ``error(message)`` for a reserved name or a value that cannot be sent."""
    if headers is None:
        return {}
    if not is_mapping(headers):
        raise error("extra_headers must be a mapping of header names to text")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise error(f"extra_headers: {_name(name)} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise error(f"extra_headers: the client sets {name.lower()!r} itself")
        if not isinstance(value, str) or not _HEADER_VALUE.match(value):
            raise error(f"extra_headers: {name}: the value must be printable ASCII text without line breaks")
        out[name] = value
    return out


def check_client_text(name: str, value: Any, *, required: bool = False, header: bool = False) -> None:
    """A client setting that must be text that can be sent (``header``: printable ASCII).
    Raises ``ConfigurationError`` naming the setting, never echoing its value."""
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value):
        need = "a non-empty string" if required else "a string"
        raise ConfigurationError(f"{name} must be {need}, got {type(value).__name__}")
    if header and not _HEADER_VALUE.match(value):
        raise ConfigurationError(f"{name} must be printable ASCII text (it is sent in a header)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError(f"{name} is not valid Unicode text (it holds a lone surrogate)") from None


def check_max_bytes(value: Any, error: Callable[[str], Exception]) -> int:
    """``max_response_bytes``: a positive int."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise error(f"max_response_bytes must be a positive int, got {_short(value)}")
    return value
