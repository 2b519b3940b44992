"""The request handler behind both faces of the sandbox (the HTTP server and the in-process transport).

``App.handle`` takes a transport-neutral ``Request`` and returns an ``Answer``: it routes by method
and path template over every generated operation, applies armed faults, checks the request as
TikTok does (``_auth``), validates its arguments with the operation's request models
(``_validate``), answers from the stateful handlers (``_handlers``) or with data generated from the
response model (``_generic``), and records the request in the log.
"""

# pyright: standard

from __future__ import annotations

import hashlib
import hmac
import importlib
import itertools
import json
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from tiktokshop._operation import Operation

from ._auth import Grant, TokenStore, check_signature, check_timestamp, single_values
from ._clock import Clock
from ._codes import (
    INTERNAL_ERROR,
    INVALID_PARAMETER,
    INVALID_SHOP_CIPHER,
    NO_SUCH_ROUTE,
    RATE_LIMITED,
    SHOP_CIPHER_NOT_ACCEPTED,
    SHOP_CIPHER_REQUIRED,
    UNKNOWN_SERVICE_ID,
    WRONG_CONTENT_TYPE,
    ErrorKind,
    SandboxError,
)
from ._documents import label_pdf, label_zpl
from ._faults import Fault, Faults, RateLimiter
from ._generic import project, sample
from ._handlers import HANDLERS, Call
from ._state import Shop, State
from ._validate import parse_form, validate_body, validate_form, validate_query

__all__ = ["Answer", "App", "LoggedRequest", "Request", "RequestLog", "Router", "load_operations"]

logger = logging.getLogger("tiktokshop.sandbox")

_COMMON = frozenset({"app_key", "timestamp", "sign", "shop_cipher", "access_token"})
_MASKED = frozenset({"app_secret", "auth_code", "refresh_token", "token", "code", "access_token"})
DOCUMENT_TTL = 24 * 3600


#: Where the control API lives: a path TikTok does not use.
CONTROL_PREFIX = "/_sandbox"


def load_operations() -> list[Operation[Any]]:
    """Every operation of every domain of the generated client (imports each domain)."""
    from tiktokshop.resources import DOMAINS

    ops: list[Operation[Any]] = []
    for domain in DOMAINS:
        module = importlib.import_module(f"tiktokshop.resources.{domain}")
        ops.extend(module.OPERATIONS)
    return ops


