"""The spec against the three reference sources in ``tests/reference/``: every disagreement, exactly.

Sources, highest authority first (spec/README.md, "Conformance"):

1. ``docs``: TikTok's published API reference (``docs.json``);
2. ``openapi``: TikTok's own OpenAPI document (``openapi_tiktok_202601.json``);
3. ``sdk``: the SDK-derived catalogue (``operations.json`` with ``models.json``/``models_peer.json``).

Each fact of an operation is checked against the highest source that states it:

- the operation's presence, version, path parameters, query parameters (name, type, required),
  ``shop_cipher`` rule, and the body, form and response trees (field names and types):
  docs, else openapi, else sdk;
- the required flags of body and form fields: docs, else sdk (openapi states none);
- enum values: openapi, else sdk (docs states none);
- TikTok's operation name: openapi, else sdk (its first letter's case aside: the method is its
  snake_case either way).

An operation that docs or the sdk catalogue lists must be in the spec; one that only openapi
lists need not be (it covers groups the client does not offer). A disagreement is a ``Gap``:
``(source, operation, key, reference value, spec value)``. Keys: ``operation``, ``method``,
``version``, ``name``, ``shop_cipher``, ``loose``, ``notes``, ``body``, ``response``, ``form``;
a field is ``<part>.<field>[.<nested>...]`` where part is ``path``, ``query``, ``body``, ``form``
or ``response`` (items of a list are addressed through the list's own name), and an attribute of a
field is ``<field key>:type``, ``:required`` or ``:enum``. A field present on one side only is
reported at its field key with ``absent`` on the other side.

Types are compared in one vocabulary: ``string``, ``integer``, ``number``, ``boolean``, ``object``,
``file``, ``any``, ``array<T>`` (``array`` when the source names no item type: then any list
agrees). Path parameters are named by the path, which is the same on both sides: only their
types are compared. The spec's
``timestamp`` is ``integer``; a model with fields is ``object``; a named enum is ``string`` (or
``integer`` when its values are numbers). openapi's ``integer`` of any format is ``integer`` and
``string``/``binary`` is ``file``. The sdk's ``number`` stands for any number and matches
``integer`` or ``number``; its free ``object`` matches ``object`` or ``any``.

Enum values: the spec's field must have an enum holding every value the source lists (values
the spec adds are not reported: answers admit new values anyway, and a request that sends an
extra value is refused by TikTok, not by a wrong type).

A spec operation may accept a difference with ``deviations: [{what: KEY, reason: ...}]``: KEY
covers the gap with that key and every gap under it (``body.skus`` covers ``body.skus.price:type``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = Path(__file__).resolve().parent / "reference"
BASELINE = SNAPSHOT / "known_gaps.json"
SOURCES = ("docs", "openapi", "sdk")
#: Query parameters every signed call carries: the client's own, not an operation's.
SIGNING_QUERY = {"app_key", "sign", "timestamp", "access_token", "shop_cipher", "version"}
ABSENT = "absent"


@dataclass(frozen=True, order=True)
class Gap:
    """One disagreement between the spec and a reference source."""

    source: str
    operation: str  # "METHOD /path"
    key: str
    reference: str
    spec: str

    def line(self, domain: str = "") -> str:
        where = f"{domain}: " if domain else ""
        return f"[{self.source}] {where}{self.operation} {self.key}: reference {self.reference}, spec {self.spec}"

    def row(self) -> list[str]:
        return [self.source, self.operation, self.key, self.reference, self.spec]


# -- the snapshot and the spec ---------------------------------------------------------------------


@cache
def snapshot(name: str) -> dict[str, Any]:
    """One snapshot file of tests/reference/ (``docs``, ``openapi``, ``sdk``, ``signing``)."""
    data: dict[str, Any] = json.loads((SNAPSHOT / f"{name}.json").read_text(encoding="utf-8"))
    return data


@cache
def spec() -> dict[str, dict[str, Any]]:
    """Every domain file of spec/, by domain."""
    out = {}
    for path in sorted((ROOT / "spec").glob("*.yaml")):
        if path.name != "api.yaml":
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            out[data["domain"]] = data
    return out


def spec_operations() -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """The spec's operations by (method, path), each with its domain."""
    return {
        (op["method"], op["path"]): (domain, op)
        for domain, data in spec().items()
        for op in data.get("operations") or []
    }


# -- normalized field trees ------------------------------------------------------------------------


