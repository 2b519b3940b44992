"""The spec against the reference facts: every operation, parameter and known model field matches.

A deliberate difference is listed in the spec under the operation's `deviations` (with `what`, the
mismatch key this test reports, and `reason`), and is then accepted here.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fake import REFERENCE

ROOT = Path(__file__).resolve().parent.parent
REF_OPS: list[dict[str, Any]] = json.loads((REFERENCE / "operations.json").read_text())["operations"]
OFFICIAL = json.loads((REFERENCE / "models.json").read_text())
PEER = json.loads((REFERENCE / "models_peer.json").read_text())


def _spec() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted((ROOT / "spec").glob("*.yaml")):
        if path.name != "api.yaml":
            data = yaml.safe_load(path.read_text())
            out[data["domain"]] = data
    return out


SPEC = _spec()


def _spec_op(ref: dict[str, Any]) -> dict[str, Any] | None:
    for op in SPEC.get(ref["domain"], {}).get("operations", []):
        if op["method"] == ref["method"] and op["path"] == ref["path"]:
            return op
    return None


def _split(t: str) -> tuple[bool, str]:
    return (True, t[6:-1]) if t.startswith("Array<") else (False, t)


def _spec_split(t: str) -> tuple[bool, str]:
    return (True, t[5:-1]) if t.startswith("list<") else (False, t)


_SCALAR_OK = {
    "string": {"string"},
    "date": {"string"},
    "date-time": {"string"},
    "number": {"integer", "number", "timestamp"},
    "integer": {"integer", "number", "timestamp"},
    "boolean": {"boolean"},
    "object": {"object", "any"},
    "any": {"any", "string"},
    "RequestFile": {"file"},
    "file": {"file"},
}


class Checker:
    def __init__(self, domain: str) -> None:
        self.models = SPEC[domain].get("models", {})
        self.problems: list[str] = []

    def type_ok(self, key: str, ref_type: str, spec_field: dict[str, Any], src: dict[str, Any]) -> None:
        ref_list, ref_inner = _split(ref_type)
        spec_list, spec_inner = _spec_split(spec_field["type"])
        if ref_list != spec_list:
            self.problems.append(f"{key}.type: reference {ref_type}, spec {spec_field['type']}")
            return
        ref_def = src.get(ref_inner)
        if ref_def is not None and "fields" in ref_def:
            if spec_inner not in self.models or "fields" not in self.models[spec_inner]:
                self.problems.append(f"{key}.type: reference model {ref_inner}, spec {spec_field['type']}")
            else:
                self.model(key, ref_inner, spec_inner, src)
        elif ref_def is not None and "enum" in ref_def:
            if spec_inner not in ("string", "integer") or spec_field.get("enum") is None:
                self.problems.append(f"{key}.type: reference enum {ref_inner}, spec {spec_field['type']}")
            elif sorted(map(str, spec_field["enum"])) != sorted(map(str, ref_def["enum"])):
                self.problems.append(f"{key}.enum: reference {ref_def['enum']}, spec {spec_field['enum']}")
        elif spec_inner not in _SCALAR_OK.get(ref_inner, set()):
            self.problems.append(f"{key}.type: reference {ref_type}, spec {spec_field['type']}")

    def model(self, key: str, ref_name: str, spec_name: str, src: dict[str, Any], depth: int = 0) -> None:
        if depth > 12:
            return
        ref_fields = {
            f["name"].rstrip("_")
            if f["name"].endswith("_") and f["name"][:-1].isidentifier()
            else f["name"]: f
            for f in src[ref_name].get("fields", [])
        }
        spec_fields = self.models[spec_name].get("fields") or {}
        for name in sorted(set(ref_fields) - set(spec_fields)):
            self.problems.append(f"{key}.{name}: in the reference, not in the spec")
        for name in sorted(set(spec_fields) - set(ref_fields)):
            self.problems.append(f"{key}.{name}: in the spec, not in the reference")
        for name in sorted(set(ref_fields) & set(spec_fields)):
            ref_f, spec_f = ref_fields[name], spec_fields[name]
            if bool(ref_f.get("required")) != bool(spec_f.get("required")):
                self.problems.append(
                    f"{key}.{name}.required: reference {ref_f.get('required')}, "
                    f"spec {spec_f.get('required', False)}"
                )
            self.type_ok(f"{key}.{name}", ref_f["type"], spec_f, src)


def _data_model(src: dict[str, Any], response: str) -> str | None:
    for f in src.get(response, {}).get("fields", []):
        if f["name"] == "data":
            return _split(f["type"])[1]
    return None


def _check(ref: dict[str, Any]) -> list[str]:
    op = _spec_op(ref)
    if op is None:
        # A source that lists the wrong HTTP method: the spec has the path with the right one and
        # says so in a deviation `method <wrong method>`.
        for other in SPEC.get(ref["domain"], {}).get("operations", []):
            wrong = {d["what"] for d in other.get("deviations") or []}
            if other["path"] == ref["path"] and f"method {ref['method']}" in wrong:
                return []
        return ["missing from the spec"]
    c = Checker(ref["domain"])
    problems = c.problems
    if op["version"] != ref["version"]:
        problems.append(f"version: reference {ref['version']}, spec {op['version']}")
    ref_name = ref.get("name") or ref.get("operation_id")
    if ref_name and op["name"] != ref_name:
        problems.append(f"name: reference {ref_name}, spec {op['name']}")
    if set(op.get("path_params") or {}) != set(ref["path_params"]):
        problems.append(
            f"path_params: reference {ref['path_params']}, spec {sorted(op.get('path_params') or {})}"
        )
    if ref["models_file"] is None:
        if not op.get("loose"):
            problems.append("loose: the reference knows this operation by method and path only")
        if not op.get("notes"):
            problems.append("notes: a loose operation says why it is loose")
        return problems
    if op.get("loose"):
        problems.append("loose: the reference has this operation's models")
    if bool(op["shop_cipher"]) != bool(ref["shop_cipher"]):
        problems.append(f"shop_cipher: reference {ref['shop_cipher']}, spec {op['shop_cipher']}")
    src = OFFICIAL if ref["models_file"] == "models.json" else PEER
    spec_query = op.get("query") or {}
    ref_query = {q["name"]: q for q in ref.get("query") or []}
    for name in sorted(set(ref_query) ^ set(spec_query)):
        problems.append(f"query.{name}: in {'the reference' if name in ref_query else 'the spec'} only")
    for name in sorted(set(ref_query) & set(spec_query)):
        if bool(ref_query[name]["required"]) != bool(spec_query[name].get("required")):
            problems.append(f"query.{name}.required: reference {ref_query[name]['required']}")
        c.type_ok(f"query.{name}", ref_query[name]["type"], spec_query[name], src)
    if ref["multipart"]:
        ref_form = [f["name"] for f in ref.get("form") or []] or [
            f["name"] for f in src.get(ref.get("body_model") or "", {}).get("fields", [])
        ]
        if sorted(ref_form) != sorted(op.get("form") or {}):
            problems.append(f"form: reference {sorted(ref_form)}, spec {sorted(op.get('form') or {})}")
    elif ref.get("body_model"):
        if not op.get("body"):
            problems.append("body: the reference has a body model, the spec none")
        else:
            c.model("body", ref["body_model"], op["body"], src)
    elif op.get("body"):
        problems.append("body: the spec has a body the reference does not")
    data = _data_model(src, ref.get("response_model") or "")
    envelope = {"code", "message", "request_id"}
    if (
        data
        and data in src
        and src[data].get("fields")
        and not {f["name"] for f in src[data]["fields"]} <= envelope
    ):
        if not op.get("response"):
            problems.append("response: the reference has a data model, the spec none")
        else:
            c.model("response", data, op["response"], src)
    accepted = {d["what"] for d in op.get("deviations") or []}
    return [p for p in problems if p.split(":")[0] not in accepted]


@pytest.mark.parametrize("ref", REF_OPS, ids=[f"{o['method']} {o['path']}" for o in REF_OPS])
def test_operation_matches_reference(ref: dict[str, Any]) -> None:
    problems = _check(ref)
    assert problems == [], "\n".join(problems)


def test_spec_has_nothing_the_reference_lacks() -> None:
    known = {(o["method"], o["path"]) for o in REF_OPS}
    extra = [
        (d, op["method"], op["path"])
        for d, spec in SPEC.items()
        for op in spec.get("operations", [])
        if (op["method"], op["path"]) not in known
    ]
    assert extra == []


def test_every_operation_has_a_typed_method_on_its_domain() -> None:
    count = 0
    for domain in sorted(SPEC):
        module = importlib.import_module(f"tiktokshop.resources.{domain}")
        resource = getattr(module, "".join(p.title() for p in domain.split("_")) + "Resource")
        for op in module.OPERATIONS:
            name = op.id.split(".", 1)[1]
            assert callable(getattr(resource, name)), op.id
            assert getattr(resource, name).__doc__, op.id
            count += 1
    assert count == sum(len(spec.get("operations", [])) for spec in SPEC.values())


def test_deviations_give_reasons() -> None:
    for spec in SPEC.values():
        for op in spec.get("operations", []):
            for d in op.get("deviations") or []:
                assert d["reason"].strip(), (op["name"], d)