@dataclass(frozen=True)
class Request:
    """A request as received: ``target`` is the raw path and query, header names are lowercase."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass
class Answer:
    """What to send back; ``drop`` means close the connection without answering."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the sandbox saw it. ``query`` leaves out ``sign`` and masks secrets.

    ``status`` is 0 and ``code`` ``None`` when the connection was dropped before processing;
    after a ``drop_after`` fault they are what the answer would have been.
    """

    op_id: str
    method: str
    path: str
    query: dict[str, str]
    access_token: str | None
    status: int
    code: int | None
    time: float
    request_id: str | None
    fault: str | None = None


class RequestLog:
    """The most recent requests (oldest first), bounded; safe to read while the server runs."""

    def __init__(self, size: int) -> None:
        self._items: deque[LoggedRequest] = deque(maxlen=size)
        self._lock = threading.Lock()

    def append(self, item: LoggedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(item)

    def _snapshot(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self._snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> LoggedRequest:
        return self._snapshot()[index]

    def for_op(self, op_id: str) -> list[LoggedRequest]:
        """The logged requests of one operation."""
        return [item for item in self._snapshot() if item.op_id == op_id]

    def clear(self) -> None:
        """Forget every logged request."""
        with self._lock:
            self._items.clear()

    def __repr__(self) -> str:
        return f"<RequestLog of {len(self)} requests>"


class Router:
    """Finds the operation of a method and raw path: exact paths first, then templates."""

    def __init__(self, operations: list[Operation[Any]]) -> None:
        self.operations = {op.id: op for op in operations}
        self._exact: dict[tuple[str, str], Operation[Any]] = {}
        self._templated: dict[str, list[tuple[re.Pattern[str], Operation[Any]]]] = {}
        for op in operations:
            if "{" not in op.path:
                self._exact.setdefault((op.method, op.path), op)
                continue
            pattern = re.compile(
                "^" + re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(op.path)) + "$"
            )
            self._templated.setdefault(op.method, []).append((pattern, op))
        for entries in self._templated.values():
            entries.sort(key=lambda entry: entry[1].path.count("{"))

    def match(self, method: str, raw_path: str) -> tuple[Operation[Any], dict[str, str]] | None:
        """The operation and its (decoded) path arguments, or ``None``."""
        op = self._exact.get((method, raw_path))
        if op is not None:
            return op, {}
        for pattern, candidate in self._templated.get(method, ()):
            found = pattern.match(raw_path)
            if found:
                return candidate, {k: unquote(v) for k, v in found.groupdict().items()}
        return None


class App:
    """The sandbox's request handler. See the module docstring."""

    def __init__(
        self,
        *,
        state: State,
        tokens: TokenStore,
        clock: Clock,
        faults: Faults,
        service_id: str,
        base_url: Callable[[], str],
        redirect_url: Callable[[], str],
        log_size: int = 10_000,
        rate_limits: bool | Mapping[str, float] = False,
    ) -> None:
        self.state = state
        self.tokens = tokens
        self.clock = clock
        self.faults = faults
        self.service_id = service_id
        self._base_url = base_url
        self._redirect_url = redirect_url
        self.router = Router(load_operations())
        self.limiter: RateLimiter | None = None
        if rate_limits is not False:
            from tiktokshop.resources._api import DEFAULT_RATE_LIMIT

            self.limiter = RateLimiter(
                {} if rate_limits is True else rate_limits,
                spec_limits=lambda op_id: self.router.operations[op_id].rate_limit or DEFAULT_RATE_LIMIT,
            )
        self.log = RequestLog(log_size)
        #: The control API (``/_sandbox/...``), set by ``Sandbox``; not logged, never faulted.
        self.control: Callable[[str, str, list[tuple[str, str]], bytes], Answer] | None = None
        self._ids = itertools.count(1)
        self._doc_key = hashlib.sha256(b"sandbox-documents" + tokens.app_secret.encode()).digest()

    # -- entry point -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer:
        """Answer one request (never raises for a bad request: errors become TikTok envelopes)."""
        raw_path, _, raw_query = request.target.partition("?")
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        if self.control is not None and (
            raw_path == CONTROL_PREFIX or raw_path.startswith(CONTROL_PREFIX + "/")
        ):
            return self.control(request.method, raw_path, pairs, request.body)
        special = self._special(request.method, raw_path)
        if special is not None:
            op_id, run = special
            return self._run(op_id, request, raw_path, pairs, lambda: run(request, pairs))
        matched = self.router.match(request.method, raw_path)
        if matched is None:
            request_id = self._request_id()
            answer = self._error_answer(
                SandboxError(NO_SUCH_ROUTE, f"{request.method} {raw_path}"), request_id
            )
            self._record("", request, raw_path, pairs, answer, NO_SUCH_ROUTE.code, request_id)
            return answer
        op, path_args = matched
        return self._run(
            op.id, request, raw_path, pairs, lambda: self._api(op, path_args, request, raw_path, pairs)
        )

    def _run(
        self,
        op_id: str,
        request: Request,
        raw_path: str,
        pairs: list[tuple[str, str]],
        process: Callable[[], tuple[Answer, int | None, str | None]],
    ) -> Answer:
        fault = self.faults.take(op_id)
        if fault is not None and fault.kind == "drop_before":
            self._record(op_id, request, raw_path, pairs, Answer(0), None, None, fault)
            return Answer(0, drop=True)
        if fault is not None and fault.kind not in ("slow", "drop_after", "malformed_json"):
            answer, code, request_id = self._fault_answer(fault)
            self._record(op_id, request, raw_path, pairs, answer, code, request_id, fault)
            return answer
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        answer, code, request_id = process()
        self._record(op_id, request, raw_path, pairs, answer, code, request_id, fault)
        if fault is not None and fault.kind == "drop_after":
            return Answer(0, drop=True)
        if fault is not None and fault.kind == "malformed_json":
            answer.body = answer.body[: max(1, len(answer.body) // 2)] + b"\x00<!-- truncated"
        return answer

    # -- answers ---------------------------------------------------------------------------------

    def _request_id(self) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.clock.now()))
        return f"{stamp}{next(self._ids):020X}"

    def _envelope(self, status: int, code: int, message: str, data: Any, request_id: str) -> Answer:
        body = json.dumps(
            {"code": code, "message": message, "data": data, "request_id": request_id},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        return Answer(
            status, body, [("content-type", "application/json; charset=utf-8"), ("x-tt-logid", request_id)]
        )

    def _error_answer(self, error: SandboxError, request_id: str) -> Answer:
        answer = self._envelope(error.status, error.kind.code, error.message, None, request_id)
        answer.headers.extend(error.headers)
        return answer

    def _fault_answer(self, fault: Fault) -> tuple[Answer, int | None, str | None]:
        request_id = self._request_id()
        if fault.kind == "http_429":
            answer = self._envelope(429, RATE_LIMITED.code, RATE_LIMITED.message, None, request_id)
            answer.headers.append(("retry-after", f"{fault.retry_after:g}"))
            return answer, RATE_LIMITED.code, request_id
        if fault.kind == "http_5xx":
            page = f"<html><body><h1>{fault.status} Service Unavailable</h1></body></html>".encode()
            return Answer(fault.status, page, [("content-type", "text/html")]), None, None
        kind: ErrorKind = RATE_LIMITED if fault.kind == "rate_limit_code" else INTERNAL_ERROR
        return self._envelope(200, kind.code, kind.message, None, request_id), kind.code, request_id

    def _record(
        self,
        op_id: str,
        request: Request,
        raw_path: str,
        pairs: list[tuple[str, str]],
        answer: Answer,
        code: int | None,
        request_id: str | None,
        fault: Fault | None = None,
    ) -> None:
        query = {k: ("***" if k in _MASKED else v) for k, v in pairs if k != "sign"}
        self.log.append(
            LoggedRequest(
                op_id=op_id,
                method=request.method,
                path=unquote(raw_path),
                query=query,
                access_token=request.headers.get("x-tts-access-token"),
                status=answer.status,
                code=code,
                time=self.clock.now(),
                request_id=request_id,
                fault=fault.kind if fault else None,
            )
        )
        logger.debug("%s %s -> %s (code %s)", request.method, raw_path, answer.status, code)

    # -- the API ---------------------------------------------------------------------------------

    def _api(
        self,
        op: Operation[Any],
        path_args: dict[str, str],
        request: Request,
        raw_path: str,
        pairs: list[tuple[str, str]],
    ) -> tuple[Answer, int | None, str | None]:
        request_id = self._request_id()
        try:
            data = self._call(op, path_args, request, raw_path, pairs)
        except SandboxError as error:
            return self._error_answer(error, request_id), error.kind.code, request_id
        except Exception:
            logger.exception("sandbox: %s failed", op.id)
            return (
                self._error_answer(SandboxError(INTERNAL_ERROR), request_id),
                INTERNAL_ERROR.code,
                request_id,
            )
        return self._envelope(200, 0, "Success", data, request_id), 0, request_id

    def _call(
        self,
        op: Operation[Any],
        path_args: dict[str, str],
        request: Request,
        raw_path: str,
        pairs: list[tuple[str, str]],
    ) -> Any:
        """Check, validate and answer one API call; raises ``SandboxError`` for any refusal."""
        query = single_values(pairs)
        grant, shop = self._authenticate(op, request, raw_path, query)
        self._limit(op, shop)
        params, body = self._arguments(op, request, query, path_args)
        handler = HANDLERS.get(op.id)
        if handler is None:
            return self._generic_data(op)
        call = Call(op.id, shop, grant, params, body, self._document_url)
        return project(handler(self.state, call), op.response)

    def _authenticate(
        self, op: Operation[Any], request: Request, raw_path: str, query: dict[str, str]
    ) -> tuple[Grant, Shop | None]:
        """TikTok's checks, in its order: app key, timestamp, signature, access token, shop cipher."""
        self.tokens.check_app_key(query)
        check_timestamp(query, self.clock.now())
        if op.form is not None:
            signed_body = ""  # a multipart upload is not signed
        else:
            try:
                signed_body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise SandboxError(INVALID_PARAMETER, "the body is not UTF-8") from None
        check_signature(self.tokens.app_secret, raw_path, query, signed_body)
        grant = self.tokens.check_access(request.headers.get("x-tts-access-token"))
        cipher = query.get("shop_cipher")
        if not op.shop_scoped:
            if cipher is not None:
                raise SandboxError(SHOP_CIPHER_NOT_ACCEPTED)
            return grant, None
        if not cipher:
            if op.shop_optional:
                return grant, None
            raise SandboxError(SHOP_CIPHER_REQUIRED)
        shop = self.state.shop_for_cipher(cipher)
        if shop is None or grant.open_id != (shop.owner or self.state.open_id):
            raise SandboxError(INVALID_SHOP_CIPHER)
        return grant, shop

    def _limit(self, op: Operation[Any], shop: Shop | None) -> None:
        """Refuse the call with HTTP 429 when it is over its rate limit (if limits are on)."""
        if self.limiter is None:
            return
        wait = self.limiter.acquire(op.id, shop.id if shop is not None else None)
        if wait:
            raise SandboxError(
                RATE_LIMITED,
                f"{op.id} allows fewer requests per second",
                status=429,
                headers=(("retry-after", str(max(1, math.ceil(wait)))),),
            )

    def _arguments(
        self, op: Operation[Any], request: Request, query: dict[str, str], path_args: dict[str, str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The call's arguments, validated by its request models: ``(path and query, body or form)``."""
        declared = op.params.model_fields if op.params is not None else {}
        rest = {k: v for k, v in query.items() if k not in _COMMON or k in declared}
        params = validate_query(op.params, rest, path_args, loose=op.loose)
        content_type = request.headers.get("content-type", "")
        if op.form is not None:
            fields, files = parse_form(content_type, request.body)
            return params, validate_form(op.form, op.files, fields, files)
        if request.body.strip() and not content_type.lower().startswith("application/json"):
            raise SandboxError(WRONG_CONTENT_TYPE)
        return params, validate_body(op.body, request.body, loose=op.loose)

    def _generic_data(self, op: Operation[Any]) -> Any:
        data = sample(op.response)
        if op.pagination is not None:
            data[op.pagination.next_token] = ""
        return data

    # -- documents -------------------------------------------------------------------------------

    def _doc_sig(self, package_id: str, doc_type: str, fmt: str, expires: int) -> str:
        message = f"{package_id}|{doc_type}|{fmt}|{expires}".encode()
        return hmac.new(self._doc_key, message, hashlib.sha256).hexdigest()[:32]

    def _document_url(self, package_id: str, doc_type: str, fmt: str) -> str:
        expires = int(self.clock.now()) + DOCUMENT_TTL
        ext = "pdf" if fmt == "PDF" else "zpl"
        query = urlencode({"expires": expires, "token": self._doc_sig(package_id, doc_type, fmt, expires)})
        return f"{self._base_url()}/sandbox/documents/{quote(package_id)}/{quote(doc_type)}.{ext}?{query}"

    def _document(
        self, request: Request, pairs: list[tuple[str, str]]
    ) -> tuple[Answer, int | None, str | None]:
        path = request.target.partition("?")[0]
        found = re.fullmatch(r"/sandbox/documents/([^/]+)/([A-Z_]+)\.(pdf|zpl)", path)
        query = dict(pairs)
        if found is None:
            return Answer(404, b"no such document", [("content-type", "text/plain")]), None, None
        package_id, doc_type, ext = unquote(found.group(1)), found.group(2), found.group(3)
        fmt = "PDF" if ext == "pdf" else "ZPL"
        expires = int(query["expires"]) if query.get("expires", "").isdigit() else 0
        good = hmac.compare_digest(query.get("token", ""), self._doc_sig(package_id, doc_type, fmt, expires))
        if not good or self.clock.now() > expires:
            return Answer(403, b"link expired or invalid", [("content-type", "text/plain")]), None, None
        with self.state.lock:
            package = self.state.packages.get(package_id)
            if package is None:
                return Answer(404, b"no such package", [("content-type", "text/plain")]), None, None
            provider = package.provider[1] if package.provider else "-"
            lines = [
                "TikTok Shop sandbox",
                doc_type.replace("_", " "),
                f"Package {package.id}",
                f"Order {package.order_id}",
                f"Carrier {provider}",
                f"Tracking {package.tracking_number or '-'}",
            ]
        content = label_pdf(lines) if fmt == "PDF" else label_zpl(lines)
        content_type = "application/pdf" if fmt == "PDF" else "application/octet-stream"
        return Answer(200, content, [("content-type", content_type)]), None, None

    # -- authorization and tokens ----------------------------------------------------------------

    def _special(
        self, method: str, raw_path: str
    ) -> tuple[str, Callable[[Request, list[tuple[str, str]]], tuple[Answer, int | None, str | None]]] | None:
        if method != "GET":
            return None
        if raw_path == "/open/authorize":
            return "auth.authorize", self._authorize
        if raw_path == "/api/v2/token/get":
            return "auth.get_access_token", self._token_get
        if raw_path == "/api/v2/token/refresh":
            return "auth.refresh_access_token", self._token_refresh
        if raw_path.startswith("/sandbox/documents/"):
            return "sandbox.document", self._document
        if raw_path == "/sandbox/callback":
            return "sandbox.callback", self._callback
        if raw_path in ("/", "/sandbox"):
            return "sandbox.info", self._info
        return None

    def _authorize(
        self, request: Request, pairs: list[tuple[str, str]]
    ) -> tuple[Answer, int | None, str | None]:
        query = dict(pairs)
        request_id = self._request_id()
        if query.get("service_id") != self.service_id:
            error = SandboxError(UNKNOWN_SERVICE_ID)
            return self._error_answer(error, request_id), error.kind.code, request_id
        seller = query.get("seller") or self.state.open_id  # the sandbox's page: who signs in
        if seller not in self.state.sellers:
            error = SandboxError(INVALID_PARAMETER, f"no seller {seller!r} in this sandbox")
            return self._error_answer(error, request_id), error.kind.code, request_id
        code = self.tokens.issue_code(seller)
        target = self._redirect_url()
        params = {"code": code, "state": query.get("state", "")}
        location = target + ("&" if "?" in target else "?") + urlencode(params)
        return Answer(302, b"", [("location", location), ("content-length", "0")]), None, request_id

    def _token_answer(
        self, run: Callable[[Mapping[str, str]], dict[str, object]], pairs: list[tuple[str, str]]
    ) -> tuple[Answer, int | None, str | None]:
        request_id = self._request_id()
        try:
            data = run(single_values(pairs))
        except SandboxError as error:
            return self._error_answer(error, request_id), error.kind.code, request_id
        return self._envelope(200, 0, "success", data, request_id), 0, request_id

    def _token_get(
        self, request: Request, pairs: list[tuple[str, str]]
    ) -> tuple[Answer, int | None, str | None]:
        return self._token_answer(self.tokens.exchange, pairs)

    def _token_refresh(
        self, request: Request, pairs: list[tuple[str, str]]
    ) -> tuple[Answer, int | None, str | None]:
        return self._token_answer(self.tokens.rotate, pairs)

    def _callback(
        self, request: Request, pairs: list[tuple[str, str]]
    ) -> tuple[Answer, int | None, str | None]:
        page = b"<html><body><p>Authorization finished: the code is in this page's URL.</p></body></html>"
        return Answer(200, page, [("content-type", "text/html; charset=utf-8")]), None, None

    def _info(self, request: Request, pairs: list[tuple[str, str]]) -> tuple[Answer, int | None, str | None]:
        body = json.dumps(
            {
                "sandbox": "tiktokshop",
                "operations": len(self.router.operations),
                "orders": len(self.state.orders),
            }
        ).encode()
        return Answer(200, body, [("content-type", "application/json")]), None, None