@dataclass
class Node:
    """A field of a reference tree in the common vocabulary.

    ``accept`` is the set of spec types that agree with it (one type, except for the sdk's loose
    ``number`` and ``object``); ``required`` and ``enum`` are ``None`` where the source is silent;
    ``children`` is ``None`` where the source states no nested fields.
    """

    type: str
    accept: frozenset[str]
    required: bool | None = None
    enum: tuple[str, ...] | None = None
    children: dict[str, Node] | None = None


def _exact(t: str, **kw: Any) -> Node:
    return Node(t, frozenset({t}), **kw)


def _docs_tree(fields: list[dict[str, Any]] | None) -> dict[str, Node]:
    out = {}
    for f in fields or []:
        t = f["type"]
        if t == "array":
            t = f"array<{f['items']}>" if f.get("items") else "array"
        out[f["name"]] = _exact(
            t, required=bool(f.get("required")), children=_docs_tree(f["fields"]) if f.get("fields") else None
        )
    return out


def _openapi_type(t: str | None, fmt: str | None) -> str:
    if t == "string" and fmt == "binary":
        return "file"
    return t or "any"


def _openapi_tree(fields: list[dict[str, Any]] | None, required: bool = False) -> dict[str, Node]:
    out = {}
    for f in fields or []:
        t = _openapi_type(f.get("type"), f.get("format"))
        if t == "array":
            t = f"array<{_openapi_type(f['items'], f.get('items_format'))}>" if f.get("items") else "array"
        out[f["name"]] = _exact(
            t,
            required=bool(f.get("required")) if required else None,
            enum=tuple(sorted(set(map(str, f["values"])))) if f.get("values") else None,
            children=_openapi_tree(f["fields"]) if f.get("fields") else None,
        )
    return out


_SDK_SCALARS = {
    "string": {"string"},
    "date": {"string"},
    "date-time": {"string"},
    "number": {"integer", "number"},
    "integer": {"integer", "number"},
    "boolean": {"boolean"},
    "object": {"object", "any"},
    "any": {"any", "string"},
    "RequestFile": {"file"},
    "file": {"file"},
}


def _sdk_node(t: str, models: dict[str, Any], depth: int, required: bool | None) -> Node:
    if t.startswith("Array<"):
        inner = _sdk_node(t[6:-1], models, depth, None)
        return Node(
            f"array<{inner.type}>",
            frozenset(f"array<{a}>" for a in inner.accept),
            required=required,
            enum=inner.enum,
            children=inner.children,
        )
    model = models.get(t)
    if model is not None and "fields" in model:
        return Node("object", frozenset({"object"}), required, None, _sdk_model(t, models, depth + 1))
    if model is not None and "enum" in model:
        values = tuple(sorted(set(map(str, model["enum"]))))
        return Node("string", frozenset({"string", "integer"}), required, values)
    accept = frozenset(_SDK_SCALARS.get(t, {t}))
    return Node(t, accept, required)


def _sdk_model(name: str, models: dict[str, Any], depth: int = 0) -> dict[str, Node] | None:
    if depth > 12 or name not in models:
        return None
    out = {}
    for f in models[name].get("fields") or []:
        wire = f["name"]
        if wire.endswith("_") and wire[:-1].isidentifier():  # the SDK's escape of a keyword
            wire = wire[:-1]
        out[wire] = _sdk_node(f["type"], models, depth, bool(f.get("required")))
    return out


def _spec_type(t: str, models: dict[str, Any]) -> str:
    if t.startswith("list<"):
        return f"array<{_spec_type(t[5:-1], models)}>"
    if t == "timestamp":
        return "integer"
    model = models.get(t)
    if model is not None:
        if model.get("fields") is not None:
            return "object"
        values = model.get("enum") or []
        return "integer" if values and all(isinstance(v, int) for v in values) else "string"
    return t


def _spec_children(t: str, models: dict[str, Any]) -> dict[str, Any] | None:
    while t.startswith("list<"):
        t = t[5:-1]
    model = models.get(t)
    if model is not None and model.get("fields") is not None:
        fields: dict[str, Any] = model["fields"]
        return fields
    return None


def _spec_enum(field: dict[str, Any], models: dict[str, Any]) -> tuple[str, ...] | None:
    if field.get("enum") is not None:
        return tuple(sorted(set(map(str, field["enum"]))))
    t = field["type"]
    while t.startswith("list<"):
        t = t[5:-1]
    model = models.get(t)
    if model is not None and model.get("enum") is not None:
        return tuple(sorted(set(map(str, model["enum"]))))
    return None


