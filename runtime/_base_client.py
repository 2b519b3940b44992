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
from ._rate_limit import RateLimiter
from ._signing import sign_request
from ._token_store import TokenStore, TokenStoreError
from ._tokens import AccessToken, TokenState
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


class BaseClient:
    """Transport-independent logic of the client. Not used directly: see ``TikTokShop``."""

    def __init__(
        self,
        config: ClientConfig,
        tokens: TokenState,
        *,
        clock: Callable[[], float] = time.time,
        token_store: TokenStore | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._clock = clock
        self._store = token_store
        self._limiter = rate_limiter
        install_redaction()
        if token_store is not None:
            self._adopt_stored(initial=True)

    # -- token persistence -----------------------------------------------------------------------

    def _adopt_stored(self, *, initial: bool = False) -> None:
        """Take the store's tokens when they are newer than ours (another process refreshed)."""
        assert self._store is not None
        try:
            stored = self._store.load()
        except TokenStoreError:
            raise
        except Exception as exc:
            raise TokenStoreError(f"cannot load tokens: {type(exc).__name__}") from exc
        mine = self._tokens
        if stored is None or not stored.access_token:
            if initial and mine.access_token:
                self._persist()
            return
        if stored.access_token == mine.access_token and stored.refresh_token == mine.refresh_token:
            return
        if not mine.access_token or (stored.access_token_expire or 0) >= (mine.access_token_expire or 0):
            mine.assign(stored)
        elif initial:
            self._persist()

    def _persist(self) -> None:
        """Save the current tokens; a failure is raised, never swallowed (the tokens stay in memory)."""
        if self._store is None:
            return
        try:
            self._store.save(self._tokens.copy())
        except TokenStoreError:
            raise
        except Exception as exc:
            raise TokenStoreError(
                f"the new tokens could not be saved ({type(exc).__name__}); they are still in this client"
            ) from exc

    def _store_lock(self) -> contextlib.AbstractContextManager[None]:
        return self._store.lock() if self._store is not None else contextlib.nullcontext()

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
            raise ConfigurationError(
                "the refresh token has expired: the seller must authorize the app again "
                "(client.auth.authorization_url())"
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
class _Refresh:
    """Step: refresh the tokens unless someone already replaced ``seen`` (under the driver's locks)."""

    seen: str | None


_Step = _Send | _Sleep | _Refresh
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
        while True:
            if self._token_needs_refresh():
                yield _Refresh(self._tokens.access_token)
            if self._limiter is not None:
                shop = call.shop_cipher or self._config.shop_id
                while (wait := self._limiter.try_acquire(call.op, shop)) > 0:
                    yield _Sleep(wait, pacing=True)
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
        if self._store is not None:
            self._adopt_stored()
        if self._tokens.access_token != seen and not self._token_needs_refresh():
            return None
        return (yield from self._refresh_now_steps())

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
        token = self._parse_token(response, op_id)
        self._tokens.update(token)
        self._persist()
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
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._token_lock = threading.RLock()
        super().__init__(config, tokens, clock=clock, token_store=token_store, rate_limiter=rate_limiter)
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=_timeout(timeout), follow_redirects=False, limits=httpx.Limits(max_connections=100)
        )
        self._http_timeout = self._http.timeout

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
                elif isinstance(step, _Sleep) and step.pacing and self._limiter is not None:
                    self._limiter.sleep(step.seconds)  # the limiter's own clock paces it
                elif isinstance(step, _Sleep):
                    self._sleep(step.seconds)
                else:
                    self._refresh(seen=step.seen)
        finally:
            steps.close()

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
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._token_lock = asyncio.Lock()
        super().__init__(config, tokens, clock=clock, token_store=token_store, rate_limiter=rate_limiter)
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=_timeout(timeout), follow_redirects=False, limits=httpx.Limits(max_connections=100)
        )
        self._http_timeout = self._http.timeout

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
                else:
                    await self._refresh(seen=step.seen)
        finally:
            steps.close()

    async def _refresh(self, *, seen: str | None) -> AccessToken | None:
        async with self._token_lock:
            with self._store_lock():
                return await self._drive(self._refresh_steps(seen))


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
