"""Webhook event types (``webhook_types`` in ``spec/api.yaml``) -> ``tiktokshop.types.webhooks``.

Each documented type gets a model of its ``data`` (nested objects become models of their own) and
an event class carrying its number, name and group; types whose data TikTok does not show keep a
plain ``dict``. Kept apart from ``codegen.generate`` so the two evolve independently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jinja2

from codegen.spec import ApiSpec, SpecError

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_LIST = re.compile(r"^list<(\w+)>$")
_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")


def _pascal(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:].lower() for part in snake.split("_"))


@dataclass
class DataModel:
    """One generated model: its class name, docstring and (field, annotation) pairs."""

    name: str
    doc: str
    fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class EventType:
    """One webhook type as the template needs it."""

    number: int
    name: str
    group: str
    summary: str
    class_name: str
    data_class: str | None


def _annotation(where: str, value: Any, owner: str, key: str, models: list[DataModel]) -> str:
    if isinstance(value, str):
        if value in _SCALARS:
            return _SCALARS[value]
        match = _LIST.match(value)
        if match and match.group(1) in _SCALARS:
            return f"list[{_SCALARS[match.group(1)]}]"
        raise SpecError(f"{where}: unknown type {value!r} (string, integer, number, boolean, list<scalar>)")
    if isinstance(value, dict):
        return _model(where, value, owner + _pascal(key), f"The `{key}` object.", models)
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return (
            f"list[{_model(where, value[0], owner + _pascal(key) + 'Item', f'One item of `{key}`.', models)}]"
        )
    raise SpecError(f"{where}: a type, a mapping (object) or a one-item list of a mapping (list of objects)")


def _model(where: str, shape: dict[str, Any], name: str, doc: str, models: list[DataModel]) -> str:
    model = DataModel(name, doc)
    for key, value in shape.items():
        if not isinstance(key, str) or not _FIELD.match(key):
            raise SpecError(f"{where}: {key!r} is not a usable field name")
        model.fields.append((key, _annotation(f"{where}.{key}", value, name, key, models)))
    models.append(model)
    return name


def build(api: ApiSpec) -> tuple[list[EventType], list[DataModel]]:
    """The event types and data models of ``api.webhook_types``. Raises ``SpecError`` on a bad shape."""
    events: list[EventType] = []
    models: list[DataModel] = []
    names: set[str] = set()
    for number, spec in sorted(api.webhook_types.items()):
        where = f"spec/api.yaml: webhook_types.{number}.data"
        if spec.name in names:
            raise SpecError(f"spec/api.yaml: webhook_types.{number}.name: {spec.name} is used twice")
        names.add(spec.name)
        base = _pascal(spec.name)
        data_class = None
        if spec.data:
            data_class = _model(
                where, spec.data, f"{base}Data", f"The `data` of {spec.name} ({number}) events.", models
            )
        events.append(EventType(number, spec.name, spec.group, spec.summary, f"{base}Event", data_class))
    for old, legacy in api.webhook_types_before_202309.items():
        for now in legacy.now:
            if now not in api.webhook_types:
                raise SpecError(f"spec/api.yaml: webhook_types_before_202309.{old}.now: {now} is not a type")
    return events, models


def render(env: jinja2.Environment, api: ApiSpec, header: str) -> dict[str, str]:
    """``types/webhooks.py``, by path relative to ``generated/``."""
    events, models = build(api)
    return {
        "types/webhooks.py": env.get_template("webhooks.py.jinja").render(
            events=events,
            models=models,
            legacy={old: (t.name, tuple(t.now)) for old, t in api.webhook_types_before_202309.items()},
            header=header,
        )
    }