def _show(values: tuple[str, ...] | None) -> str:
    return "none" if values is None else "[" + ", ".join(values) + "]"


def compare_tree(
    source: str,
    op: str,
    prefix: str,
    ref: dict[str, Node],
    fields: dict[str, Any],
    models: dict[str, Any],
    checks: frozenset[str],
    depth: int = 0,
) -> Iterator[Gap]:
    """Gaps between a reference tree and the spec's fields, for the attributes in ``checks``.

    ``checks`` holds ``presence`` (fields on one side only, and types), ``required`` and ``enum``.
    """
    if depth > 12:
        return
    if "presence" in checks:
        for name in sorted(set(ref) - set(fields)):
            yield Gap(source, op, f"{prefix}.{name}", ref[name].type, ABSENT)
        for name in sorted(set(fields) - set(ref)):
            yield Gap(source, op, f"{prefix}.{name}", ABSENT, _spec_type(fields[name]["type"], models))
    for name in sorted(set(ref) & set(fields)):
        node, field, key = ref[name], fields[name], f"{prefix}.{name}"
        spec_type = _spec_type(field["type"], models)
        agrees = spec_type in node.accept or (node.type == "array" and spec_type.startswith("array"))
        if "presence" in checks and not agrees:
            yield Gap(source, op, f"{key}:type", node.type, spec_type)
            continue
        if (
            "required" in checks
            and node.required is not None
            and node.required != bool(field.get("required"))
        ):
            yield Gap(source, op, f"{key}:required", str(node.required), str(bool(field.get("required"))))
        if "enum" in checks and node.enum is not None:
            spec_enum = _spec_enum(field, models)
            if spec_enum is None or not set(node.enum) <= set(spec_enum):
                yield Gap(source, op, f"{key}:enum", _show(node.enum), _show(spec_enum))
        if node.children is not None:
            children = _spec_children(field["type"], models) or {}
            yield from compare_tree(source, op, key, node.children, children, models, checks, depth + 1)


# -- the three sources, per operation --------------------------------------------------------------


@dataclass
class RefOp:
    """One operation as one source states it, in the common vocabulary."""

    source: str
    version: str
    name: str | None
    shop_cipher: bool | str | None  # True, False, "optional", "accepted" (openapi: True or optional)
    path_params: dict[str, Node]
    query: dict[str, Node]
    body: dict[str, Node] | None  # None: no JSON body
    form: dict[str, Node] | None  # None: not multipart
    response: dict[str, Node]
    loose: bool = False


ENVELOPE = {"code", "message", "request_id"}


def _data(tree: dict[str, Node]) -> dict[str, Node]:
    """A response tree that lists only the envelope's own fields states an empty ``data``."""
    return {} if set(tree) <= ENVELOPE else tree


def _docs_ops() -> dict[tuple[str, str], RefOp]:
    out = {}
    for e in snapshot("docs")["endpoints"]:
        multipart = e["content_type"].startswith("multipart/")
        tree = _docs_tree(e["body"])
        out[(e["method"], e["path"])] = RefOp(
            "docs",
            e["version"],
            None,
            e["shop_cipher"],
            {n: _exact(p["type"], required=bool(p["required"])) for n, p in e["path_params"].items()},
            {
                n: _exact(q["type"], required=bool(q["required"]))
                for n, q in e["query"].items()
                if n not in SIGNING_QUERY
            },
            None if multipart or not tree else tree,
            tree if multipart else None,
            _data(_docs_tree(e["response_data"])),
        )
    return out


def _openapi_query(params: dict[str, Any]) -> dict[str, Node]:
    out = {}
    for n, q in params.items():
        if n in SIGNING_QUERY:
            continue
        t = _openapi_type(q["type"], q.get("format"))
        if t == "array":
            t = f"array<{q['items']}>" if q.get("items") else "array"
        values = tuple(sorted(set(map(str, q["values"])))) if q.get("values") else None
        out[n] = _exact(t, required=bool(q["required"]), enum=values)
    return out


