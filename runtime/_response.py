"""Raw answers: ``client.<domain>.with_raw_response.<method>(...)`` returns a ``RawResponse``."""

from __future__ import annotations

import contextvars
import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from typing_extensions import ParamSpec

__all__ = ["RawResponse", "async_to_raw_response", "to_raw_response"]

T = TypeVar("T")
P = ParamSpec("P")

#: Set while a ``with_raw_response`` method runs: the call returns its ``RawResponse``.
RAW_MODE: contextvars.ContextVar[bool] = contextvars.ContextVar("tiktokshop_raw_mode", default=False)


class RawResponse(Generic[T]):
    """One answer as it came: HTTP ``status_code``, ``headers`` (credentials masked), TikTok's
    ``request_id``, the body as ``content`` bytes (decompressed), the ``method`` and ``path`` of
    the call (never the signed URL), ``elapsed`` seconds and the number of ``retries`` taken.
    ``parse()`` gives the typed model; ``json()`` the decoded body.
    """

    def __init__(
        self,
        *,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        request_id: str | None,
        method: str,
        path: str,
        elapsed: float,
        retries: int = 0,
        parse: Callable[[], T] | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = dict(headers)
        self.content = content
        self.request_id = request_id
        self.method = method
        self.path = path
        self.elapsed = elapsed
        self.retries = retries
        self._parse = parse
        self._parsed: list[T] = []
        self._data: Any = None

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body decoded as JSON. Raises ``ValueError`` when it is not JSON."""
        return json.loads(self.content)

    def parse(self) -> T:
        """The envelope's ``data`` as the method's typed model (parsed once, then kept).

        Raises ``MalformedResponseError`` when the data does not fit the model; ``RuntimeError``
        on the raw answer of an error (it has no model).
        """
        if not self._parsed:
            if self._parse is None:
                raise RuntimeError("this raw answer belongs to an error: it has no parsed model")
            self._parsed.append(self._parse())
        return self._parsed[0]

    def __repr__(self) -> str:
        return f"<RawResponse {self.method} {self.path} HTTP {self.status_code} request_id={self.request_id}>"


def to_raw_response(func: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """Wrap a generated method so that it returns the ``RawResponse`` instead of the model."""

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        token = RAW_MODE.set(True)
        try:
            result: Any = func(*args, **kwargs)
        finally:
            RAW_MODE.reset(token)
        raw: RawResponse[T] = result
        return raw

    return wrapped


def async_to_raw_response(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """Wrap a generated async method so that it returns the ``RawResponse`` instead of the model."""

    @functools.wraps(func)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        token = RAW_MODE.set(True)
        try:
            result: Any = await func(*args, **kwargs)
        finally:
            RAW_MODE.reset(token)
        raw: RawResponse[T] = result
        return raw

    return wrapped
