"""The spec format: loading ``spec/*.yaml`` strictly and checking every entry.

A broken entry stops generation with the file, the entry and the field named, e.g.
``spec/order.yaml: operations[0] GetOrderList: query.page_size.type: unknown type 'integr'``.
The format itself is documented in ``spec/README.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SCALARS = ("string", "integer", "number", "boolean", "timestamp", "object", "any", "file")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_LIST = re.compile(r"^list<(.+)>$")


class SpecError(Exception):
    """A problem in the spec, located by file, entry and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One field of a model, or one query or path argument."""

    type: str
    required: bool = False
    description: str | None = None
    enum: list[str | int] | None = None
    omit: list[str | int] | None = None
    min: float | None = None
    max: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    max_items: int | None = None
    arg: str | None = None  # the Python argument name, where the wire name clashes or is unusable


class ModelSpec(_Strict):
    """A named object model (``fields``) or a named enum (``enum``)."""

    description: str | None = None
    fields: dict[str, FieldSpec] | None = None
    enum: list[str | int] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ModelSpec:
        if (self.fields is None) == (self.enum is None):
            raise ValueError("a model has either `fields` (an object) or `enum` (a list of values)")
        return self


class DeviationSpec(_Strict):
    """A deliberate difference from the reference facts, and why."""

    what: str
    reason: str


class RateLimitSpec(_Strict):
    """Requests per second allowed per app and per shop (``null``: no client-side limit)."""

    per_app: float | None = None
    per_shop: float | None = None


class PaginationSpec(_Strict):
    items: str
    token_param: str = "page_token"
    next_token: str = "next_page_token"


class OperationSpec(_Strict):
    """One endpoint."""

    name: str
    version: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    summary: str
    shop_cipher: bool
    retry: Literal["safe", "unsafe"] | None = None
    python_name: str | None = None
    path_params: dict[str, FieldSpec] = Field(default_factory=dict)
    query: dict[str, FieldSpec] = Field(default_factory=dict)
    body: str | None = None
    response: str | None = None
    pagination: PaginationSpec | None = None
    form: dict[str, FieldSpec] = Field(default_factory=dict)
    loose: bool = False
    rate_limit: RateLimitSpec | None = None
    notes: str | None = None
    deviations: list[DeviationSpec] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not an API name like GetOrderList")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"\d{6}", value):
            raise ValueError(f"{value!r} is not a version like '202309' (quote it in YAML)")
        return value

    @field_validator("python_name")
    @classmethod
    def _python_name(cls, value: str | None) -> str | None:
        if value is not None and not _SNAKE.match(value):
            raise ValueError(f"{value!r} is not a snake_case name")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> OperationSpec:
        if not self.path.startswith("/") or "?" in self.path:
            raise ValueError(f"path {self.path!r} must start with / and hold no query")
        segments = self.path.strip("/").split("/")
        if len(segments) < 2 or segments[1] != self.version:
            raise ValueError(f"path {self.path!r} does not carry version {self.version}")
        placeholders = re.findall(r"\{([a-z0-9_]+)\}", self.path)
        declared = list(self.path_params)
        missing = [p for p in placeholders if p not in declared]
        extra = [p for p in declared if p not in placeholders]
        if missing or extra:
            raise ValueError(
                f"path_params must match the path's placeholders {placeholders}: "
                f"missing {missing}, not in path {extra}"
            )
        if self.method != "GET" and self.retry is None:
            raise ValueError(
                "retry is required for a non-GET operation: `safe` if repeating it is harmless "
                "(a search), `unsafe` if it changes state"
            )
        both = set(self.query) & set(self.path_params)
        if both:
            raise ValueError(f"{sorted(both)} are both path and query parameters")
        if self.form and (self.body or self.method not in ("POST", "PUT")):
            raise ValueError("form (multipart) goes with POST or PUT and no body")
        if self.loose and (self.query or self.body or self.response or self.form):
            raise ValueError(
                "a loose operation has no typed query, body, form or response: "
                "drop `loose` once its facts are known"
            )
        return self

    @property
    def retry_safe(self) -> bool:
        return (self.retry or "safe") == "safe"


class DomainSpec(_Strict):
    """One file of ``spec/``: a domain's operations and models."""

    domain: str
    summary: str
    operations: list[OperationSpec] = Field(default_factory=list)
    models: dict[str, ModelSpec] = Field(default_factory=dict)


class ErrorSpec(_Strict):
    error: Literal[
        "ApiError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "BadRequestError",
        "RateLimitError",
        "ServerError",
    ]
    meaning: str
    retry: bool = False
    refresh_token: bool = False
    reauthorize: bool = False
    hint: str | None = None  # what to check, appended to the exception's message
    operations: list[str] | None = None  # "METHOD /path" of the endpoints that document the code


class WebhookTypeSpec(_Strict):
    """One webhook event type: its name, group, a one-line summary and the shape of its ``data``
    (field: type, a nested mapping for an object, a one-item list of a mapping for a list of
    objects); checked by ``codegen.webhooks``."""

    name: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    group: str
    summary: str
    data: dict[str, Any] | None = None


