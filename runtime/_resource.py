"""Bases of the generated per-domain resource classes."""

from __future__ import annotations

import difflib
import functools
import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import ParamSpec

from ._errors import ValidationError

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncResource", "SyncResource", "checked_arguments"]

P = ParamSpec("P")
T = TypeVar("T")


def _arguments_error(
    op_id: str, func: Callable[..., Any], kwargs: dict[str, Any], exc: TypeError
) -> ValidationError:
    """A ``ValidationError`` for arguments Python refused: an unknown one names the nearest valid one."""
    params = inspect.signature(func).parameters
    valid = [
        n for n, p in params.items() if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    unknown = sorted(name for name in kwargs if name not in params)
    if not unknown:
        detail = str(exc).split("() ", 1)[-1]  # "missing 1 required keyword-only argument: 'x'"
        named = re.search(r"'([A-Za-z_][A-Za-z0-9_]*)'", detail)
        return ValidationError(
            f"{op_id}: {detail}; nothing was sent", field=named.group(1) if named else None
        )
    parts: list[str] = []
    for name in unknown:
        shown = name if len(name) <= 64 else name[:64] + "..."
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"it takes {', '.join(valid) or 'none'}"
        parts.append(f"unknown argument {shown!r}: {hint}")
    return ValidationError(f"{op_id}: {'; '.join(parts)} (nothing was sent)", field=unknown[0][:64])


def checked_arguments(op_id: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a generated method so that arguments Python refuses (misspelled, missing, too many)
    raise ``ValidationError`` (also a ``TypeError``) naming the nearest valid argument. Nothing is sent.
    """

    def decorate(func: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(func)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return func(*args, **kwargs)
            except TypeError as exc:
                tb = exc.__traceback__
                if tb is not None and tb.tb_next is None:  # refused while binding: func never ran
                    raise _arguments_error(op_id, func, kwargs, exc) from None
                raise

        return method

    return decorate


class SyncResource:
    """One API domain's operations, bound to a client (``client.order``, ``client.product``...)."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class AsyncResource:
    """One API domain's operations, bound to an async client (``await client.order.get_order_list(...)``)."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