def _openapi_ops() -> dict[tuple[str, str], RefOp]:
    out = {}
    for o in snapshot("openapi")["operations"]:
        out[(o["method"], o["path"])] = RefOp(
            "openapi",
            o["version"],
            o["name"],
            "accepted" if "shop_cipher" in o["query"] else False,
            _openapi_query(o["path_params"]),
            _openapi_query(o["query"]),
            _openapi_tree(o["body"]) if o.get("body") else None,
            _openapi_tree(o["form"]) if o.get("form") else None,
            _data(_openapi_tree(o["response_data"])),
        )
    return out


def _sdk_data(models: dict[str, Any], response: str | None) -> dict[str, Node]:
    for f in (models.get(response or "") or {}).get("fields") or []:
        if f["name"] == "data":
            inner = f["type"][6:-1] if f["type"].startswith("Array<") else f["type"]
            tree = _sdk_model(inner, models)
            return _data(tree or {})
    return {}


def _sdk_ops() -> dict[tuple[str, str], RefOp]:
    sdk = snapshot("sdk")
    out = {}
    for o in sdk["operations"]:
        name = o.get("name") or o.get("operation_id")
        path_params = {n: _exact("string", required=True) for n in o["path_params"]}
        if o["models_file"] is None:
            out[(o["method"], o["path"])] = RefOp(
                "sdk", o["version"], name, None, path_params, {}, None, None, {}, True
            )
            continue
        models = sdk["models"] if o["models_file"] == "models.json" else sdk["models_peer"]
        query = {
            q["name"]: _sdk_node(q["type"], models, 0, bool(q["required"])) for q in o.get("query") or []
        }
        body = form = None
        if o["multipart"]:
            if o.get("form"):
                form = {f["name"]: _sdk_node(f.get("type", "file"), models, 0, None) for f in o["form"]}
            else:
                form = _sdk_model(o.get("body_model") or "", models) or {}
        elif o.get("body_model"):
            body = _sdk_model(o["body_model"], models) or {}
        out[(o["method"], o["path"])] = RefOp(
            "sdk",
            o["version"],
            name,
            bool(o["shop_cipher"]),
            path_params,
            {n: q for n, q in query.items() if n not in SIGNING_QUERY},
            body,
            form,
            _sdk_data(models, o.get("response_model")),
        )
    return out


@cache
def reference_operations() -> dict[str, dict[tuple[str, str], RefOp]]:
    """Each source's operations by (method, path)."""
    return {"docs": _docs_ops(), "openapi": _openapi_ops(), "sdk": _sdk_ops()}


# -- the comparison --------------------------------------------------------------------------------


def _cipher(value: Any) -> str:
    return "optional" if value == "optional" else str(bool(value)).lower()


def _fields(op: dict[str, Any], part: str, models: dict[str, Any]) -> dict[str, Any]:
    if part in ("body", "response"):
        name = op.get(part)
        return dict((models.get(name) or {}).get("fields") or {}) if name else {}
    if part == "query":
        return {n: f for n, f in (op.get("query") or {}).items() if n not in SIGNING_QUERY}
    return dict(op.get(part) or {})


