"""Data built from a pydantic model alone, for operations the sandbox keeps no state for.

``sample(model)`` walks ``model_fields``: strings get a plausible value from the field's name,
numbers respect their bounds, booleans are true, lists hold one item, nested models are filled
the same way, a ``Literal`` takes its first value. The result validates against the model.
"""

# pyright: standard

from __future__ import annotations

import copy
import datetime
import decimal
import enum
import functools
import types
import typing
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["SAMPLE_TIME", "project", "sample", "sample_value"]

#: The time every generated timestamp shows (2024-01-01T00:00:00Z): stable answers, stable tests.
SAMPLE_TIME = 1_704_067_200
_MAX_DEPTH = 8
_FALSE_BOOLS = frozenset({"has_more", "more", "has_next_page", "is_last_page"})


def sample(model: type[BaseModel]) -> dict[str, Any]:
    """A JSON-ready dict that validates against ``model`` (wire names, i.e. aliases, as keys).

    Raises ``TypeError`` for a field type it cannot build a value for.
    """
    return copy.deepcopy(_sample_cached(model, 0))


@functools.lru_cache(maxsize=4096)
def _sample_cached(model: type[BaseModel], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if depth >= _MAX_DEPTH and not field.is_required():
            continue
        key = field.alias or name
        out[key] = sample_value(field.annotation, name, field.metadata, depth + 1)
    return out


def _bounds(metadata: Sequence[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for attr in ("ge", "gt", "le", "lt", "min_length", "max_length", "multiple_of"):
            value = getattr(item, attr, None)
            if value is not None:
                found[attr] = value
        if isinstance(item, FieldInfo):
            found.update(_bounds(item.metadata))
    return found


def _digits(name: str) -> str:
    """An id-like string of 19 digits, stable for a field name."""
    return "7" + f"{zlib.crc32(name.encode()):010d}" + "00000000"


def _string(name: str, bounds: Mapping[str, Any]) -> str:
    lower = name.lower()
    if lower in ("next_page_token", "page_token", "next_cursor", "cursor"):
        value = ""
    elif lower == "id" or lower.endswith(("_id", "_ids")):
        value = _digits(lower)
    elif "url" in lower:
        value = f"https://sandbox.tiktokshop.invalid/{lower}"
    elif "currency" in lower:
        value = "USD"
    elif "region" in lower or lower.endswith("country"):
        value = "GB"
    elif "email" in lower:
        value = "seller@example.com"
    elif "phone" in lower:
        value = "+44 20 7946 0000"
    elif any(part in lower for part in ("price", "amount", "fee", "tax", "total", "cost", "discount")):
        value = "10.00"
    elif lower.endswith(("_time", "_date")) or lower in ("time", "date"):
        value = str(SAMPLE_TIME)
    elif lower.endswith(("status", "type", "code")):
        value = lower.upper()
    elif "name" in lower or "title" in lower:
        value = f"Sandbox {lower.replace('_', ' ')}"
    else:
        value = f"sandbox-{lower}"
    min_length = int(bounds.get("min_length", 0) or 0)
    max_length = bounds.get("max_length")
    if len(value) < min_length:
        value = value + "x" * (min_length - len(value))
    if max_length is not None and len(value) > int(max_length):
        value = value[: int(max_length)]
    return value


def _number(name: str, bounds: Mapping[str, Any], kind: type) -> int | float:
    lower = name.lower()
    if lower.endswith(("_time", "_date", "timestamp")) or lower in ("time", "date", "expire_in"):
        value: float = SAMPLE_TIME
    elif lower in ("total_count", "total", "count") or lower.endswith("_count"):
        value = 1
    elif lower == "page_size":
        value = 10
    else:
        value = 1
    if "ge" in bounds:
        value = max(value, bounds["ge"])
    if "gt" in bounds:
        value = max(value, bounds["gt"] + (1 if kind is int else 0.5))
    if "le" in bounds:
        value = min(value, bounds["le"])
    if "lt" in bounds:
        value = min(value, bounds["lt"] - (1 if kind is int else 0.5))
    return int(value) if kind is int else float(value)


def sample_value(annotation: Any, name: str, metadata: Sequence[Any] = (), depth: int = 0) -> Any:
    """A JSON value for one field of type ``annotation`` named ``name`` (``metadata``: its constraints).

    Raises ``TypeError`` for a type it does not know.
    """
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return sample_value(args[0], name, [*metadata, *args[1:]], depth)
    if origin is typing.Union or origin is types.UnionType:
        arms = [arm for arm in args if arm is not type(None)]
        return sample_value(arms[0], name, metadata, depth) if arms else None
    if origin is typing.Literal:
        return args[0]
    bounds = _bounds(metadata)
    if origin in (list, tuple, set, frozenset, Sequence, typing.Sequence) or annotation in (list, tuple):
        item = args[0] if args else Any
        count = max(1, int(bounds.get("min_length", 1) or 1))
        return [sample_value(item, _singular(name), (), depth) for _ in range(count)]
    if origin in (dict, Mapping) or annotation is dict:
        return {}
    if annotation is Any or annotation is object:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return copy.deepcopy(_sample_cached(annotation, depth))
        if issubclass(annotation, enum.Enum):
            return next(iter(annotation)).value
        if issubclass(annotation, bool):
            return name.lower() not in _FALSE_BOOLS
        if issubclass(annotation, int):
            return _number(name, bounds, int)
        if issubclass(annotation, float):
            return _number(name, bounds, float)
        if issubclass(annotation, str):
            return _string(name, bounds)
        if issubclass(annotation, bytes):
            return "sandbox"
        if issubclass(annotation, datetime.datetime):
            return "2024-01-01T00:00:00Z"
        if issubclass(annotation, datetime.date):
            return "2024-01-01"
        if issubclass(annotation, decimal.Decimal):
            return "10.00"
    if annotation is None or annotation is type(None):
        return None
    raise TypeError(f"the sandbox cannot build a value of type {annotation!r} (field {name!r})")


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


@functools.lru_cache(maxsize=4096)
def _shape(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Wire name -> the model a nested value must fit (``None`` for a plain value)."""
    out: dict[str, type[BaseModel] | None] = {}
    for name, field in model.model_fields.items():
        out[field.alias or name] = _inner_model(field.annotation)
    return out


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    origin = typing.get_origin(annotation)
    if origin in (typing.Annotated, typing.Union, types.UnionType, list, tuple, Sequence):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def project(data: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """``data`` cut down to the fields ``model`` declares (recursively): what TikTok would send for it."""
    shape = _shape(model)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in shape:
            continue
        inner = shape[key]
        if inner is not None and isinstance(value, Mapping):
            out[key] = project(value, inner)
        elif inner is not None and isinstance(value, list):
            out[key] = [project(item, inner) if isinstance(item, Mapping) else item for item in value]
        else:
            out[key] = value
    return out
