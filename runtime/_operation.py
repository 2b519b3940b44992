"""What generated code tells the runtime about one operation: facts from the spec, nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from ._models import RequestModel, ResponseModel

__all__ = ["ErrorCode", "Operation", "Pagination"]

R = TypeVar("R", bound=ResponseModel)


@dataclass(frozen=True, slots=True)
class Pagination:
    """How an operation pages: the list field of its response and its token names."""

    items: str
    token_param: str = "page_token"
    next_token: str = "next_page_token"


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One row of the spec's error table: which exception a TikTok code raises and how to react.

    ``hint`` (what to check) is appended to the exception's message.
    """

    error: str
    retry: bool = False
    refresh_token: bool = False
    reauthorize: bool = False
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Operation(Generic[R]):
    """One endpoint: where it lives, how it is called, and the models that check its data.

    ``params`` validates the path and query arguments, ``body`` the JSON body fields;
    ``omit`` lists argument values that mean "send nothing" (``order_status="ALL"``).
    ``form`` validates the fields of a multipart upload, ``files`` names its file fields.
    ``loose`` marks an operation known by method and path only: extra query and body pass through.
    ``rate_limit`` is the spec's (per app, per shop) requests per second for this endpoint, if any.
    ``retry_safe`` says whether repeating the call after it may have reached TikTok is harmless.
    """

    id: str
    method: str
    path: str
    response: type[R]
    shop_scoped: bool
    retry_safe: bool
    params: type[RequestModel] | None = None
    path_params: tuple[str, ...] = ()
    body: type[RequestModel] | None = None
    omit: tuple[tuple[str, object], ...] = ()
    pagination: Pagination | None = None
    form: type[RequestModel] | None = None
    files: tuple[str, ...] = ()
    loose: bool = False
    rate_limit: tuple[float | None, float | None] | None = None
