"""What generated code tells the runtime about one operation: facts from the spec, nothing more."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._models import RequestModel, ResponseModel

__all__ = ["ErrorCode", "ModelRef", "Operation", "Pagination", "lazy_models"]

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


class ModelRef:
    """A model named by module and class, imported when first needed (see ``lazy_models``)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def resolve(self) -> Any:
        """The model class (importing its module on first use)."""
        return getattr(importlib.import_module(self.module), self.name)

    def __repr__(self) -> str:
        return f"ModelRef({self.module}.{self.name})"


class _LazyModels:
    """Stands for a domain's models module in generated resource code: ``_t.GetProductResponse``
    is a ``ModelRef``, so a domain's operations are declared without importing any model."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> ModelRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return ModelRef(self._module, name)


def lazy_models(module: str) -> Any:
    """A stand-in for the models module ``module`` whose attributes are ``ModelRef``s."""
    return _LazyModels(module)


_FIELDS = (
    "id",
    "method",
    "path",
    "response",
    "shop_scoped",
    "retry_safe",
    "params",
    "path_params",
    "body",
    "omit",
    "pagination",
    "form",
    "files",
    "loose",
    "rate_limit",
)
_MODELS = ("response", "params", "body", "form")


class Operation(Generic[R]):
    """One endpoint: where it lives, how it is called, and the models that check its data.

    ``params`` validates the path and query arguments, ``body`` the JSON body fields;
    ``omit`` lists argument values that mean "send nothing" (``order_status="ALL"``).
    ``form`` validates the fields of a multipart upload, ``files`` names its file fields.
    ``loose`` marks an operation known by method and path only: extra query and body pass through.
    ``rate_limit`` is the spec's (per app, per shop) requests per second for this endpoint, if any.
    ``retry_safe`` says whether repeating the call after it may have reached TikTok is harmless.

    The models may be given as ``ModelRef``s: each is imported when the attribute is first read,
    so declaring a domain's operations imports none of its models, and a call builds only its own.
    Immutable once made.
    """

    __slots__ = (
        "_body",
        "_form",
        "_params",
        "_response",
        "files",
        "id",
        "loose",
        "method",
        "omit",
        "pagination",
        "path",
        "path_params",
        "rate_limit",
        "retry_safe",
        "shop_scoped",
    )

    id: str
    method: str
    path: str
    shop_scoped: bool
    retry_safe: bool
    path_params: tuple[str, ...]
    omit: tuple[tuple[str, object], ...]
    pagination: Pagination | None
    files: tuple[str, ...]
    loose: bool
    rate_limit: tuple[float | None, float | None] | None

    def __init__(
        self,
        id: str,
        method: str,
        path: str,
        response: type[R],
        shop_scoped: bool,
        retry_safe: bool,
        params: type[RequestModel] | None = None,
        path_params: tuple[str, ...] = (),
        body: type[RequestModel] | None = None,
        omit: tuple[tuple[str, object], ...] = (),
        pagination: Pagination | None = None,
        form: type[RequestModel] | None = None,
        files: tuple[str, ...] = (),
        loose: bool = False,
        rate_limit: tuple[float | None, float | None] | None = None,
    ) -> None:
        values = dict(locals())
        for name in _FIELDS:
            slot = "_" + name if name in _MODELS else name
            object.__setattr__(self, slot, values[name])

    def _model(self, slot: str) -> Any:
        value = object.__getattribute__(self, slot)
        if isinstance(value, ModelRef):
            value = value.resolve()
            object.__setattr__(self, slot, value)
        return value

    @property
    def response(self) -> type[R]:
        """The model of the answer's ``data``."""
        model: type[R] = self._model("_response")
        return model

    @property
    def params(self) -> type[RequestModel] | None:
        """The model of the path and query arguments, if any."""
        model: type[RequestModel] | None = self._model("_params")
        return model

    @property
    def body(self) -> type[RequestModel] | None:
        """The model of the JSON body, if any."""
        model: type[RequestModel] | None = self._model("_body")
        return model

    @property
    def form(self) -> type[RequestModel] | None:
        """The model of a multipart upload's fields, if any."""
        model: type[RequestModel] | None = self._model("_form")
        return model

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Operation is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Operation is immutable (cannot delete {name!r})")

    def __repr__(self) -> str:
        return f"Operation(id={self.id!r}, method={self.method!r}, path={self.path!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Operation):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    def __hash__(self) -> int:
        return hash((self.id, self.method, self.path))