def check_operation(key: tuple[str, str]) -> list[Gap]:
    """Every disagreement of one operation (by method and path) with the sources that have it."""
    refs = {s: ops[key] for s, ops in reference_operations().items() if key in ops}
    first = next(iter(refs.values()))
    label = f"{key[0]} {key[1]}"
    found = spec_operations().get(key)
    if found is None:
        if set(refs) == {"openapi"}:
            return []  # only TikTok's OpenAPI document has it: the client need not offer it
        same_path = [m for (m, p) in spec_operations() if p == key[1]]
        if same_path and not any(
            (m, key[1]) in ops for ops in reference_operations().values() for m in same_path
        ):
            return [Gap(first.source, label, "method", key[0], ",".join(sorted(same_path)))]
        return [Gap(first.source, label, "operation", "present", ABSENT)]
    domain, op = found
    models = spec()[domain].get("models") or {}
    gaps: list[Gap] = []
    if op["version"] != first.version:
        gaps.append(Gap(first.source, label, "version", first.version, op["version"]))
    named = refs.get("openapi") or refs.get("sdk")
    if (
        named is not None
        and named.name
        and op["name"][:1].lower() + op["name"][1:] != (named.name[:1].lower() + named.name[1:])
    ):
        gaps.append(Gap(named.source, label, "name", named.name, op["name"]))
    if first.loose:  # the sdk knows it by method and path only
        if not op.get("loose"):
            gaps.append(Gap("sdk", label, "loose", "method and path only", "typed"))
        if not op.get("notes"):
            gaps.append(Gap("sdk", label, "notes", "a loose operation says why", "none"))
        return _accepted(op, gaps)
    spec_cipher = _cipher(op.get("shop_cipher"))
    if first.shop_cipher == "accepted":
        if spec_cipher == "false":
            gaps.append(Gap(first.source, label, "shop_cipher", "true or optional", spec_cipher))
    elif first.shop_cipher is not None and _cipher(first.shop_cipher) != spec_cipher:
        gaps.append(Gap(first.source, label, "shop_cipher", _cipher(first.shop_cipher), spec_cipher))
    presence = frozenset({"presence"})
    gaps += compare_tree(
        first.source, label, "path", first.path_params, _fields(op, "path_params", models), models, presence
    )
    gaps += compare_tree(
        first.source,
        label,
        "query",
        first.query,
        _fields(op, "query", models),
        models,
        frozenset({"presence", "required"}),
    )
    # The body (or form) and the response: shapes from the first source, then required flags
    # (docs, else sdk) and enum values (openapi, else sdk) from the first source that states them.
    for part, spec_part in (("body", "body"), ("form", "form"), ("response", "response")):
        tree = getattr(first, part)
        fields = _fields(op, spec_part, models)
        if part != "response":
            if tree is None and (op.get(spec_part) if part == "body" else fields):
                gaps.append(
                    Gap(
                        first.source,
                        label,
                        part,
                        "none",
                        str(op.get(spec_part) if part == "body" else sorted(fields)),
                    )
                )
                continue
            if tree is not None and not op.get(spec_part):
                gaps.append(Gap(first.source, label, part, f"{len(tree)} fields", "none"))
                continue
            if tree is None:
                continue
        gaps += compare_tree(first.source, label, part, tree, fields, models, presence)
        if part != "response":
            req_source = next(
                (s for s in ("docs", "sdk") if s in refs and getattr(refs[s], part) is not None), None
            )
            if req_source is not None:
                gaps += compare_tree(
                    req_source,
                    label,
                    part,
                    getattr(refs[req_source], part),
                    fields,
                    models,
                    frozenset({"required"}),
                )
        enum_source = next(
            (s for s in ("openapi", "sdk") if s in refs and getattr(refs[s], part) is not None), None
        )
        if enum_source is not None:
            gaps += compare_tree(
                enum_source,
                label,
                part,
                getattr(refs[enum_source], part),
                fields,
                models,
                frozenset({"enum"}),
            )
    enum_source = next((s for s in ("openapi", "sdk") if s in refs), None)
    if enum_source is not None:
        gaps += compare_tree(
            enum_source,
            label,
            "query",
            refs[enum_source].query,
            _fields(op, "query", models),
            models,
            frozenset({"enum"}),
        )
    return _accepted(op, gaps)


def _covers(what: str, key: str) -> bool:
    return key == what or key.startswith((what + ".", what + ":"))


def _accepted(op: dict[str, Any], gaps: Iterable[Gap]) -> list[Gap]:
    whats = [d["what"] for d in op.get("deviations") or []]
    return [g for g in gaps if not any(_covers(w, g.key) for w in whats)]


def all_gaps() -> list[Gap]:
    """Every disagreement of the spec with the three sources, deviations accepted, sorted."""
    keys = {k for ops in reference_operations().values() for k in ops}
    return sorted(g for key in sorted(keys) for g in check_operation(key))


def domain_of(gap: Gap) -> str:
    """The API domain of a gap's operation (the first segment of its path)."""
    return gap.operation.split(" ", 1)[1].split("/")[1]


def load_baseline() -> set[Gap]:
    """The known disagreements listed in tests/reference/known_gaps.json."""
    if not BASELINE.exists():
        return set()
    data = json.loads(BASELINE.read_text(encoding="utf-8"))
    return {Gap(*row) for row in data["gaps"]}


def write_baseline(gaps: Iterable[Gap]) -> None:
    """Write tests/reference/known_gaps.json from ``gaps`` (one gap a line, sorted)."""
    rows = sorted(g.row() for g in gaps)
    lines = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows)
    note = (
        "Known disagreements of the spec with tests/reference/ that are still to fix. "
        "Generated by `python -m tests.conformance_report --write-baseline`; it may only shrink."
    )
    BASELINE.write_text(f'{{"_note": {json.dumps(note)},\n "gaps": [\n{lines}\n]}}\n', encoding="utf-8")
