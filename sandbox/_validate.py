"""Arguments checked the way the client's own request models check them, on the receiving side.

The query arrives as strings: each value is turned into the type its field declares (a list is
split at commas, booleans are ``true``/``false``) and the operation's ``params`` model validates
the lot, path arguments included; the JSON body is validated by the ``body`` model, a multipart
form by the ``form`` model. Any problem is a ``SandboxError`` with the validation code.
"""

# pyright: standard

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

import pydantic
from pydantic import BaseModel

from ._codes import INVALID_PARAMETER, SandboxError

__all__ = ["parse_form", "validate_body", "validate_form", "validate_query"]

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def _describe(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        if err["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown field")
        elif err["type"] == "missing":
            parts.append(f"{where}: required")
        else:
            parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _base(annotation: Any) -> Any:
    """The type under ``Annotated`` and ``Optional``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Union or origin is types.UnionType:
            arms = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = arms[0] if len(arms) == 1 else annotation
            if len(arms) != 1:
                return annotation
        else:
            return annotation


def _scalar(annotation: Any, raw: str) -> Any:
    base = _base(annotation)
    origin = typing.get_origin(base)
    if origin is typing.Literal:
        values = typing.get_args(base)
        if values and all(isinstance(v, bool) for v in values):
            return _scalar(bool, raw)
        if values and all(isinstance(v, int) for v in values):
            return _scalar(int, raw)
        return raw
    if base is bool:
        return {"true": True, "false": False}.get(raw, raw)
    if base is int:
        return int(raw) if _INT.fullmatch(raw) else raw
    if base is float:
        return float(raw) if _FLOAT.fullmatch(raw) else raw
    return raw


def _coerce(annotation: Any, raw: str) -> Any:
    base = _base(annotation)
    if typing.get_origin(base) in (list, tuple, set, frozenset) or base in (list, tuple):
        args = typing.get_args(base)
        item = args[0] if args else str
        return [_scalar(item, part) for part in raw.split(",")] if raw else []
    return _scalar(base, raw)


def validate_query(
    model: type[BaseModel] | None,
    query: Mapping[str, str],
    path_args: Mapping[str, str],
    *,
    loose: bool = False,
) -> dict[str, Any]:
    """Check the query (common parameters already removed) and path arguments against ``model``.

    Returns the validated arguments. Raises ``SandboxError`` (INVALID_PARAMETER) on any problem;
    ``loose`` operations accept any extra query parameter.
    """
    if model is None:
        if query and not loose:
            raise SandboxError(INVALID_PARAMETER, f"unknown query parameters {sorted(query)}")
        return {**query, **path_args}
    fields = model.model_fields
    by_wire = {(f.alias or name): name for name, f in fields.items()}
    data: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, raw in {**query, **path_args}.items():
        name = by_wire.get(key)
        if name is None:
            extra[key] = raw
            continue
        data[key] = _coerce(fields[name].annotation, raw)
    try:
        checked = model.model_validate(data if loose else {**data, **extra})
    except pydantic.ValidationError as exc:
        raise SandboxError(INVALID_PARAMETER, _describe(exc)) from None
    result = checked.model_dump(by_alias=True, exclude_none=True)
    if loose:
        result.update(extra)
    return result


def validate_body(model: type[BaseModel] | None, body: bytes, *, loose: bool = False) -> dict[str, Any]:
    """Check a JSON body against ``model`` and return it as a dict (wire names).

    An empty body counts as ``{}``. Raises ``SandboxError`` (INVALID_PARAMETER) for a body that is
    not a JSON object, or that the model refuses; a body sent to an operation without one.
    """
    if not body.strip():
        parsed: Any = {}
    else:
        try:
            parsed = json.loads(body)
        except ValueError:
            raise SandboxError(INVALID_PARAMETER, "the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise SandboxError(INVALID_PARAMETER, "the body must be a JSON object")
    if model is None:
        if parsed and not loose:
            raise SandboxError(INVALID_PARAMETER, "this operation takes no body")
        return parsed
    try:
        checked = model.model_validate_json(body if body.strip() else b"{}")
    except pydantic.ValidationError as exc:
        raise SandboxError(INVALID_PARAMETER, _describe(exc)) from None
    return checked.model_dump(mode="json", by_alias=True, exclude_none=True)


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Split a multipart/form-data body into text fields and files (by field name).

    Raises ``SandboxError`` (INVALID_PARAMETER) when the body is not multipart/form-data.
    """
    if not content_type.lower().startswith("multipart/form-data"):
        raise SandboxError(INVALID_PARAMETER, "this operation takes a multipart/form-data body")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise SandboxError(INVALID_PARAMETER, "the multipart body could not be read")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = content
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files


def validate_form(
    model: type[BaseModel] | None,
    file_names: tuple[str, ...],
    fields: dict[str, str],
    files: dict[str, bytes],
) -> dict[str, Any]:
    """Check a multipart upload: text fields against ``model``, file fields present as files.

    Raises ``SandboxError`` (INVALID_PARAMETER) on any problem.
    """
    if model is None:
        return dict(fields)
    model_fields = model.model_fields
    by_wire = {(f.alias or name): name for name, f in model_fields.items()}
    data: dict[str, Any] = {}
    for key, raw in fields.items():
        name = by_wire.get(key)
        data[key] = _coerce(model_fields[name].annotation, raw) if name else raw
    for key in files:
        if key not in file_names:
            raise SandboxError(INVALID_PARAMETER, f"{key}: not a file field of this operation")
        data[key] = "<file>"
    try:
        checked = model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise SandboxError(INVALID_PARAMETER, _describe(exc)) from None
    return checked.model_dump(mode="json", by_alias=True, exclude_none=True)
