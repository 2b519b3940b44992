"""The core every generated call goes through: validation, signing, tokens, transport, errors, retries.

``BaseClient`` holds everything that does not depend on how bytes travel (checking arguments,
building and signing a request, reading the envelope, deciding on a retry, refreshing tokens);
``SyncAPIClient`` adds the blocking loop over one pooled ``httpx.Client``. An async client adds
the same loop over ``httpx.AsyncClient`` and reuses all the rest.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import json
import logging
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any, TypeVar, cast
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
    TikTokShopError,
    TransportError,
    ValidationError,
    class_for_status,
)
from ._files import check_file, open_file
from ._logging import install_redaction, logger, redact
from ._models import RequestModel, ResponseModel, _call_state  # pyright: ignore[reportPrivateUsage]
from ._operation import ErrorCode, Operation
from ._options import (
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_URL_LENGTH,
    NO_OPTIONS,
    CallOptions,
    ExtraHeaders,
    RequestEvent,
    RequestHook,
    RequestOptions,
    ResponseEvent,
    ResponseHook,
    Timeout,
    check_options,
    check_query,
    check_value,
    is_mapping,
    mask_headers,
    mask_query,
)
from ._rate_limit import Limiter
from ._response import RAW_MODE, RawResponse
from ._signing import sign_request
from ._token_store import TokenStore, TokenStoreError
from ._tokens import DEFAULT_SELLER, AccessToken, AuthorizedShop, SellerRecord, TokenState
from ._transport import ACCEPT_ENCODING, Answer, asend, send
from ._version import __version__

__all__ = ["AsyncAPIClient", "BaseClient", "ClientConfig", "PreparedCall", "SyncAPIClient"]

R = TypeVar("R", bound=ResponseModel)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_TOKEN_REFRESH_MARGIN = 300
DEFAULT_TOTAL_TIMEOUT = 120.0
#: With a token store, a call reads its seller's record again before it is sent when this
#: process last read it longer ago than this (seconds): at most ten reads per seller per second.
STORE_RECHECK = 0.1
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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    on_request: RequestHook | None = None
    on_response: ResponseHook | None = None

    def __repr__(self) -> str:
        return f"ClientConfig(app_key={self.app_key!r}, base_url={self.base_url!r}, shop_id={self.shop_id!r})"


_USER_AGENT = f"tiktokshop-python/{__version__}"
# A path whose characters httpx keeps as they are (unreserved, "/" and percent escapes).
_PLAIN_PATH = re.compile(r"(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*")


class _Urls:
    """Request URLs under one base URL, built from parts.

    ``httpx.URL(text)`` checks every character of the signed URL in Python (about 14 us for an
    order search); the client percent-encodes the path and query itself, so it builds the URL
    from the base URL's parsed parts, its path and its query instead. That uses httpx's parsed
    form (``URL._uri_reference``, a named tuple), so the first URL is also built the public way
    and compared: on any difference, or if httpx changed that form, every URL of this base is
    built the public way.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.fast: bool | None = None  # None until the first URL has been compared
        self.parts: Any = None
        self.host: str | None = None  # the Host header httpx would send (its URL's netloc)
        try:
            base = httpx.URL(base_url)
            parts: Any = base._uri_reference  # pyright: ignore[reportPrivateUsage]
            parts._replace  # noqa: B018 - a named tuple, or this is not the httpx it was written for
            self.parts = parts
            self.host = base.netloc.decode("ascii") or None
        except Exception:
            self.fast = False

    def _from_parts(self, path: str, query: str) -> httpx.URL:
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = self.parts._replace(path=self.parts.path + path, query=query, fragment=None)  # pyright: ignore[reportPrivateUsage]
        return url

    def url(self, path: str, query: str) -> httpx.URL | str:
        """The URL of ``path`` (percent-encoded) and ``query`` (url-encoded) under the base URL."""
        text = self.base_url + path + "?" + query
        if self.fast is False or not _PLAIN_PATH.fullmatch(path):
            return text
        if self.fast:
            return self._from_parts(path, query)
        built: httpx.URL | None = None
        try:
            built = self._from_parts(path, query)
            public = httpx.URL(text)
            same = (
                built == public
                and str(built) == str(public)
                and built.raw_path == public.raw_path
                and built.netloc == public.netloc
                and built.scheme == public.scheme
                and built.port == public.port
                and built.params.multi_items() == public.params.multi_items()
            )
        except Exception:
            same = False
        self.fast = same
        return built if same and built is not None else text


_URLS: dict[str, _Urls] = {}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _json_request(
    method: str, url: httpx.URL, host: str, headers: dict[str, str], content: bytes | None
) -> httpx.Request:
    """The request ``httpx.Request(method, url, headers=headers, content=content)`` makes, with
    the headers httpx adds (``Host`` and ``Content-Length``, where httpx puts them) set here: a
    whole body as a ``ByteStream`` skips httpx's encoding step (about 6 us a call). ``headers``
    never hold ``host`` or ``content-length`` (``extra_headers`` refuses them)."""
    if content is not None:
        full = {"Host": host, **headers, "Content-Length": str(len(content))}
    elif method in _BODY_METHODS:
        full = {"Host": host, "Content-Length": "0", **headers}
    else:
        full = {"Host": host, **headers}
    request = httpx.Request(method, url, headers=full, stream=httpx.ByteStream(content or b""))
    request.read()
    return request


def _urls(base_url: str) -> _Urls:
    """The URL maker of ``base_url``, made on first use and kept."""
    urls = _URLS.get(base_url)
    if urls is None:
        if len(_URLS) > 64:  # base URLs are few; a program that makes many keeps no garbage
            _URLS.clear()
        urls = _URLS[base_url] = _Urls(base_url)
    return urls


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
    options: CallOptions = NO_OPTIONS


