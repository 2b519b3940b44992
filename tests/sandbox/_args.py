"""Valid arguments for any operation, built from its request models (required fields only).

Written separately from the sandbox's own generator, so that the end-to-end walk does not test
the sandbox with itself.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from tiktokshop._operation import Operation


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in metadata:
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            if getattr(item, name, None) is not None:
                out[name] = getattr(item, name)
    return out


def value(annotation: Any, name: str, metadata: list[Any] | None = None) -> Any:
    metadata = list(metadata or [])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return value(args[0], name, metadata + list(args[1:]))
    if origin in (typing.Union, types.UnionType):
        return value(next(a for a in args if a is not type(None)), name, metadata)
    if origin is typing.Literal:
        return args[0]
    bounds = _bounds(metadata)
    if origin in (list, tuple, set) or annotation is list:
        return [value(args[0] if args else str, name)] * max(1, bounds.get("min_length", 1))
    if origin is dict or annotation is dict or annotation is Any:
        return {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return required_fields(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation)).value
    if annotation is bool:
        return True
    if annotation in (int, float):
        number = 1_700_000_000 if name.endswith("time") else 10
        if "ge" in bounds:
            number = max(number, bounds["ge"])
        if "gt" in bounds:
            number = max(number, bounds["gt"] + 1)
        if "le" in bounds:
            number = min(number, bounds["le"])
        if "lt" in bounds:
            number = min(number, bounds["lt"] - 1)
        return annotation(number)
    if annotation is str:
        text = "7000000000000000001" if name.endswith("id") or name.endswith("ids") else f"sample {name}"
        if "max_length" in bounds:
            text = text[: bounds["max_length"]]
        return text.ljust(bounds.get("min_length", 0), "x")
    raise TypeError(f"no value for {annotation!r} ({name})")


def _fits(annotation: Any, candidate: Any) -> bool:
    try:
        TypeAdapter(annotation).validate_python(candidate, strict=True)
    except PydanticValidationError:
        return False
    return True


def required_fields(model: type[BaseModel], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = overrides or {}
    out = {}
    for name, field in model.model_fields.items():
        if name in overrides and _fits(field.annotation, overrides[name]):
            out[name] = overrides[name]
        elif field.is_required():
            out[name] = value(field.annotation, name, list(field.metadata))
    return out


def arguments(op: Operation[Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of the client method of ``op``: required fields, known ids from ``overrides``."""
    kwargs: dict[str, Any] = {}
    for model in (op.params, op.body):
        if model is not None:
            usable = {k: v for k, v in overrides.items() if k in model.model_fields}
            for name, val in required_fields(model, usable).items():
                # A body field named like a path or query argument is the argument body_<name>.
                clash = model is op.body and op.params is not None and name in op.params.model_fields
                kwargs[f"body_{name}" if clash else name] = val
    if op.form is not None:
        for name, field in op.form.model_fields.items():
            if name in op.files:
                kwargs[name] = b"sandbox file content"
            elif field.is_required():
                kwargs[name] = value(field.annotation, name, list(field.metadata))
    return kwargs
