"""The core every generated call goes through: validation, signing, tokens, transport, errors, retries.

``BaseClient`` holds everything that does not depend on how bytes travel (checking arguments,
building and signing a request, reading the envelope, deciding on a retry, refreshing tokens);
``SyncAPIClient`` adds the blocking loop over one pooled ``httpx.Client``. An async client adds
the same loop over ``httpx.AsyncClient`` and reuses all the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import IO, Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
import pydantic

from ._errors import (
    ERROR_CLASSES,
    ApiError,
    ConfigurationError,
    MalformedResponseError,
    RateLimitError,
    RateLimitWaitError,
    ReauthorizationRequired,
    RequestTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
    class_for_status,
)
from ._files import check_file, open_file
from ._logging import install_redaction, logger, redact
from ._models import RequestModel, ResponseModel
from ._operation import ErrorCode, Operation
from ._rate_limit import Limiter
from ._signing import sign_request
from ._token_store import TokenStore, TokenStoreError
from ._tokens import DEFAULT_SELLER, AccessToken, AuthorizedShop, SellerRecord, TokenState
from ._version import __version__

__all__ = ["AsyncAPIClient", "BaseClient", "ClientConfig", "PreparedCall", "SyncAPIClient"]

R = TypeVar("R", bound=ResponseModel)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_TOKEN_REFRESH_MARGIN = 300
DEFAULT_TOTAL_TIMEOUT = 120.0
_BODY_PREVIEW = 200


@dataclass(frozen=True)
class ClientConfig:
    """Settings shared by every call of one client. ``app_secret`` never appears in its repr."""

    app_key: str
    app_secret: str
    base_url: str
    auth_base_url: str
    authorize_url: str
    us_authorize_url: str
    service_id: str | None = None
    shop_id: str | None = None
    shop_cipher: str | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    token_refresh_margin: int = DEFAULT_TOKEN_REFRESH_MARGIN
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0
    total_timeout: float | None = 120.0

    def __repr__(self) -> str:
        return f"ClientConfig(app_key={self.app_key!r}, base_url={self.base_url!r}, shop_id={self.shop_id!r})"


@dataclass(frozen=True)
class PreparedCall:
    """A validated call, ready to be signed and sent (again, on a retry, with a fresh timestamp)."""

    op: Operation[Any]
    path: str
    query: dict[str, str]
    body: str | None
    shop_cipher: str | None
    params_in: dict[str, Any]
    body_in: dict[str, Any]
    form: dict[str, str] | None = None
    files: dict[str, Any] | None = None


def _wire_value(value: Any) -> str:
    """A query value as sent and signed: booleans in lowercase, lists joined with commas."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_wire_value(item) for item in value)
    return str(value)