def _wire_value(value: Any) -> str:
    """A query value as sent and signed: booleans in lowercase, lists joined with commas."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_wire_value(item) for item in cast("Iterable[Any]", value))
    return str(value)


def _plain(value: Any) -> Any:
    """Turn tuples (and other non-str sequences users pass) into lists, recursively, for strict models."""
    if isinstance(value, (tuple, set, frozenset, list)):
        return [_plain(item) for item in cast("Iterable[Any]", value)]
    if is_mapping(value):
        return {key: _plain(item) for key, item in value.items()}
    return value


_NO_OMIT: dict[str, object] = {}
_PLAIN_TYPES = (str, int, float)


def _given(op_id: str, arguments: Mapping[str, Any], omit: Mapping[str, object]) -> dict[str, Any]:
    """The arguments that are not ``None`` (nor a value ``omit`` says to leave out), each checked
    by ``check_value`` and with tuples and sets turned into lists. Raises ``ValidationError``."""
    given: dict[str, Any] = {}
    for name, value in arguments.items():
        if value is None:
            continue
        check_value(op_id, name, value)
        if omit and name in omit and omit[name] == value:
            continue
        given[name] = value if type(value) in _PLAIN_TYPES else _plain(value)
    return given


def _short(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails (or is refused, like a 5,000-digit int)
        return f"a {type(value).__name__}"
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


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json_text(op_id: str, obj: Any) -> str:
    """The JSON body as sent and signed. Raises ``ValidationError`` for what JSON cannot hold."""
    try:
        return _JSON.encode(obj)
    except (TypeError, ValueError, RecursionError) as exc:
        problem = f"{type(exc).__name__}: {_short(str(exc))}"
    raise ValidationError(f"{op_id}: the body cannot be sent as JSON ({problem}); nothing was sent")


def _check_cipher(op_id: str, value: Any) -> None:
    """A per-call ``shop_cipher``: printable ASCII text. Raises ``ValidationError`` (never echoing it)."""
    if value is None:
        return
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 1024
        or not value.isascii()
        or not value.isprintable()
    ):
        kind = type(value).__name__ if not isinstance(value, str) else f"text of {len(value)} characters"
        raise ValidationError(
            f"{op_id}: shop_cipher must be a shop's cipher (printable ASCII text, as "
            f"authorization.get_authorized_shops() gives), got {kind}; nothing was sent",
            field="shop_cipher",
        )


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
    result._request_id = request_id  # pyright: ignore[reportPrivateUsage]
    return result


class _Envelope(pydantic.BaseModel):
    """TikTok's envelope around an answer of ``data``'s model (one per response model, see
    ``_envelope``): validating the body's bytes with it parses and checks the whole answer in one
    pass of pydantic-core. Anything unusual (an error code, a body that does not fit) is left to
    the slower reading that names the problem."""

    model_config = pydantic.ConfigDict(extra="ignore", defer_build=True)

    code: Any
    message: Any = None
    request_id: Any = None


_ENVELOPES: dict[type[ResponseModel], type[_Envelope]] = {}


def _envelope(model: type[ResponseModel]) -> type[_Envelope]:
    """The envelope whose ``data`` is ``model``, made on first use and kept."""
    envelope = _ENVELOPES.get(model)
    if envelope is None:
        data: Any = model | None
        envelope = pydantic.create_model(
            f"{model.__name__}Envelope", __base__=_Envelope, __module__=__name__, data=(data, None)
        )
        _ENVELOPES[model] = envelope
    return envelope


def _parse_success(model: type[M], content: bytes, status: int) -> M | None:
    """``model`` from the bytes of a success envelope (code 0, HTTP < 400), validated in one pass,
    carrying the envelope's ``request_id``; ``None`` when the body is anything else."""
    if status >= 400:
        return None
    try:
        envelope = _envelope(model).model_validate_json(content)
    except pydantic.ValidationError:
        return None
    code = envelope.code
    if type(code) is not int or code != 0:
        return None
    request_id = envelope.request_id
    result: M | None = getattr(envelope, "data", None)
    if result is None:
        result = model.model_validate({})
    _call_state(result)["_request_id"] = str(request_id) if request_id is not None else None
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
        self.checked = 0.0  # when (monotonic) this process last read the seller's stored record

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
        self._seller.checked = time.monotonic()
        mine = self._tokens
        if stored is None or not stored.tokens.access_token:
            return initial and bool(mine.access_token)
        self._seller.take(stored)
        theirs = stored.tokens
        if theirs.access_token == mine.access_token and theirs.refresh_token == mine.refresh_token:
            stale = theirs.access_token_expire
            if stale is not None and (mine.access_token_expire is None or stale < mine.access_token_expire):
                mine.access_token_expire = stale  # another worker saw TikTok reject it: refresh first
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
        options: RequestOptions | None = None,
    ) -> PreparedCall:
        """Check every argument and option and build the path, query and body.

        Raises ``ValidationError`` (or ``ConfigurationError`` for a missing shop cipher).
        """
        call_options = check_options(op.id, options)
        body = body or {}
        params_model, body_model, form_model = op.params, op.body, op.form
        # The arguments given (None means "not given"), checked, without the values the spec
        # marks as "send nothing".
        omit = dict(op.omit) if op.omit else _NO_OMIT
        params_in = _given(op.id, params, omit)
        body_in = _given(op.id, body, omit)
        if form:
            for name, value in form.items():
                check_value(op.id, name, value, allow_bytes=name in op.files)
        if shop_cipher is not None:
            _check_cipher(op.id, shop_cipher)
        wire_params: dict[str, Any] = {}
        if params_model is not None:
            wire_params = _validate(op.id, params_model, params_in).model_dump(
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
        query = {
            key: value if type(value) is str else _wire_value(value) for key, value in wire_params.items()
        }
        if call_options.extra_query:
            query.update(call_options.extra_query)

        body_text: str | None = None
        if body_model is not None:
            body_obj = _validate(op.id, body_model, body_in).model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
            if call_options.extra_body:
                body_obj = {**body_obj, **call_options.extra_body}
            body_text = _json_text(op.id, body_obj)
        elif op.loose and op.method != "GET":
            body_text = _json_text(op.id, {**body_in, **call_options.extra_body})
        elif body_in:
            raise ValidationError(f"{op.id}: takes no body arguments, got {sorted(body_in)}")
        elif call_options.extra_body and (op.method == "GET" or form_model is not None):
            raise ValidationError(
                f"{op.id}: extra_body: this call sends no JSON body ({op.method}"
                f"{', multipart' if form_model is not None else ''}); use extra_query",
                field="extra_body",
            )
        elif call_options.extra_body:
            body_text = _json_text(op.id, dict(call_options.extra_body))

        form_fields: dict[str, str] | None = None
        files: dict[str, Any] | None = None
        if form_model is not None:
            form_in = {k: v for k, v in (form or {}).items() if v is not None}
            files = {name: form_in[name] for name in op.files if name in form_in}
            for name, value in files.items():
                check_file(op.id, name, value)
            checked = _validate(
                op.id, form_model, {k: ("<file>" if k in files else _plain(v)) for k, v in form_in.items()}
            )
            form_fields = {
                k: _wire_value(v)
                for k, v in checked.model_dump(mode="json", by_alias=True, exclude_none=True).items()
                if k not in files
            }

        cipher: str | None = None
        if op.shop_scoped:
            cipher = shop_cipher or self._config.shop_cipher or None
            if cipher is None and not op.shop_optional:
                raise ConfigurationError(
                    f"{op.id} is scoped to a shop and needs a shop_cipher: pass shop_cipher= to "
                    "TikTokShop(...) or to this call (authorization.get_authorized_shops() lists them)"
                )
        return PreparedCall(
            op, path, query, body_text, cipher, params_in, body_in, form_fields, files, call_options
        )

    def _prepare_loose(
        self,
        method: Any,
        path: Any,
        query: Any,
        body: Any,
        shop_cipher: Any,
        timeout: Any,
        max_retries: Any,
        extra_headers: Any,
    ) -> PreparedCall:
        """Check the arguments of ``request()`` and build the call. Raises ``ValidationError``."""
        op_id = "request"
        if not isinstance(method, str) or method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise ValidationError(f"{op_id}: method must be GET, POST, PUT, PATCH or DELETE", field="method")
        method = method.upper()
        if (
            not isinstance(path, str)
            or not path.startswith("/")
            or len(path) > 2048
            or not path.isascii()
            or not path.isprintable()
            or any(c in path for c in "?# ")
            or any(part in (".", "..") for part in path.split("/"))
        ):
            raise ValidationError(
                f"{op_id}: path must be an API path such as '/order/202309/orders' (printable ASCII, "
                "starting with '/', no query string, no '.' or '..' parts)",
                field="path",
            )
        op: Operation[ResponseModel] = Operation(
            id=f"request {method} {path}" if len(path) <= 200 else f"request {method}",
            method=method,
            path=path,
            response=ResponseModel,
            shop_scoped=False,
            retry_safe=method == "GET",
            loose=True,
        )
        if query is not None and not is_mapping(query):
            raise ValidationError(f"{op.id}: query must be a mapping of names to values", field="query")
        if body is not None and not is_mapping(body):
            raise ValidationError(f"{op.id}: body must be a mapping (a JSON object)", field="body")
        if body is not None and method == "GET":
            raise ValidationError(f"{op.id}: a GET sends no body; use query", field="body")
        options = check_options(op.id, RequestOptions(timeout, max_retries, None, None, extra_headers))
        query_text = check_query(op.id, query, "query")
        check_value(op.id, "body", body)
        body_text = _json_text(op.id, _plain(dict(body))) if body is not None else None
        if method != "GET" and body_text is None:
            body_text = "{}"
        if isinstance(shop_cipher, bool):
            cipher = self._config.shop_cipher if shop_cipher else None
        else:
            _check_cipher(op.id, shop_cipher)
            cipher = shop_cipher or self._config.shop_cipher
        params_in = dict(query or {})
        return PreparedCall(
            op,
            path,
            query_text,
            body_text,
            cipher,
            params_in,
            dict(body or {}),
            options=options,
        )

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
        if not token.isascii() or not token.isprintable():
            raise ConfigurationError(f"{call.op.id}: the access token is not printable ASCII text")
        query["sign"] = sign_request(self._config.app_secret, call.path, query, call.body)
        headers = {
            **call.options.extra_headers,
            "x-tts-access-token": token,
            "user-agent": _USER_AGENT,
            "accept-encoding": ACCEPT_ENCODING,
        }
        query_text = "&".join(
            [
                (k if k.isalnum() and k.isascii() else quote(k, safe=""))
                + "="
                + (v if v.isalnum() and v.isascii() else quote(v, safe=""))
                for k, v in sorted(query.items())
            ]
        )
        size = len(self._config.base_url) + len(call.path) + 1 + len(query_text)
        if size > MAX_URL_LENGTH:
            raise ValidationError(
                f"{call.op.id}: the request URL would be {size} characters, over the limit of "
                f"{MAX_URL_LENGTH}: send fewer or shorter query values; nothing was sent"
            )
        urls = _urls(self._config.base_url)
        url = urls.url(call.path, query_text)
        if call.files is not None:
            opened: list[IO[bytes]] = []
            files: list[tuple[str, Any]] = []
            for name, value in call.files.items():
                spec, handle = open_file(name, value)
                files.append((name, spec))
                if handle is not None:
                    opened.append(handle)
            if not files:
                # An upload whose file parts are all optional and absent is still multipart
                # (httpx would send its text fields url-encoded).
                text_parts: list[tuple[str, Any]] = [(k, (None, v)) for k, v in (call.form or {}).items()]
                request = httpx.Request(call.op.method, url, headers=headers, files=text_parts)
                return request, opened
            request = httpx.Request(call.op.method, url, headers=headers, data=call.form, files=files)
            return request, opened
        headers["content-type"] = "application/json"
        content = call.body.encode("utf-8") if call.body is not None else None
        if isinstance(url, httpx.URL) and urls.host is not None:
            return _json_request(call.op.method, url, urls.host, headers, content), []
        return httpx.Request(call.op.method, url, headers=headers, content=content), []

    # -- reading an answer -----------------------------------------------------------------------

    def _api_error(
        self,
        response: Answer,
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

    def _read_envelope(
        self, response: Answer, op_id: str, content: bytes | None = None
    ) -> tuple[Any, str | None]:
        """Return ``(data, request_id)`` of a success envelope; raise the matching error otherwise.

        ``content`` is the body already read (``response.content`` when not given).
        """
        status = response.status_code
        if content is None:
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
        envelope = cast("dict[str, Any]", payload)
        request_id = envelope.get("request_id")
        request_id = str(request_id) if request_id is not None else None
        code = envelope.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            raise MalformedResponseError(
                f"{op_id}: the envelope's code is {code!r}, not an integer (HTTP {status})",
                status_code=status,
                request_id=request_id,
            )
        if code != 0 or status >= 400:
            message = str(envelope.get("message") or "") or (
                "TikTok reported an error" if code != 0 else f"HTTP {status}"
            )
            raise self._api_error(response, op_id, message, code, request_id)
        return envelope.get("data"), request_id

    def _parse_body(self, model: type[M], response: Answer, op_id: str, content: bytes | None = None) -> M:
        """The answer in ``content`` (the body's bytes; ``response.content`` when not given) as
        ``model`` with its ``request_id``. Raises the ``ApiError`` of an error envelope, or
        ``MalformedResponseError`` for a body that is not an envelope or does not fit ``model``.

        A success envelope is validated from its bytes in one pass; anything else is read again
        with ``json.loads`` to name the problem.
        """
        if content is None:
            content = response.content
        result = _parse_success(model, content, response.status_code)
        if result is not None:
            return result
        data, request_id = self._read_envelope(response, op_id, content)
        return _parse_data(model, data, request_id, response.status_code, op_id)

    def _parse_response(self, call: PreparedCall, response: Answer) -> Any:
        return self._parse_body(call.op.response, response, call.op.id)

    # -- retries ---------------------------------------------------------------------------------

    def _retry_delay(self, call: PreparedCall, attempt: int, error: Exception) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` when ``error`` is final.

        A failure that proves nothing reached TikTok (a refused connection) is retried for every
        call; any other failure only for calls the spec marks safe to repeat.
        """
        max_retries = call.options.max_retries
        if attempt >= (self._config.max_retries if max_retries is None else max_retries):
            return None
        nothing_sent = isinstance(error, TransportError) and error.nothing_sent
        if not nothing_sent and not call.op.retry_safe:
            return None
        if isinstance(error, ApiError):
            # The table's retry flag decides for a code it lists (a daily quota is a rate limit
            # that no retry helps); an unlisted code or a bare HTTP status goes by its class.
            entry = self._error_codes().get(error.code) if error.code is not None else None
            transient = entry.retry if entry is not None else isinstance(error, (RateLimitError, ServerError))
            if not transient:
                return None
        elif not isinstance(error, TransportError):
            return None
        cap = min(self._config.backoff_max, self._config.backoff_base * (2**attempt))
        delay = random.uniform(0, cap)  # noqa: S311 - jitter, not cryptography
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            # Jitter on top of the wait asked for, so that callers told the same Retry-After
            # do not all come back at the same instant.
            wait = min(float(retry_after), self._config.retry_after_max)
            delay = max(delay, wait + random.uniform(0, max(0.1, 0.25 * wait)))  # noqa: S311
        return delay

    def _send_error(self, where: str, exc: BaseException) -> BaseException:
        """Our error for whatever sending raised: every ``httpx`` error becomes a ``TransportError``
        (``RequestTimeoutError`` for timeouts) whose text holds no URL; ours pass through."""
        if isinstance(exc, TikTokShopError):
            return exc
        if isinstance(exc, httpx.TimeoutException):
            nothing_sent = isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            return RequestTimeoutError(
                f"{where}: no answer in time ({type(exc).__name__}: {_safe_text(exc)})",
                nothing_sent=nothing_sent,
            )
        if isinstance(exc, (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, httpx.CookieConflict)):
            nothing_sent = isinstance(exc, httpx.ConnectError)
            return TransportError(
                f"{where}: {type(exc).__name__}: {_safe_text(exc)}", nothing_sent=nothing_sent
            )
        return exc  # not from httpx: a user's own hook raised it; it is theirs

    def _mask(self, text: str) -> str:
        """``text`` with secret query values and the client's secrets themselves replaced by ``***``."""
        text = redact(text)
        for secret in (self._config.app_secret, self._tokens.access_token, self._tokens.refresh_token):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _scrub(self, exc: BaseException) -> None:
        """Mask secrets in our error's text, ``args`` and ``body_start``, and cut from its chain every
        exception that is not ours (an ``httpx`` error holds the signed request)."""
        seen: set[int] = set()
        link: BaseException | None = exc
        while link is not None and id(link) not in seen:
            seen.add(id(link))
            if isinstance(link, TikTokShopError):
                link.args = tuple(self._mask(a) if isinstance(a, str) else a for a in link.args)
                for attr in ("message", "body_start"):
                    value = getattr(link, attr, None)
                    if isinstance(value, str):
                        setattr(link, attr, self._mask(value))
            for attr in ("__cause__", "__context__"):
                nxt = getattr(link, attr)
                if nxt is not None and not isinstance(nxt, TikTokShopError) and _risky(nxt, self._mask):
                    setattr(link, attr, None)
            link = link.__cause__ or link.__context__

    def _raw_answer(
        self,
        call: PreparedCall | httpx.Request,
        response: Answer,
        request_id: str | None,
        started: float,
        attempt: int,
        error: bool = False,
    ) -> RawResponse[Any]:
        """The answer as a ``RawResponse``; an error's body has quoted secrets masked (a proxy page
        may quote the signed URL), the bytes kept otherwise."""
        content = response.content
        if error:
            text = content.decode("utf-8", "surrogateescape")
            masked = self._mask(text)
            if masked != text:
                content = masked.encode("utf-8", "surrogateescape")
        return RawResponse(
            status_code=response.status_code,
            headers={k: self._mask(v) for k, v in mask_headers(response.headers.multi_items()).items()},
            content=content,
            request_id=request_id,
            method=call.op.method if isinstance(call, PreparedCall) else call.method,
            path=call.path if isinstance(call, PreparedCall) else call.url.path,
            elapsed=time.monotonic() - started,
            retries=attempt,
        )

    def _emit_request(self, op_id: str, request: httpx.Request, attempt: int) -> None:
        hook = self._config.on_request
        if hook is not None:
            hook(
                RequestEvent(
                    operation=op_id,
                    method=request.method,
                    path=request.url.path,
                    query=mask_query(request.url.params.multi_items()),
                    headers=mask_headers(request.headers.multi_items()),
                    attempt=attempt + 1,
                )
            )

    def _emit_response(
        self,
        op_id: str,
        request: httpx.Request,
        attempt: int,
        started: float,
        response: Answer | None,
        request_id: str | None,
        error: BaseException | None,
    ) -> None:
        hook = self._config.on_response
        if hook is not None:
            hook(
                ResponseEvent(
                    operation=op_id,
                    method=request.method,
                    path=request.url.path,
                    attempt=attempt + 1,
                    status_code=response.status_code if response is not None else None,
                    elapsed=time.monotonic() - started,
                    request_id=request_id,
                    headers={
                        k: self._mask(v) for k, v in mask_headers(response.headers.multi_items()).items()
                    }
                    if response is not None
                    else {},
                    error=type(error).__name__ if error is not None else None,
                )
            )

    def _redirect_error(self, op_id: str, response: Answer) -> ApiError:
        status = response.status_code
        return self._api_error(
            response,
            op_id,
            f"HTTP {status}: the answer is a redirect, which the client never follows (the signed "
            "request must not go to another host); check base_url",
        )

    def _read_answer(self, call: PreparedCall, response: Answer, raw: bool) -> tuple[Any, str | None]:
        """Read one answer: ``(result, request_id)``; ``result`` is the model, or with ``raw`` the
        envelope's data. Every failure is one of our errors (``MalformedResponseError`` for an
        answer too deep or undecodable to parse)."""
        if 300 <= response.status_code < 400:
            raise self._redirect_error(call.op.id, response)
        try:
            if raw:
                return self._read_envelope(response, call.op.id)
            result = self._parse_response(call, response)
            return result, result.request_id
        except TikTokShopError:
            raise
        except Exception as exc:  # RecursionError on a deep answer, a decoding error...
            problem = type(exc).__name__
        raise MalformedResponseError(
            f"{call.op.id}: the answer (HTTP {response.status_code}) could not be read ({problem})",
            status_code=response.status_code,
            body_start=self._mask(response.content[:_BODY_PREVIEW].decode("utf-8", "replace")),
        )

    def _is_token_error(self, error: ApiError) -> bool:
        entry = self._error_codes().get(error.code) if error.code is not None else None
        return bool(entry and entry.refresh_token)

    # -- tokens ----------------------------------------------------------------------------------

    def _token_needs_refresh(self, ahead: float = 0.0) -> bool:
        """Whether the access token is within the refresh margin of its expiry ``ahead`` seconds
        from now (when a call waiting for its rate-limiter slot will be sent)."""
        expire = self._tokens.access_token_expire
        return (
            expire is not None
            and bool(self._tokens.refresh_token)
            and self._clock() + ahead + self._config.token_refresh_margin >= expire
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

    def _parse_token(self, response: Answer, op_id: str) -> AccessToken:
        return self._parse_body(AccessToken, response, op_id)


_URL = re.compile(r"https?://\S+")


def _risky(exc: BaseException, mask: Callable[[str], str]) -> bool:
    """Whether an exception in a chain may hold a secret: any ``httpx`` error (it holds the signed
    request), or one whose text changes when masked."""
    if isinstance(exc, (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)):
        return True
    try:
        text = str(exc) + repr(exc.args)
    except Exception:
        return True
    return mask(text) != text


def _safe_text(exc: BaseException) -> str:
    """An httpx error's text with any URL (it may be signed, or carry the app secret) removed."""
    return redact(_URL.sub("<url>", str(exc)))[:200]


class _Send:
    """Step: send this request and read its answer (by the monotonic ``deadline``); the driver
    answers with the read ``Answer`` or throws what sending raised."""

    __slots__ = ("deadline", "op_id", "request")

    def __init__(self, request: httpx.Request, op_id: str = "request", deadline: float | None = None) -> None:
        self.request = request
        self.op_id = op_id
        self.deadline = deadline


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
class _Reserve:
    """Step: reserve a rate-limiter slot unless it lies beyond ``max_wait`` seconds; the driver
    answers with the seconds until it, or ``None`` (nothing taken). Until the next ``_Send`` the
    driver holds the reservation and hands it back if the call ends before it is sent."""

    op: Operation[Any]
    shop: str | None
    max_wait: float | None


@dataclass(frozen=True)
class _Refresh:
    """Step: refresh the tokens unless someone already replaced ``seen`` (under the driver's
    locks); ``rejected``: TikTok refused ``seen``, so the store marks it stale for other workers."""

    seen: str | None
    rejected: bool = False


@dataclass(frozen=True)
class _Refund:
    """Step: hand back the slot of a call TikTok refused at its access-token check, taken to come
    before its rate limit (the limit is per app+shop: the shop is known once the token is; the
    sandbox checks in that order)."""

    op: Operation[Any]
    shop: str | None


_Step = _Send | _Sleep | _Refresh | _Load | _Save | _Reserve | _Refund
T = TypeVar("T")
Steps = Generator[_Step, Any, T]


class _Steps(BaseClient):
    """The logic of a call, a refresh and an exchange as generators of I/O steps (sans I/O).

    The sync and async clients only carry the steps out (send, sleep, refresh under a lock), so
    retries, deadlines, rate limiting, token handling and signing exist once.
    """

    _http_timeout: httpx.Timeout

    def _call_steps(self, call: PreparedCall, raw: bool = False) -> Steps[Any]:
        """A call's steps; returns the model, or with ``raw`` its ``RawResponse`` (data kept)."""
        attempt = 0
        refreshed = False
        deadline = _Deadline(self._config.total_timeout)
        if self._store is not None and not self._seller.loaded:
            yield from self._load_steps(initial=True)
        shop = call.shop_cipher or (self._config.shop_id if call.op.shop_scoped else None)
        while True:
            wait = 0.0
            if self._limiter is not None:
                left = deadline.remaining()
                slot = yield _Reserve(call.op, shop, None if left is None else max(0.0, left))
                if slot is None:
                    raise RateLimitWaitError(
                        f"{call.op.id}: the rate limiter had no free slot within the call's total of "
                        f"{deadline.total:g} s; nothing was sent"
                    )
                wait = slot
            if self._token_needs_refresh(wait):  # due by the slot: refresh while waiting for it
                began = time.monotonic()
                yield _Refresh(self._tokens.access_token)
                wait -= time.monotonic() - began
            if wait > 0:
                yield _Sleep(wait, pacing=True)
            if self._store is not None and time.monotonic() - self._seller.checked >= STORE_RECHECK:
                yield from self._load_steps()  # a token refreshed, or marked stale, elsewhere
            if self._token_needs_refresh():  # marked stale while this call waited (TikTok refused it)
                yield _Refresh(self._tokens.access_token)
            deadline.check(call)
            seen_token = self._tokens.access_token
            request, opened = self._build_request(call)
            deadline.limit(request, call.options.timeout or self._http_timeout)
            self._emit_request(call.op.id, request, attempt)
            started = time.monotonic()
            error: BaseException
            response: Answer | None = None
            request_id: str | None = None
            try:
                response = yield _Send(request, call.op.id, deadline.end)
            except Exception as exc:
                error = self._send_error(f"{call.op.id} ({call.op.method} {call.path})", exc)
                logger.debug("%s %s failed: %s", call.op.method, call.path, type(exc).__name__)
            else:
                assert response is not None
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "%s %s -> HTTP %s in %.0f ms",
                        call.op.method,
                        call.path,
                        response.status_code,
                        (time.monotonic() - started) * 1000,
                    )
                try:
                    result, request_id = self._read_answer(call, response, raw)
                except (ApiError, MalformedResponseError) as answer_error:
                    answer_error.response = self._raw_answer(
                        call, response, None, started, attempt, error=True
                    )
                    request_id = answer_error.request_id
                    error = answer_error
                else:
                    self._emit_response(call.op.id, request, attempt, started, response, request_id, None)
                    if not raw:
                        return result
                    answer = self._raw_answer(call, response, request_id, started, attempt)
                    answer._parse = functools.partial(  # pyright: ignore[reportPrivateUsage]
                        _parse_data, call.op.response, result, request_id, answer.status_code, call.op.id
                    )
                    answer._data = result  # pyright: ignore[reportPrivateUsage]
                    return answer
            finally:
                for handle in opened:
                    handle.close()
            self._emit_response(call.op.id, request, attempt, started, response, request_id, error)
            if not isinstance(error, TikTokShopError):
                raise error
            if (
                isinstance(error, ApiError)
                and not refreshed
                and self._is_token_error(error)
                and self._tokens.refresh_token
            ):
                refreshed = True
                if self._limiter is not None:  # repeated at once after the refresh
                    yield _Refund(call.op, shop)
                yield _Refresh(seen_token, rejected=True)
                continue
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

    def _refresh_steps(self, seen: str | None, rejected: bool = False) -> Steps[AccessToken | None]:
        """Refresh unless another caller (a thread, a task, or a process sharing the token store)
        already replaced ``seen``: concurrent callers share one refresh. The driver holds the locks.

        ``rejected``: TikTok refused ``seen`` before its expiry. The stored record is first marked
        stale (expiring now), so the seller's other shops, in other processes too, refresh (or wait
        for this refresh) before they send instead of spending their calls on a dead token."""
        yield from self._load_steps()
        if self._tokens.access_token != seen and not self._token_needs_refresh():
            return None
        if rejected and self._store is not None and self._tokens.access_token == seen:
            now = int(self._clock())
            if self._tokens.access_token_expire is None or self._tokens.access_token_expire > now:
                self._tokens.access_token_expire = now
                yield _Save(self._seller.record())
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
        deadline = _Deadline(self._config.total_timeout)
        deadline.limit(request, self._http_timeout)
        self._emit_request(op_id, request, 0)
        started = time.monotonic()
        try:
            response = yield _Send(request, op_id, deadline.end)
        except Exception as exc:
            error = self._send_error(op_id, exc)
            self._emit_response(op_id, request, 0, started, None, None, error)
            raise error from None
        logger.debug("GET %s -> HTTP %s", request.url.path, response.status_code)
        token: AccessToken | None = None
        try:
            if 300 <= response.status_code < 400:
                raise self._redirect_error(op_id, response)
            token = self._parse_token(response, op_id)
        except TikTokShopError as exc:
            if isinstance(exc, (ApiError, MalformedResponseError)):
                exc.response = self._raw_answer(request, response, exc.request_id, started, 0, error=True)
            self._emit_response(op_id, request, 0, started, response, getattr(exc, "request_id", None), exc)
            if isinstance(exc, ApiError) and op_id == "auth.refresh_access_token":
                raise self._reauthorization(exc) from None
            raise
        except Exception as exc:  # RecursionError on a deep answer...
            problem = type(exc).__name__
        else:
            problem = ""
        if problem or token is None:
            raise MalformedResponseError(
                f"{op_id}: the answer (HTTP {response.status_code}) could not be read ({problem})",
                status_code=response.status_code,
            )
        self._emit_response(op_id, request, 0, started, response, token.request_id, None)
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
        self._direct: httpx.BaseTransport | None = None
        if http_client is None:
            transport = httpx.HTTPTransport(limits=_POOL_LIMITS)
            http_client = httpx.Client(
                timeout=_timeout(timeout), follow_redirects=False, limits=_POOL_LIMITS, transport=transport
            )
            self._direct = transport if _no_proxy() else None
        self._http = http_client
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
        options: RequestOptions | None = None,
    ) -> R:
        """Validate, sign, send (with retries) and parse one call. See ``TikTokShop`` for errors.

        Under ``with_raw_response`` it returns the call's ``RawResponse`` instead.
        """
        raw = _take_raw_mode()
        call = self._prepare(op, params or {}, body, shop_cipher, form, options)
        result: Any = self._drive(self._call_steps(call, raw))
        if op.pagination is not None:
            _attach_next(result, raw, lambda token: self._request(op, **self._next_page_args(call, token)))
        out: R = result
        return out

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        shop_cipher: str | bool | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        extra_headers: ExtraHeaders | None = None,
    ) -> dict[str, Any]:
        """Call any endpoint, signed, retried and with the token refreshed like every method, and
        return the envelope's ``data`` as a dict: for endpoints TikTok adds before the spec does.

        ``path`` is the API path (``"/order/202309/orders"``); ``query`` and ``body`` are sent as
        given (the body as JSON). The client's ``shop_cipher`` is sent unless ``shop_cipher=False``
        (a call not scoped to a shop) or another one is passed. Only GET is retried after it may
        have reached TikTok. Raises what the generated methods raise.
        """
        raw = _take_raw_mode()
        call = self._prepare_loose(
            method, path, query, body, shop_cipher, timeout, max_retries, extra_headers
        )
        answer: RawResponse[Any] = self._drive(self._call_steps(call, True))
        result: dict[str, Any] = answer if raw else _loose_data(call, answer)  # type: ignore[assignment]
        return result

    def _drive(self, steps: Steps[T]) -> T:
        """Carry out ``steps`` with blocking I/O."""
        value: Any = None
        error: BaseException | None = None
        reserved: _Reserve | None = None  # a rate-limiter slot taken for a call not sent yet
        try:
            while True:
                try:
                    step = steps.throw(error) if error is not None else steps.send(value)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                if isinstance(step, _Send):
                    reserved = None
                    try:
                        value = send(
                            self._http,
                            step.request,
                            limit=self._config.max_response_bytes,
                            deadline=step.deadline,
                            where=step.op_id,
                            transport=self._direct,
                        )
                    except Exception as exc:  # thrown into the steps, which turn it into our error
                        error = exc
                elif isinstance(step, _Sleep):
                    if step.pacing and self._limiter is not None:
                        self._limiter.sleep(step.seconds)  # the limiter's own clock paces it
                    else:
                        self._sleep(step.seconds)
                elif isinstance(step, _Reserve):
                    assert self._limiter is not None
                    value = self._limiter.reserve(step.op, step.shop, step.max_wait, app=self._config.app_key)
                    reserved = step if value is not None else None
                elif isinstance(step, _Refund):
                    assert self._limiter is not None
                    self._limiter.refund(step.op, step.shop, app=self._config.app_key)
                elif isinstance(step, _Load):
                    value = _store_call(self._store, "load", step.seller)
                elif isinstance(step, _Save):
                    _store_call(self._store, "save", step.record)
                else:
                    self._refresh(seen=step.seen, rejected=step.rejected)
        except BaseException as exc:
            if reserved is not None and self._limiter is not None:  # nothing sent: the slot goes back
                self._limiter.refund(reserved.op, reserved.shop, app=self._config.app_key)
            if isinstance(exc, TikTokShopError):
                self._scrub(exc)
            raise
        finally:
            steps.close()

    def _refresh(self, *, seen: str | None, rejected: bool = False) -> AccessToken | None:
        with self._token_lock, self._store_lock():
            return self._drive(self._refresh_steps(seen, rejected))


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
        sleep: Callable[[float], Awaitable[None]] | None = None,
        token_store: TokenStore | None = None,
        rate_limiter: Limiter | None = None,
        session: SellerSession | None = None,
        seller: str | None = None,
    ) -> None:
        import asyncio  # here, not at the top: the sync client never loads asyncio

        super().__init__(
            config,
            tokens,
            clock=clock,
            token_store=token_store,
            rate_limiter=rate_limiter,
            session=session,
            seller=seller,
        )
        self._sleep = sleep or asyncio.sleep
        self._owns_http = http_client is None
        self._direct: httpx.AsyncBaseTransport | None = None
        if http_client is None:
            transport = httpx.AsyncHTTPTransport(limits=_POOL_LIMITS)
            http_client = httpx.AsyncClient(
                timeout=_timeout(timeout), follow_redirects=False, limits=_POOL_LIMITS, transport=transport
            )
            self._direct = transport if _no_proxy() else None
        self._http = http_client
        self._http_timeout = self._http.timeout

    @staticmethod
    def _new_lock() -> Any:
        import asyncio

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
        options: RequestOptions | None = None,
    ) -> R:
        """Validate, sign, send (with retries) and parse one call. See ``AsyncTikTokShop`` for errors.

        Under ``with_raw_response`` it returns the call's ``RawResponse`` instead.
        """
        raw = _take_raw_mode()
        call = self._prepare(op, params or {}, body, shop_cipher, form, options)
        result: Any = await self._drive(self._call_steps(call, raw))
        if op.pagination is not None:
            _attach_next(result, raw, lambda token: self._request(op, **self._next_page_args(call, token)))
        out: R = result
        return out

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        shop_cipher: str | bool | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        extra_headers: ExtraHeaders | None = None,
    ) -> dict[str, Any]:
        """Call any endpoint, signed, retried and token-refreshed; returns the envelope's ``data``
        as a dict (see ``TikTokShop.request``). Raises what the generated methods raise."""
        raw = _take_raw_mode()
        call = self._prepare_loose(
            method, path, query, body, shop_cipher, timeout, max_retries, extra_headers
        )
        answer: RawResponse[Any] = await self._drive(self._call_steps(call, True))
        result: dict[str, Any] = answer if raw else _loose_data(call, answer)  # type: ignore[assignment]
        return result

    async def _drive(self, steps: Steps[T]) -> T:
        """Carry out ``steps`` with asyncio I/O."""
        value: Any = None
        error: BaseException | None = None
        reserved: _Reserve | None = None  # a rate-limiter slot taken for a call not sent yet
        try:
            while True:
                try:
                    step = steps.throw(error) if error is not None else steps.send(value)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                if isinstance(step, _Send):
                    reserved = None
                    try:
                        value = await asend(
                            self._http,
                            step.request,
                            limit=self._config.max_response_bytes,
                            deadline=step.deadline,
                            where=step.op_id,
                            transport=self._direct,
                        )
                    except Exception as exc:  # thrown into the steps, which turn it into our error
                        error = exc
                elif isinstance(step, _Sleep):
                    await self._sleep(step.seconds)
                elif isinstance(step, _Reserve):
                    assert self._limiter is not None
                    value = await self._limiter.areserve(
                        step.op, step.shop, step.max_wait, app=self._config.app_key
                    )
                    reserved = step if value is not None else None
                elif isinstance(step, _Refund):
                    assert self._limiter is not None
                    await self._limiter.arefund(step.op, step.shop, app=self._config.app_key)
                elif isinstance(step, _Load):
                    value = await _astore_call(self._store, "aload", step.seller)
                elif isinstance(step, _Save):
                    await _astore_call(self._store, "asave", step.record)
                else:
                    await self._refresh(seen=step.seen, rejected=step.rejected)
        except BaseException as exc:
            if reserved is not None and self._limiter is not None:  # nothing sent: the slot goes back
                import asyncio

                refund = self._limiter.arefund(reserved.op, reserved.shop, app=self._config.app_key)
                await asyncio.shield(refund)
            if isinstance(exc, TikTokShopError):
                self._scrub(exc)
            raise
        finally:
            steps.close()

    async def _refresh(self, *, seen: str | None, rejected: bool = False) -> AccessToken | None:
        async with self._token_lock, self._store_alock():
            return await self._drive(self._refresh_steps(seen, rejected))


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


def _take_raw_mode() -> bool:
    """Whether this call runs under ``with_raw_response`` (then calls it makes do not)."""
    raw = RAW_MODE.get()
    if raw:
        RAW_MODE.set(False)
    return raw


def _attach_next(result: Any, raw: bool, next_page: Callable[[str], Any]) -> None:
    """Give a page the way to the next one (for a raw answer, the page ``parse()`` returns)."""
    if not raw:
        _call_state(result)["_next_page"] = next_page
        return
    parse = result._parse

    def parse_page() -> Any:
        page = parse()
        page._next_page = next_page
        return page

    result._parse = parse_page


def _loose_data(call: PreparedCall, answer: RawResponse[Any]) -> dict[str, Any]:
    data = answer._data  # pyright: ignore[reportPrivateUsage]
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MalformedResponseError(
            f"{call.op.id}: the envelope's data is a {type(data).__name__}, not an object "
            "(use with_raw_response to read it as it came)",
            status_code=answer.status_code,
            request_id=answer.request_id,
        )
    return cast("dict[str, Any]", data)


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
        """Set the attempt's connect, read, write and pool timeouts, each capped at the time left."""
        left = self.remaining()
        if left is None:
            request.extensions["timeout"] = timeout.as_dict()
            return
        left = max(left, 0.001)
        c, r, w, p = timeout.connect, timeout.read, timeout.write, timeout.pool
        request.extensions["timeout"] = {
            "connect": left if c is None or c > left else c,
            "read": left if r is None or r > left else r,
            "write": left if w is None or w > left else w,
            "pool": left if p is None or p > left else p,
        }


_POOL_LIMITS = httpx.Limits(max_connections=100)


def _no_proxy() -> bool:
    """Whether no proxy applies from the environment (the proxies httpx reads into its pools)."""
    from urllib.request import getproxies  # httpx imports it already

    found = getproxies()
    return not any(found.get(scheme) for scheme in ("http", "https", "all"))


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(value, connect=min(float(value), 10.0))
