"""Base classes and shared types of every generated model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict
from typing_extensions import Self

__all__ = ["Page", "RequestModel", "ResponseModel", "Timestamp"]


def _to_unix_seconds(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                "a naive datetime is ambiguous: pass an aware one (datetime.now(timezone.utc)) "
                "or an int Unix timestamp"
            )
        return int(value.timestamp())
    return value


#: A point in time on the wire: Unix seconds. Accepts an ``int`` or a timezone-aware ``datetime``.
Timestamp = Annotated[int, BeforeValidator(_to_unix_seconds)]


class RequestModel(BaseModel):
    """Base of request models: strict types, unknown fields refused (a typo is caught before sending)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        populate_by_name=True,
        protected_namespaces=(),
        arbitrary_types_allowed=True,
        defer_build=True,
    )


class ResponseModel(BaseModel):
    """Base of response models: unknown fields are kept (TikTok adds fields often), never fatal.

    ``request_id`` is the envelope's request id, the one TikTok support asks for. Only the answer
    of a call carries it (and, on a page, the way to the next page): nested models have no
    per-instance state beyond their fields, so an answer of many objects validates at the cost
    of its fields alone.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        protected_namespaces=(),
        coerce_numbers_to_str=True,
        defer_build=True,
    )

    # The call's state lives in pydantic's slot for private state, which pydantic leaves empty
    # (``None``) on models that declare no private attributes: it is set on the answer only,
    # and pydantic copies it with the model.

    @property
    def request_id(self) -> str | None:
        """The ``request_id`` of the envelope this payload came in."""
        state = self.__pydantic_private__
        return state.get("_request_id") if state else None

    @property
    def _request_id(self) -> str | None:
        return self.request_id

    @_request_id.setter
    def _request_id(self, value: str | None) -> None:
        _call_state(self)["_request_id"] = value

    @property
    def _next_page(self) -> Callable[[str], Any] | None:
        state = self.__pydantic_private__
        return state.get("_next_page") if state else None

    @_next_page.setter
    def _next_page(self, value: Callable[[str], Any] | None) -> None:
        _call_state(self)["_next_page"] = value


def _call_state(model: ResponseModel) -> dict[str, Any]:
    state = model.__pydantic_private__
    if state is None:
        state = {}
        object.__setattr__(model, "__pydantic_private__", state)
    return state


ItemT = TypeVar("ItemT")


class Page(Generic[ItemT]):
    """Mixin of paginated responses: one page of items, and the way to the next ones.

    ``auto_paging_iter()`` yields every item of this page and of the pages after it, fetching
    each next page only when the previous one is used up (same arguments, new ``page_token``).
    """

    _items_field: ClassVar[str]
    _next_token_field: ClassVar[str] = "next_page_token"

    # The names below stay clear of response fields: a page keeps its own fields (``orders``,
    # ``next_page_token``...) as they are.

    def page_items(self) -> list[ItemT]:
        """The items on this page (an empty list when the page has none)."""
        value = getattr(self, self._items_field, None)
        return list(value) if value else []

    def _next_token(self) -> str | None:
        token = getattr(self, self._next_token_field, None)
        return str(token) if token else None

    def has_next_page(self) -> bool:
        """Whether another page follows this one."""
        return self._next_token() is not None

    def next_page(self) -> Self:
        """Fetch the next page. Raises ``StopIteration`` on the last page, and what the call raises."""
        token = self._next_token()
        fetch = getattr(self, "_next_page", None)
        if token is None or fetch is None:
            raise StopIteration("this is the last page")
        page: Self = fetch(token)
        return page

    def iter_pages(self) -> Iterator[Self]:
        """Yield this page and each following page, fetching each only when it is reached."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.next_page()

    def auto_paging_iter(self) -> Iterator[ItemT]:
        """Yield every item of this page and of all following pages."""
        for page in self.iter_pages():
            yield from page.page_items()

    async def anext_page(self) -> Self:
        """Fetch the next page, for a page from the async client. Raises ``StopAsyncIteration``
        on the last page, and what the call raises."""
        token = self._next_token()
        fetch = getattr(self, "_next_page", None)
        if token is None or fetch is None:
            raise StopAsyncIteration("this is the last page")
        page: Self = await fetch(token)
        return page

    async def aiter_pages(self) -> AsyncIterator[Self]:
        """Yield this page and each following page (async client), fetching each when reached."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.anext_page()

    async def auto_paging_aiter(self) -> AsyncIterator[ItemT]:
        """Yield every item of this page and of all following pages (async client)."""
        async for page in self.aiter_pages():
            for item in page.page_items():
                yield item