class LegacyWebhookTypeSpec(_Strict):
    """A webhook type number used before API 202309 and the current numbers that replace it."""

    name: str
    now: list[int]


class ApiSpec(_Strict):
    """``spec/api.yaml``: hosts, the error-code table, rate limits and webhook types."""

    hosts: dict[Literal["api", "auth", "authorize", "authorize_us", "sandbox_api", "sandbox_auth"], str]
    errors: dict[int, ErrorSpec]
    rate_limits: RateLimitSpec
    webhook_types: dict[int, WebhookTypeSpec]
    webhook_types_before_202309: dict[int, LegacyWebhookTypeSpec] = {}


class _UniqueKeyLoader(yaml.SafeLoader):
    pass


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise SpecError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None


def _locate(path: Path, raw: Any, exc: ValidationError) -> SpecError:
    lines = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "operations" and isinstance(loc[1], int):
            try:
                name = raw["operations"][loc[1]].get("name", "?")
            except (KeyError, IndexError, TypeError, AttributeError):
                name = "?"
            where = f"operations[{loc[1]}] {name}: "
            loc = loc[2:]
        elif len(loc) >= 2 and loc[0] == "models":
            where = f"models.{loc[1]}: "
            loc = loc[2:]
        field = ".".join(str(p) for p in loc)
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{path}: {where}{field + ': ' if field else ''}{message}")
    return SpecError("\n".join(lines))


def load_domain(path: Path) -> DomainSpec:
    raw = _load_yaml(path)
    try:
        spec = DomainSpec.model_validate(raw)
    except ValidationError as exc:
        raise _locate(path, raw, exc) from None
    check_domain(path, spec)
    return spec


def load_api(path: Path) -> ApiSpec:
    raw = _load_yaml(path)
    try:
        return ApiSpec.model_validate(raw)
    except ValidationError as exc:
        raise _locate(path, raw, exc) from None


def parse_type(text: str) -> tuple[str, str]:
    """Split a type into (kind, name): ('list', inner) or ('scalar', name) or ('model', name)."""
    match = _LIST.match(text.strip())
    if match:
        return "list", match.group(1).strip()
    if text in SCALARS:
        return "scalar", text
    return "model", text


def _check_type(where: str, text: str, models: dict[str, ModelSpec]) -> None:
    kind, name = parse_type(text)
    if kind == "list":
        _check_type(where, name, models)
    elif kind == "model" and name not in models:
        raise SpecError(
            f"{where}: unknown type {text!r} (a scalar {', '.join(SCALARS)}, list<T>, "
            "or a model of this file)"
        )


def _check_field(
    where: str, name: str, field: FieldSpec, models: dict[str, ModelSpec], files: bool = False
) -> None:
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise SpecError(f"{where}: {name!r} is not a usable field name")
    if field.type == "file" and not files:
        raise SpecError(f"{where}.type: `file` is only for the fields of a multipart `form`")
    _check_type(f"{where}.type", field.type, models)
    if field.enum is not None and field.type not in ("string", "integer", "list<string>", "list<integer>"):
        raise SpecError(f"{where}.enum: only string and integer fields take an enum, not {field.type}")
    if field.omit and field.required:
        raise SpecError(f"{where}.omit: a required field cannot be omitted")


def snake_case(name: str) -> str:
    """GetOrderList -> get_order_list; getShopGroupAndRelatedShops -> get_shop_group_and_related_shops."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return text.lower()


def check_domain(path: Path, spec: DomainSpec) -> None:
    if path.stem != spec.domain:
        raise SpecError(f"{path}: domain: {spec.domain!r} must match the file name {path.stem!r}")
    for mname, model in spec.models.items():
        if not _NAME.match(mname):
            raise SpecError(f"{path}: models.{mname}: model names are CamelCase")
        for fname, field in (model.fields or {}).items():
            _check_field(f"{path}: models.{mname}.fields.{fname}", fname, field, spec.models)
    for index, op in enumerate(spec.operations):
        where = f"{path}: operations[{index}] {op.name}"
        for kind in ("path_params", "query", "form"):
            for fname, field in getattr(op, kind).items():
                _check_field(f"{where}: {kind}.{fname}", fname, field, spec.models, files=kind == "form")
        for kind in ("body", "response"):
            ref = getattr(op, kind)
            if ref is not None and (ref not in spec.models or spec.models[ref].fields is None):
                raise SpecError(f"{where}: {kind}: {ref!r} is not an object model of this file")
        if op.pagination:
            if not op.response:
                raise SpecError(f"{where}: pagination: needs a response model")
            fields = spec.models[op.response].fields or {}
            if op.pagination.items not in fields:
                raise SpecError(
                    f"{where}: pagination.items: {op.response} has no field {op.pagination.items!r}"
                )
            if parse_type(fields[op.pagination.items].type)[0] != "list":
                raise SpecError(f"{where}: pagination.items: {op.pagination.items!r} is not a list")
        form_args = {f.arg or name for name, f in op.form.items()}
        clash = form_args & (set(op.query) | set(op.path_params) | {"shop_cipher", "self", "query", "body"})
        if clash:
            raise SpecError(f"{where}: form fields {sorted(clash)} clash with arguments of the same name")
