"""Draft spec entries from the reference facts in ``../shared/reference`` for a human to review.

    python -m codegen.draft order GetOrderList GetOrderDetail > /tmp/order.yaml

It prints one domain file in the spec's format: our model names (``<Method>Request``,
``<Method>Response``, nested ``<Parent><Field>``), our types (timestamps and integers told apart,
enums taken from the peer models where they are known) and ``summary: TODO`` for the author to
write. ``make generate`` never runs it: the spec in ``spec/`` is edited and reviewed by hand.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from codegen.spec import snake_case

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
_TIME = re.compile(r"(^|_)(time|timestamp)(_ge|_lt|_gt|_le|_from|_to)?$|_(ge|lt)$|_at$")
_INT = re.compile(r"(^|_)(count|size|num|number|quantity|total|page|limit|offset|index|stock)s?$")


def load() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    ops = json.loads((REFERENCE / "operations.json").read_text())["operations"]
    models = json.loads((REFERENCE / "models.json").read_text())
    peer = json.loads((REFERENCE / "models_peer.json").read_text())
    return ops, models, peer


def pascal(snake: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in snake.split("_"))


def singular(word: str) -> str:
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("uses", "us"),
        ("shes", "sh"),
        ("ches", "ch"),
        ("xes", "x"),
    ):
        if word.endswith(suffix):
            return word[: -len(suffix)] + repl
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class Drafter:
    def __init__(self) -> None:
        self.ops, self.models, self.peer = load()
        self.out_models: dict[str, dict[str, Any]] = {}

    def _source(self, op: dict[str, Any]) -> dict[str, Any]:
        return self.models if op["models_file"] == "models.json" else self.peer

    def scalar(self, name: str, ref_type: str, peer_type: str | None) -> str:
        if ref_type == "string":
            return "string"
        if ref_type == "boolean":
            return "boolean"
        if ref_type in ("number", "integer"):
            if _TIME.search(name):
                return "timestamp"
            if ref_type == "integer" or peer_type == "integer" or _INT.search(name):
                return "integer"
            return "number"
        if ref_type in ("object",):
            return "object"
        if ref_type in ("RequestFile", "file"):
            return "string"
        return "any"

    def convert(self, src: dict[str, Any], ref_name: str, our_name: str, peer: dict[str, Any] | None) -> None:
        if our_name in self.out_models:
            return
        entry: dict[str, Any] = {"fields": {}}
        self.out_models[our_name] = entry
        peer_fields = {f["name"]: f for f in (peer or {}).get("fields", [])} if peer else {}
        for f in src[ref_name].get("fields", []):
            name = f["name"].rstrip("_") if f["name"].endswith("_") else f["name"]
            ref_type = f["type"]
            is_list = ref_type.startswith("Array<")
            inner = ref_type[6:-1] if is_list else ref_type
            pf = peer_fields.get(name)
            peer_inner = None
            peer_def = None
            if pf:
                pt = pf["type"]
                peer_inner = pt[6:-1] if pt.startswith("Array<") else pt
                peer_def = self.peer.get(peer_inner)
            field: dict[str, Any] = {}
            if inner in src and "fields" in src[inner]:
                child = our_name + pascal(singular(name) if is_list else name)
                self.convert(src, inner, child, peer_def if peer_def and "fields" in peer_def else None)
                t = child
            elif inner in src and "enum" in src[inner]:
                t = "string"
                field["enum"] = src[inner]["enum"]
            else:
                t = self.scalar(name, inner, peer_inner)
                if peer_def and "enum" in peer_def:
                    field["enum"] = peer_def["enum"]
                    t = "integer" if peer_def.get("enum_type") == "integer" else "string"
            field = {"type": f"list<{t}>" if is_list else t, **field}
            if f.get("required"):
                field["required"] = True
            entry["fields"][name] = field

    def data_model(self, src: dict[str, Any], response: str) -> str | None:
        for f in src.get(response, {}).get("fields", []):
            if f["name"] == "data":
                return f["type"]
        return None

    def draft(self, op: dict[str, Any], pyname: str) -> dict[str, Any]:
        src = self._source(op)
        base = pascal(pyname)
        entry: dict[str, Any] = {
            "name": op.get("name") or pascal(snake_case(op.get("operation_id") or pyname)),
            "version": op["version"],
            "method": op["method"],
            "path": op["path"],
            "summary": "TODO",
            "shop_cipher": bool(op["shop_cipher"]),
        }
        if op["method"] != "GET":
            entry["retry"] = "safe" if re.search(r"/(search|query|list)$", op["path"]) else "unsafe"
        if op["path_params"]:
            entry["path_params"] = {p: {"type": "string"} for p in op["path_params"]}
        if op.get("query"):
            entry["query"] = {}
            for q in op["query"]:
                t = self.scalar(q["name"], q["type"].replace("Array<", "").rstrip(">"), None)
                if q["type"].startswith("Array<"):
                    t = f"list<{t}>"
                entry["query"][q["name"]] = {"type": t, **({"required": True} if q["required"] else {})}
        peer_models = op.get("peer_models") or {}
        if op.get("body_model"):
            peer_body = self.peer.get(peer_models.get("body") or "") if src is self.models else None
            self.convert(src, op["body_model"], base + "Request", peer_body)
            entry["body"] = base + "Request"
        if op.get("response_model"):
            data = self.data_model(src, op["response_model"])
            if data and data in src and "fields" in src[data]:
                peer_resp = self.peer.get(peer_models.get("response") or "") if src is self.models else None
                peer_data = None
                if peer_resp:
                    for f in peer_resp.get("fields", []):
                        if f["name"] == "data":
                            peer_data = self.peer.get(f["type"])
                self.convert(src, data, base + "Response", peer_data)
                entry["response"] = base + "Response"
                fields = self.out_models[base + "Response"]["fields"]
                lists = [k for k, v in fields.items() if v["type"].startswith("list<")]
                if "next_page_token" in fields and len(lists) == 1:
                    entry["pagination"] = {"items": lists[0]}
        return entry


def _flow(value: dict[str, Any]) -> str:
    parts = []
    for k, v in value.items():
        if isinstance(v, bool):
            parts.append(f"{k}: {'true' if v else 'false'}")
        elif isinstance(v, list):
            parts.append(
                f"{k}: ["
                + ", ".join(
                    json.dumps(x) if isinstance(x, str) and not re.fullmatch(r"[A-Za-z0-9_]+", x) else str(x)
                    for x in v
                )
                + "]"
            )
        else:
            parts.append(f"{k}: {v}")
    return "{" + ", ".join(parts) + "}"


def render(domain: str, entries: list[dict[str, Any]], models: dict[str, Any]) -> str:
    lines = [f"domain: {domain}", "summary: TODO", "operations:"]
    for e in entries:
        first = True
        for k, v in e.items():
            prefix = "  - " if first else "    "
            first = False
            if isinstance(v, dict) and k in ("query", "path_params"):
                lines.append(f"{prefix}{k}:")
                for name, spec in v.items():
                    lines.append(f"      {name}: {_flow(spec)}")
            elif isinstance(v, dict):
                lines.append(f"{prefix}{k}: {_flow(v)}")
            elif k == "version":
                lines.append(f'{prefix}{k}: "{v}"')
            elif isinstance(v, bool):
                lines.append(f"{prefix}{k}: {'true' if v else 'false'}")
            else:
                lines.append(f"{prefix}{k}: {v}")
    lines.append("models:")
    for name, model in models.items():
        lines.append(f"  {name}:")
        lines.append("    fields:")
        for fname, spec in model["fields"].items():
            lines.append(f"      {fname}: {_flow(spec)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    domain, names = argv[0], set(argv[1:])
    d = Drafter()
    chosen = [
        o
        for o in d.ops
        if o["domain"] == domain and (not names or (o.get("name") or o.get("operation_id")) in names)
    ]
    newest: dict[str, str] = {}
    for o in chosen:
        key = o.get("name") or o.get("operation_id") or o["path"]
        newest[key] = max(newest.get(key, o["version"]), o["version"])
    entries = []
    for o in chosen:
        key = o.get("name") or o.get("operation_id") or o["path"]
        base = snake_case(o.get("name") or o.get("operation_id") or "unnamed")
        pyname = base if o["version"] == newest[key] else f"{base}_v{o['version']}"
        entries.append(d.draft(o, pyname))
    sys.stdout.write(render(domain, entries, d.out_models))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