def _plain(value: Any) -> Any:
    """Turn tuples (and other non-str sequences users pass) into lists, recursively, for strict models."""
    if isinstance(value, (tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _check_text(op_id: str, field: str, value: Any) -> None:
    """Refuse text that cannot be sent as UTF-8 (lone surrogates), naming the field."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(
                f"{op_id}: {field}: text is not valid Unicode (a lone surrogate, perhaps from bytes "
                "decoded with errors='surrogateescape'); nothing was sent",
                field=field,
            ) from None
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_text(op_id, f"{field}.{key}", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_text(op_id, f"{field}.{index}", item)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _validation_error(op_id: str, exc: pydantic.ValidationError) -> ValidationError:
    problems: list[str] = []
    first: str | None = None
    for err in exc.errors(include_url=False):
        field = ".".join(str(part) for part in err["loc"]) or "(arguments)"
        first = first or field
        if err["type"] == "extra_forbidden":
            problems.append(f"{field}: unknown field; check its spelling against the method's docstring")
        elif err["type"] == "missing":
            problems.append(f"{field}: required, but missing")
        else:
            problems.append(f"{field}: {err['msg']} (got {_short(err.get('input'))})")
    message = f"{op_id}: invalid arguments, nothing was sent:\n  " + "\n  ".join(problems)
    return ValidationError(message, field=first)


def _validate(op_id: str, model: type[RequestModel], data: dict[str, Any]) -> RequestModel:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _validation_error(op_id, exc) from None


M = TypeVar("M", bound=ResponseModel)


def _parse_data(model: type[M], data: Any, request_id: str | None, status: int, op_id: str) -> M:
    """The envelope's ``data`` as ``model``, carrying ``request_id``. Raises ``MalformedResponseError``."""
    try:
        result = model.model_validate(data if data is not None else {})
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            ".".join(str(p) for p in err["loc"]) + ": " + err["msg"] for err in exc.errors()[:5]
        )
        raise MalformedResponseError(
            f"{op_id}: the answer's data does not fit {model.__name__}: {problems}",
            status_code=status,
            request_id=request_id,
        ) from None
    result._request_id = request_id
    return result


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class SellerSession:
    """One seller's credentials as the clients of that seller share them (``client.for_shop``).

    ``seller`` is TikTok's ``open_id`` (or the key the user chose, or ``"default"``); ``tokens`` the
    one token pair of the seller's authorization; ``shops`` the shops it covers; ``lock`` the
    in-process lock of a refresh (a thread lock for the sync client, an asyncio lock for the async).
    """

    def __init__(self, seller: str | None, tokens: TokenState, lock: Any) -> None:
        self.seller = seller or DEFAULT_SELLER
        self.tokens = tokens
        self.lock = lock
        self.name: str | None = None
        self.region: str | None = None
        self.shops: tuple[AuthorizedShop, ...] = ()
        self.loaded = False

    def record(self) -> SellerRecord:
        """What a store keeps of this seller now (copies)."""
        return SellerRecord(self.seller, self.tokens.copy(), self.name, self.region, self.shops)

    def take(self, record: SellerRecord) -> None:
        """Adopt a stored record's seller details (not its tokens: see ``BaseClient._adopt``)."""
        self.name = record.name or self.name
        self.region = record.region or self.region
        self.shops = record.shops or self.shops


class BaseClient:
    """Transport-independent logic of the client. Not used directly: see ``TikTokShop``."""

    def __init__(
        self,
        config: ClientConfig,
        tokens: TokenState,
        *,
        clock: Callable[[], float] = time.time,
        token_store: TokenStore | None = None,
        rate_limiter: Limiter | None = None,
        session: SellerSession | None = None,
        seller: str | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._store = token_store
        self._limiter = rate_limiter
        self._seller = session if session is not None else SellerSession(seller, tokens, self._new_lock())
        self._tokens = self._seller.tokens
        self._token_lock = self._seller.lock
        install_redaction()

    @staticmethod
    def _new_lock() -> Any:
        raise NotImplementedError

    # -- token persistence -----------------------------------------------------------------------

    def _adopt(self, stored: SellerRecord | None, *, initial: bool = False) -> bool:
        """Take the stored tokens when they are newer than ours (another worker refreshed).
        Returns whether ours should be saved (a first client bringing tokens the store lacks)."""
        self._seller.loaded = True
        mine = self._tokens
        if stored is None or not stored.tokens.access_token:
            return initial and bool(mine.access_token)
        self._seller.take(stored)
        theirs = stored.tokens
        if theirs.access_token == mine.access_token and theirs.refresh_token == mine.refresh_token:
            return False
        if not mine.access_token or (theirs.access_token_expire or 0) >= (mine.access_token_expire or 0):
            mine.assign(theirs)
            return False
        return initial

    def _load_steps(self, *, initial: bool = False) -> Steps[None]:
        """Read the seller's record and adopt it (saving ours when the store has nothing newer)."""
        if self._store is None:
            return
        stored = yield _Load(self._seller.seller)
        if self._adopt(stored, initial=initial):
            yield _Save(self._seller.record())

    def _save_steps(self) -> Steps[None]:
        """Write the seller's record now."""
        yield _Save(self._seller.record())

    def _store_lock(self) -> contextlib.AbstractContextManager[None]:
        return self._store.lock(self._seller.seller) if self._store is not None else contextlib.nullcontext()

    def _store_alock(self) -> contextlib.AbstractAsyncContextManager[None]:
        if self._store is None:
            return contextlib.nullcontext()
        return self._store.alock(self._seller.seller)

    # -- building a call -------------------------------------------------------------------------

    def _prepare(
        self,
        op: Operation[Any],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        shop_cipher: str | None,
        form: Mapping[str, Any] | None = None,
    ) -> PreparedCall:
        """Check every argument and build the path, query and body. Raises ``ValidationError``."""
        body = body or {}
        for source in (params, body, form or {}):
            for name, value in source.items():
                _check_text(op.id, name, value)
        omit = dict(op.omit)
        params_in = {
            k: _plain(v) for k, v in params.items() if v is not None and not (k in omit and omit[k] == v)
        }
        body_in = {
            k: _plain(v) for k, v in body.items() if v is not None and not (k in omit and omit[k] == v)
        }
        wire_params: dict[str, Any] = {}
        if op.params is not None:
            wire_params = _validate(op.id, op.params, params_in).model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        elif params_in:
            raise ValidationError(f"{op.id}: takes no query arguments, got {sorted(params_in)}")
        path = op.path
        for name in op.path_params:
            raw = str(wire_params.pop(name))
            if raw in ("", ".", ".."):
                raise ValidationError(
                    f"{op.id}: path argument {name!r} must be a non-empty id, got {raw!r}; nothing was sent",
                    field=name,
                )
            path = path.replace("{" + name + "}", quote(raw, safe=""))
        query = {key: _wire_value(value) for key, value in wire_params.items()}

        body_text: str | None = None
        if op.body is not None:
            body_obj = _validate(op.id, op.body, body_in).model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
            body_text = json.dumps(body_obj, ensure_ascii=False, separators=(",", ":"))
        elif op.loose and op.method != "GET":
            body_text = json.dumps(body_in, ensure_ascii=False, separators=(",", ":"))
        elif body_in:
            raise ValidationError(f"{op.id}: takes no body arguments, got {sorted(body_in)}")

        form_fields: dict[str, str] | None = None
        files: dict[str, Any] | None = None
        if op.form is not None:
            form_in = {k: v for k, v in (form or {}).items() if v is not None}
            files = {name: form_in[name] for name in op.files if name in form_in}
            for name, value in files.items():
                check_file(op.id, name, value)
            checked = _validate(
                op.id, op.form, {k: ("<file>" if k in files else _plain(v)) for k, v in form_in.items()}
            )
            form_fields = {
                k: _wire_value(v)
                for k, v in checked.model_dump(mode="json", by_alias=True, exclude_none=True).items()
                if k not in files
            }

        cipher: str | None = None
        if op.shop_scoped:
            cipher = shop_cipher or self._config.shop_cipher
            if not cipher:
                raise ConfigurationError(
                    f"{op.id} is scoped to a shop and needs a shop_cipher: pass shop_cipher= to "
                    "TikTokShop(...) or to this call (authorization.get_authorized_shops() lists them)"
                )
        return PreparedCall(op, path, query, body_text, cipher, params_in, body_in, form_fields, files)

    def _build_request(self, call: PreparedCall) -> tuple[httpx.Request, list[IO[bytes]]]:
        """Sign ``call`` with a fresh timestamp and the current access token.

        Returns the request and the files opened for it, which the caller closes after sending.
        A multipart body is not signed (the reference says so); a JSON body is signed as sent.
        """
        token = self._tokens.access_token
        if not token:
            raise ConfigurationError(
                f"{call.op.id} needs an access token: pass access_token= to TikTokShop(...) or "
                "exchange an authorization code with client.auth.get_access_token(auth_code)"
            )
        query = dict(call.query)
        query["app_key"] = self._config.app_key
        query["timestamp"] = str(int(self._clock()))
        if call.shop_cipher is not None:
            query["shop_cipher"] = call.shop_cipher
        query["sign"] = sign_request(self._config.app_secret, call.path, query, call.body)
        headers = {"x-tts-access-token": token, "user-agent": f"tiktokshop-python/{__version__}"}
        url = self._config.base_url + call.path + "?" + urlencode(sorted(query.items()), quote_via=quote)
        if call.files is not None:
            opened: list[IO[bytes]] = []
            files = []
            for name, value in call.files.items():
                spec, handle = open_file(name, value)
                files.append((name, spec))
                if handle is not None:
                    opened.append(handle)
            request = httpx.Request(call.op.method, url, headers=headers, data=call.form, files=files)
            return request, opened
        headers["content-type"] = "application/json"
        content = call.body.encode("utf-8") if call.body is not None else None
        return httpx.Request(call.op.method, url, headers=headers, content=content), []

    # -- reading an answer -----------------------------------------------------------------------

    def _api_error(
        self,
        response: httpx.Response,
        op_id: str,
        message: str,
        code: int | None = None,
        request_id: str | None = None,
    ) -> ApiError:
        """The error for a refused call: its class from the code table, else from the HTTP status."""
        status = response.status_code
        entry = self._error_codes().get(code) if code else None
        if entry is not None:
            cls = ERROR_CLASSES.get(entry.error, ApiError)
            if entry.hint:
                message = f"{message.rstrip('. ')}. {entry.hint}"
        else:
            cls = class_for_status(status) if status >= 400 else ApiError
        error = cls(message, code=code, request_id=request_id, status_code=status, operation=op_id)
        error.retry_after = _parse_retry_after(response.headers.get("retry-after"))
        return error

    @staticmethod
    def _error_codes() -> Mapping[int, ErrorCode]:
        from .resources._api import ERROR_CODES

        return ERROR_CODES

    def _read_envelope(self, response: httpx.Response, op_id: str) -> tuple[Any, str | None]:
        """Return ``(data, request_id)`` of a success envelope; raise the matching error otherwise."""
        status = response.status_code
        content = response.content
        try:
            payload = json.loads(content)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or "code" not in payload:
            preview = content[:_BODY_PREVIEW].decode("utf-8", "replace")
            if status >= 400:
                raise self._api_error(response, op_id, f"HTTP {status} without a TikTok envelope")
            raise MalformedResponseError(
                f"{op_id}: the answer (HTTP {status}) is not TikTok's JSON envelope; it starts {preview!r}",
                status_code=status,
                body_start=preview,
            )
        request_id = payload.get("request_id")
        request_id = str(request_id) if request_id is not None else None
        code = payload.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            raise MalformedResponseError(
                f"{op_id}: the envelope's code is {code!r}, not an integer (HTTP {status})",
                status_code=status,
                request_id=request_id,
            )
        if code != 0 or status >= 400:
            message = str(payload.get("message") or "") or (
                "TikTok reported an error" if code != 0 else f"HTTP {status}"
            )
            raise self._api_error(response, op_id, message, code, request_id)
        return payload.get("data"), request_id

    def _parse_response(self, call: PreparedCall, response: httpx.Response) -> Any:
        data, request_id = self._read_envelope(response, call.op.id)
        return _parse_data(call.op.response, data, request_id, response.status_code, call.op.id)

    # -- retries ---------------------------------------------------------------------------------

    def _retry_delay(self, call: PreparedCall, attempt: int, error: Exception) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` when ``error`` is final.

        A failure that proves nothing reached TikTok (a refused connection) is retried for every
        call; any other failure only for calls the spec marks safe to repeat.
        """
        if attempt >= self._config.max_retries:
            return None
        nothing_sent = isinstance(error, TransportError) and error.nothing_sent
        if not nothing_sent and not call.op.retry_safe:
            return None
        if isinstance(error, ApiError):
            entry = self._error_codes().get(error.code) if error.code is not None else None
            transient = isinstance(error, (RateLimitError, ServerError)) or bool(entry and entry.retry)
            if not transient:
                return None
        elif not isinstance(error, TransportError):
            return None
        cap = min(self._config.backoff_max, self._config.backoff_base * (2**attempt))
        delay = random.uniform(0, cap)  # noqa: S311 - jitter, not cryptography
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, min(float(retry_after), self._config.retry_after_max))
        return delay

    def _transport_error(self, call: PreparedCall, exc: httpx.TransportError) -> TransportError:
        """Our error for an httpx failure; its message holds no URL (a signed URL is a secret)."""
        where = f"{call.op.id} ({call.op.method} {call.path})"
        nothing_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeoutError(
                f"{where}: no answer in time ({type(exc).__name__})", nothing_sent=nothing_sent
            )
        return TransportError(f"{where}: {type(exc).__name__}: {_safe_text(exc)}", nothing_sent=nothing_sent)

    def _is_token_error(self, error: ApiError) -> bool:
        entry = self._error_codes().get(error.code) if error.code is not None else None
        return bool(entry and entry.refresh_token)

    # -- tokens ----------------------------------------------------------------------------------

    def _token_needs_refresh(self) -> bool:
        expire = self._tokens.access_token_expire
        return (
            expire is not None
            and bool(self._tokens.refresh_token)
            and self._clock() + self._config.token_refresh_margin >= expire
        )

    def _check_refresh_possible(self) -> None:
        if not self._tokens.refresh_token:
            raise ConfigurationError(
                "no refresh token: pass refresh_token= to TikTokShop(...) or exchange an authorization "
                "code with client.auth.get_access_token(auth_code)"
            )
        expire = self._tokens.refresh_token_expire
        if expire is not None and self._clock() >= expire:
            raise ReauthorizationRequired(
                "the refresh token has expired; send the seller to client.auth.authorization_url()",
                seller=self._seller.seller,
                operation="auth.refresh_access_token",
            )

    def _reauthorization(self, error: ApiError) -> ApiError:
        """A refused refresh as ``ReauthorizationRequired`` when its code says the refresh token is
        expired, revoked or replaced (the spec's ``reauthorize`` codes); other errors unchanged."""
        entry = self._error_codes().get(error.code) if error.code is not None else None
        if entry is None or not getattr(entry, "reauthorize", False):
            return error
        return ReauthorizationRequired(
            error.message,
            seller=self._seller.seller,
            code=error.code,
            request_id=error.request_id,
            status_code=error.status_code,
            operation=error.operation,
        )

    def _token_request(self, path: str, grant: dict[str, str]) -> httpx.Request:
        """The unsigned GET to the auth host. Its URL carries the app secret: never log it."""
        query = {"app_key": self._config.app_key, "app_secret": self._config.app_secret, **grant}
        url = self._config.auth_base_url + path + "?" + urlencode(query, quote_via=quote)
        return httpx.Request("GET", url, headers={"user-agent": f"tiktokshop-python/{__version__}"})

    def _parse_token(self, response: httpx.Response, op_id: str) -> AccessToken:
        data, request_id = self._read_envelope(response, op_id)
        return _parse_data(AccessToken, data, request_id, response.status_code, op_id)


_URL = re.compile(r"https?://\S+")


def _safe_text(exc: BaseException) -> str:
    """An httpx error's text with any URL (it may be signed, or carry the app secret) removed."""
    return redact(_URL.sub("<url>", str(exc)))[:200]


@dataclass(frozen=True)
class _Send:
    """Step: send this request; the driver answers with the response or throws the httpx error."""

    request: httpx.Request


@dataclass(frozen=True)
class _Sleep:
    """Step: wait this many seconds (a backoff, or the rate limiter's spacing: ``pacing``)."""

    seconds: float
    pacing: bool = False


@dataclass(frozen=True)
class _Load:
    """Step: read the seller's record from the token store (the driver answers with it or ``None``)."""

    seller: str


@dataclass(frozen=True)
class _Save:
    """Step: write the seller's record to the token store."""

    record: SellerRecord


@dataclass(frozen=True)
class _Acquire:
    """Step: reserve a rate-limiter slot and wait for it, unless it lies beyond ``max_wait``
    seconds; the driver answers whether the call may go (a slot not waited for is handed back)."""

    op: Operation[Any]
    shop: str | None
    max_wait: float | None


@dataclass(frozen=True)
class _Refresh:
    """Step: refresh the tokens unless someone already replaced ``seen`` (under the driver's locks)."""

    seen: str | None


_Step = _Send | _Sleep | _Refresh | _Load | _Save | _Acquire
T = TypeVar("T")
Steps = Generator[_Step, Any, T]


class _Steps(BaseClient):
    """The logic of a call, a refresh and an exchange as generators of I/O steps (sans I/O).

    The sync and async clients only carry the steps out (send, sleep, refresh under a lock), so
    retries, deadlines, rate limiting, token handling and signing exist once.
    """

    _http_timeout: httpx.Timeout

    def _call_steps(self, call: PreparedCall) -> Steps[Any]:
        attempt = 0
        refreshed = False
        deadline = _Deadline(self._config.total_timeout)
        if self._store is not None and not self._seller.loaded:
            yield from self._load_steps(initial=True)
        while True:
            if self._token_needs_refresh():
                yield _Refresh(self._tokens.access_token)
            if self._limiter is not None:
                shop = call.shop_cipher or (self._config.shop_id if call.op.shop_scoped else None)
                left = deadline.remaining()
                if not (yield _Acquire(call.op, shop, None if left is None else max(0.0, left))):
                    raise RateLimitWaitError(
                        f"{call.op.id}: the rate limiter had no free slot within the call's total of "
                        f"{deadline.total:g} s; nothing was sent"
                    )
            deadline.check(call)
            seen_token = self._tokens.access_token
            request, opened = self._build_request(call)
            deadline.limit(request, self._http_timeout)
            started = time.monotonic()
            error: Exception
            try:
                response = yield _Send(request)
            except httpx.TransportError as exc:
                error = self._transport_error(call, exc)
                logger.debug("%s %s failed: %s", call.op.method, call.path, type(exc).__name__)
            else:
                logger.debug(
                    "%s %s -> HTTP %s in %.0f ms",
                    call.op.method,
                    call.path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
                try:
                    return self._parse_response(call, response)
                except ApiError as api_error:
                    if not refreshed and self._is_token_error(api_error) and self._tokens.refresh_token:
                        refreshed = True
                        yield _Refresh(seen_token)
                        continue
                    error = api_error
            finally:
                for handle in opened:
                    handle.close()
            delay = self._retry_delay(call, attempt, error)
            if delay is None or not deadline.allows(delay):
                raise error
            logger.warning(
                "%s: attempt %d failed (%s); retrying in %.2f s",
                call.op.id,
                attempt + 1,
                type(error).__name__,
                delay,
            )
            yield _Sleep(delay)
            attempt += 1

    def _refresh_steps(self, seen: str | None) -> Steps[AccessToken | None]:
        """Refresh unless another caller (a thread, a task, or a process sharing the token store)
        already replaced ``seen``: concurrent callers share one refresh. The driver holds the locks."""
        yield from self._load_steps()
        if self._tokens.access_token != seen and not self._token_needs_refresh():
            return None
        spent = self._tokens.refresh_token
        try:
            return (yield from self._refresh_now_steps())
        except ReauthorizationRequired:
            # Another worker may have refreshed after all (its lock outlived): take its tokens.
            yield from self._load_steps()
            if self._store is not None and self._tokens.refresh_token != spent:
                return None
            raise

    def _refresh_now_steps(self) -> Steps[AccessToken]:
        self._check_refresh_possible()
        assert self._tokens.refresh_token is not None
        request = self._token_request(
            "/api/v2/token/refresh",
            {"refresh_token": self._tokens.refresh_token, "grant_type": "refresh_token"},
        )
        return (yield from self._token_steps(request, "auth.refresh_access_token"))

    def _exchange_steps(self, auth_code: str) -> Steps[AccessToken]:
        request = self._token_request(
            "/api/v2/token/get", {"auth_code": auth_code, "grant_type": "authorized_code"}
        )
        return (yield from self._token_steps(request, "auth.get_access_token"))

    def _token_steps(self, request: httpx.Request, op_id: str) -> Steps[AccessToken]:
        try:
            response = yield _Send(request)
        except httpx.TransportError as exc:
            raise TransportError(f"{op_id}: {type(exc).__name__}: {_safe_text(exc)}") from None
        logger.debug("GET %s -> HTTP %s", request.url.path, response.status_code)
        try:
            token = self._parse_token(response, op_id)
        except ApiError as error:
            if op_id == "auth.refresh_access_token":
                raise self._reauthorization(error) from None
            raise
        session = self._seller
        if op_id == "auth.get_access_token" and token.open_id and token.open_id != session.seller:
            # The code tells whose authorization this is: the client now serves that seller.
            session.seller, session.shops, session.loaded = token.open_id, (), True
        session.name = token.seller_name or session.name
        session.region = token.seller_base_region or session.region
        self._tokens.update(token)
        if self._store is not None:
            yield _Save(session.record())
        return token

    @staticmethod
    def _next_page_args(call: PreparedCall, token: str) -> dict[str, Any]:
        """The arguments of the call that fetches the page after ``call``'s, with ``token``."""
        pagination = call.op.pagination
        assert pagination is not None
        params, body = dict(call.params_in), dict(call.body_in)
        if call.op.params is not None and pagination.token_param in call.op.params.model_fields:
            params[pagination.token_param] = token
        else:
            body[pagination.token_param] = token
        return {"params": params, "body": body, "shop_cipher": call.shop_cipher}


class SyncAPIClient(_Steps):
    """The blocking client: one pooled ``httpx.Client`` for every call."""

    def __init__(
        self,
        config: ClientConfig,
        tokens: TokenState,
        *,
        timeout: float | httpx.Timeout | None = None,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        token_store: TokenStore | None = None,
        rate_limiter: Limiter | None = None,
        session: SellerSession | None = None,
        seller: str | None = None,
    ) -> None:
        super().__init__(
            config,
            tokens,
            clock=clock,
            token_store=token_store,
            rate_limiter=rate_limiter,
            session=session,
            seller=seller,
        )
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=_timeout(timeout), follow_redirects=False, limits=httpx.Limits(max_connections=100)
        )
        self._http_timeout = self._http.timeout
        if token_store is not None and not self._seller.loaded:
            self._drive(self._load_steps(initial=True))

    @staticmethod
    def _new_lock() -> Any:
        return threading.RLock()

    def close(self) -> None:
        """Close the connection pool (not one passed in as ``http_client``)."""
        if self._owns_http:
            self._http.close()

    def _request(
        self,
        op: Operation[R],
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        shop_cipher: str | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> R:
        """Validate, sign, send (with retries) and parse one call. See ``TikTokShop`` for errors."""
        call = self._prepare(op, params or {}, body, shop_cipher, form)
        result: R = self._drive(self._call_steps(call))
        if op.pagination is not None:
            result._next_page = lambda token: self._request(op, **self._next_page_args(call, token))
        return result

    def _drive(self, steps: Steps[T]) -> T:
        """Carry out ``steps`` with blocking I/O."""
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    step = steps.throw(error) if error is not None else steps.send(value)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                if isinstance(step, _Send):
                    try:
                        value = self._http.send(step.request)
                    except httpx.TransportError as exc:
                        error = exc
                elif isinstance(step, _Sleep):
                    self._sleep(step.seconds)
                elif isinstance(step, _Acquire):
                    value = self._acquire(step)
                elif isinstance(step, _Load):
                    value = _store_call(self._store, "load", step.seller)
                elif isinstance(step, _Save):
                    _store_call(self._store, "save", step.record)
                else:
                    self._refresh(seen=step.seen)
        finally:
            steps.close()

    def _acquire(self, step: _Acquire) -> bool:
        limiter = self._limiter
        assert limiter is not None
        wait = limiter.reserve(step.op, step.shop, step.max_wait, app=self._config.app_key)
        if wait is None:
            return False
        if wait > 0:
            try:
                limiter.sleep(wait)  # the limiter's own clock paces it
            except BaseException:
                limiter.refund(step.op, step.shop, app=self._config.app_key)
                raise
        return True

    def _refresh(self, *, seen: str | None) -> AccessToken | None:
        with self._token_lock, self._store_lock():
            return self._drive(self._refresh_steps(seen))


class AsyncAPIClient(_Steps):
    """The asyncio client: one pooled ``httpx.AsyncClient`` for every call."""

    def __init__(
        self,
        config: ClientConfig,
        tokens: TokenState,
        *,
        timeout: float | httpx.Timeout | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        token_store: TokenStore | None = None,
        rate_limiter: Limiter | None = None,
        session: SellerSession | None = None,
        seller: str | None = None,
    ) -> None:
        super().__init__(
            config,
            tokens,
            clock=clock,
            token_store=token_store,
            rate_limiter=rate_limiter,
            session=session,
            seller=seller,
        )
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=_timeout(timeout), follow_redirects=False, limits=httpx.Limits(max_connections=100)
        )
        self._http_timeout = self._http.timeout

    @staticmethod
    def _new_lock() -> Any:
        return asyncio.Lock()

    async def close(self) -> None:
        """Close the connection pool (not one passed in as ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()

    async def _request(
        self,
        op: Operation[R],
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        shop_cipher: str | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> R:
        """Validate, sign, send (with retries) and parse one call. See ``AsyncTikTokShop`` for errors."""
        call = self._prepare(op, params or {}, body, shop_cipher, form)
        result: R = await self._drive(self._call_steps(call))
        if op.pagination is not None:
            result._next_page = lambda token: self._request(op, **self._next_page_args(call, token))
        return result

    async def _drive(self, steps: Steps[T]) -> T:
        """Carry out ``steps`` with asyncio I/O."""
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    step = steps.throw(error) if error is not None else steps.send(value)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                if isinstance(step, _Send):
                    try:
                        value = await self._http.send(step.request)
                    except httpx.TransportError as exc:
                        error = exc
                elif isinstance(step, _Sleep):
                    await self._sleep(step.seconds)
                elif isinstance(step, _Acquire):
                    value = await self._acquire(step)
                elif isinstance(step, _Load):
                    value = await _astore_call(self._store, "aload", step.seller)
                elif isinstance(step, _Save):
                    await _astore_call(self._store, "asave", step.record)
                else:
                    await self._refresh(seen=step.seen)
        finally:
            steps.close()

    async def _acquire(self, step: _Acquire) -> bool:
        limiter = self._limiter
        assert limiter is not None
        wait = await limiter.areserve(step.op, step.shop, step.max_wait, app=self._config.app_key)
        if wait is None:
            return False
        if wait > 0:
            try:
                await self._sleep(wait)
            except BaseException:  # cancelled while waiting: the slot goes back
                await asyncio.shield(limiter.arefund(step.op, step.shop, app=self._config.app_key))
                raise
        return True

    async def _refresh(self, *, seen: str | None) -> AccessToken | None:
        async with self._token_lock, self._store_alock():
            return await self._drive(self._refresh_steps(seen))


def _store_call(store: TokenStore | None, method: str, arg: Any) -> Any:
    """Run a store method; any failure is a ``TokenStoreError`` (tokens stay in memory)."""
    assert store is not None
    try:
        return getattr(store, method)(arg)
    except TokenStoreError:
        raise
    except Exception as exc:
        raise _store_error(method, exc) from exc


async def _astore_call(store: TokenStore | None, method: str, arg: Any) -> Any:
    assert store is not None
    try:
        return await getattr(store, method)(arg)
    except TokenStoreError:
        raise
    except Exception as exc:
        raise _store_error(method, exc) from exc


def _store_error(method: str, exc: Exception) -> TokenStoreError:
    if "save" in method:
        return TokenStoreError(
            f"the new tokens could not be saved ({type(exc).__name__}); they are still in this client"
        )
    return TokenStoreError(f"cannot load tokens: {type(exc).__name__}")


class _Deadline:
    """The per-call total time budget, across attempts and the waits between them."""

    def __init__(self, total: float | None) -> None:
        self.total = total
        self.end = None if total is None else time.monotonic() + total

    def remaining(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def check(self, call: PreparedCall) -> None:
        left = self.remaining()
        if left is not None and left <= 0:
            raise RequestTimeoutError(f"{call.op.id}: no answer within the call's total of {self.total:g} s")

    def allows(self, delay: float) -> bool:
        left = self.remaining()
        return left is None or delay < left

    def limit(self, request: httpx.Request, timeout: httpx.Timeout) -> None:
        """Cap the attempt's connect, read, write and pool timeouts at the time left."""
        left = self.remaining()
        if left is None:
            return
        parts = {
            "connect": timeout.connect,
            "read": timeout.read,
            "write": timeout.write,
            "pool": timeout.pool,
        }
        request.extensions["timeout"] = {k: left if v is None else min(v, left) for k, v in parts.items()}


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(value, connect=min(float(value), 10.0))
