"""Draft spec files from the reference facts (a folder given with ``--reference``) for review.

    python -m codegen.draft order product        # re-draft spec/order.yaml and spec/product.yaml
    python -m codegen.draft --reference DIR ...  # read the facts from DIR (default ../shared/reference)
    python -m codegen.draft --all                # every domain

For each domain it writes ``spec/<domain>.yaml`` in the spec's format: our model names
(``<Method>Request``, ``<Method>Response``, nested ``<Parent><Field>``), our types (timestamps
and integers told apart, enums taken from the peer models where known), shared shapes written
once, and ``summary: TODO`` where an author has yet to write one. What an author already wrote
in the file is kept: summaries, descriptions, enums, omit values, bounds, ``retry``, names,
notes and deviations, matched by operation (method and path) and by field path.
``make generate`` never runs it: spec/ is edited and reviewed by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from codegen.spec import snake_case

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference"
_TIME = re.compile(r"(^|_)(time|timestamp)(_ge|_lt|_gt|_le|_from|_to)?$|_time_(ge|lt|gt|le)$|_at$")
_INT = re.compile(r"(^|_)(count|size|num|number|quantity|total|page|limit|offset|index|stock|days)s?$")

#: Names for the operations the reference knows by method and path only (ours, in TikTok's style;
#: older versions of a named operation take that operation's name).
UNNAMED = {
    ("POST", "/affiliate_partner/202504/cap_order/search"): "searchCAPAffiliateOrders",
    (
        "GET",
        "/affiliate_partner/202508/campaigns/{campaign_id}/products/{product_id}/creator/"
        "{creator_temp_id}/content/statistics",
    ): "GetAffiliateCampaignCreatorProductContentStatistics",
    (
        "GET",
        "/affiliate_partner/202508/campaigns/{campaign_id}/products/{product_id}/creator/"
        "{creator_temp_id}/content/statistics/sample/status",
    ): "GetAffiliateCampaignCreatorProductSampleStatus",
    (
        "GET",
        "/affiliate_partner/202508/campaigns/{campaign_id}/products/{product_id}/performance",
    ): "GetCreatorPerformanceForCampaignProduct",
    ("POST", "/affiliate_seller/202412/conversations/messages/list/newest"): "GetNewestConversationMessages",
    ("GET", "/analytics/202405/shop/performance"): "getShopPerformance",
    ("GET", "/analytics/202405/shop_products/performance"): "getShopProductPerformanceList",
    ("GET", "/analytics/202405/shop_products/{product_id}/performance"): "getShopProductPerformanceDetail",
    ("GET", "/analytics/202406/shop_skus/performance"): "getShopSKUPerformanceList",
    ("GET", "/analytics/202406/shop_skus/{sku_id}/performance"): "getShopSKUPerformanceDetail",
    ("GET", "/analytics/202409/shop_videos/overview_performance"): "getShopVideoPerformanceOverview",
    ("GET", "/analytics/202409/shop_videos/performance"): "getShopVideoPerformanceList",
    ("GET", "/analytics/202409/shop_videos/{video_id}/performance"): "getShopVideoPerformanceDetails",
    (
        "GET",
        "/analytics/202409/shop_videos/{video_id}/products/performance",
    ): "getShopVideoProductPerformanceList",
    ("POST", "/order/202406/orders/external_order_search"): "SearchOrdersByExternalOrderReference",
    ("POST", "/order/202406/orders/external_orders"): "AddExternalOrderReferences",
    ("GET", "/order/202406/orders/{order_id}/external_orders"): "GetExternalOrderReferences",
    ("DELETE", "/promotion/202406/coupons/search"): "SearchCoupons",
}

#: What the spec adds by default to some drafted operations (an author may edit it afterwards).
DEFAULTS = {
    ("DELETE", "/promotion/202406/coupons/search"): {
        "python_name": "search_coupons_delete",
        "notes": "Listed by the npm package only, as DELETE on a /search path, which looks like a slip "
        "for the POST search_coupons; kept as listed until TikTok's documentation settles it.",
    },
}
LOOSE_NOTE = (
    "Known by method and path only (listed by the npm package); its query, body and answer "
    "are loose until the reference has their models. shop_cipher is taken from its typed twin "
    "or, lacking one, from most of its domain."
)

_CURATED_FIELD_KEYS = (
    "description",
    "enum",
    "omit",
    "min",
    "max",
    "min_length",
    "max_length",
    "max_items",
    "arg",
)
_CURATED_OP_KEYS = ("summary", "retry", "python_name", "pagination", "notes", "deviations")


def load_reference(
    reference: Path = DEFAULT_REFERENCE,
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    ops = json.loads((reference / "operations.json").read_text())["operations"]
    models = json.loads((reference / "models.json").read_text())
    peer = json.loads((reference / "models_peer.json").read_text())
    return ops, models, peer


def pascal(snake: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in snake.split("_"))


def singular(word: str) -> str:
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ouses", "ouse"),
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


def api_name(op: dict[str, Any]) -> str:
    return op.get("name") or op.get("operation_id") or UNNAMED[(op["method"], op["path"])]


def _split(t: str) -> tuple[bool, str]:
    return (True, t[6:-1]) if t.startswith("Array<") else (False, t)


# -- a model tree before naming ------------------------------------------------------------------


@dataclass
class Node:
    """A model drafted from the reference, before it has a name in our spec."""

    side: str  # request | response
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, Node] = field(default_factory=dict)  # field name -> nested model
    name: str | None = None

    def key(self) -> str:
        parts = []
        for fname, f in self.fields.items():
            child = self.children.get(fname)
            parts.append(json.dumps([fname, f, child.key() if child else None], sort_keys=True))
        return self.side + "{" + ",".join(parts) + "}"


class Drafter:
    def __init__(self, reference: Path = DEFAULT_REFERENCE) -> None:
        self.ops, self.models, self.peer = load_reference(reference)

    def _scalar(self, name: str, ref_type: str, peer_type: str | None) -> str:
        if ref_type in ("string", "date", "date-time"):
            return "string"
        if ref_type == "boolean":
            return "boolean"
        if ref_type in ("number", "integer"):
            if _TIME.search(name):
                return "timestamp"
            if ref_type == "integer" or peer_type == "integer" or _INT.search(name):
                return "integer"
            return "number"
        if ref_type == "object":
            return "object"
        if ref_type in ("RequestFile", "file"):
            return "file"
        return "any"

    def node(self, src: dict[str, Any], ref_name: str, side: str, peer: dict[str, Any] | None) -> Node:
        out = Node(side)
        peer_fields = {f["name"]: f for f in (peer or {}).get("fields", [])}
        for f in src[ref_name].get("fields", []):
            name = f["name"][:-1] if f["name"].endswith("_") and f["name"][:-1].isidentifier() else f["name"]
            is_list, inner = _split(f["type"])
            pf = peer_fields.get(name)
            peer_inner = _split(pf["type"])[1] if pf else None
            peer_def = self.peer.get(peer_inner) if peer_inner else None
            spec: dict[str, Any] = {}
            if inner in src and "fields" in src[inner]:
                child = self.node(src, inner, side, peer_def if peer_def and "fields" in peer_def else None)
                out.children[name] = child
                t = "@child"
            elif inner in src and "enum" in src[inner]:
                t = "integer" if src[inner].get("enum_type") == "integer" else "string"
                spec["enum"] = list(src[inner]["enum"])
            else:
                t = self._scalar(name, inner, peer_inner)
                if peer_def and "enum" in peer_def and t in ("string", "integer"):
                    spec["enum"] = list(peer_def["enum"])
                    t = "integer" if peer_def.get("enum_type") == "integer" else "string"
            spec = {"type": f"list<{t}>" if is_list else t, **spec}
            if f.get("required"):
                spec["required"] = True
            out.fields[name] = spec
        return out

    def _data(self, src: dict[str, Any], response: str) -> str | None:
        for f in src.get(response, {}).get("fields", []):
            if f["name"] == "data":
                return _split(f["type"])[1]
        return None

    def _peer_data(self, peer_response: str | None) -> dict[str, Any] | None:
        for f in (self.peer.get(peer_response or "") or {}).get("fields", []):
            if f["name"] == "data":
                return self.peer.get(_split(f["type"])[1])
        return None

    def guess_shop_cipher(self, op: dict[str, Any]) -> bool:
        """For an operation the reference does not say: as its typed twin (same name), else as
        most of its domain."""
        name = snake_case(api_name(op))
        twins = [
            o["shop_cipher"]
            for o in self.ops
            if o["domain"] == op["domain"]
            and o is not op
            and o["shop_cipher"] is not None
            and snake_case(api_name(o)) == name
        ]
        if twins:
            return bool(twins[0])
        known = [
            bool(o["shop_cipher"])
            for o in self.ops
            if o["domain"] == op["domain"] and o["shop_cipher"] is not None
        ]
        return sum(known) * 2 >= len(known)

    def draft_op(self, op: dict[str, Any]) -> tuple[dict[str, Any], Node | None, Node | None, dict[str, Any]]:
        """The entry of one operation, its body and response trees, and its multipart form."""
        src = self.models if op["models_file"] == "models.json" else self.peer
        entry: dict[str, Any] = {
            "name": api_name(op),
            "version": op["version"],
            "method": op["method"],
            "path": op["path"],
            "summary": "TODO",
            "shop_cipher": bool(op["shop_cipher"]) if op["shop_cipher"] is not None else True,
        }
        if op["method"] != "GET":
            entry["retry"] = "safe" if re.search(r"/(search|query|list)(/|$)", op["path"]) else "unsafe"
        if op["path_params"]:
            entry["path_params"] = {p: {"type": "string", "required": True} for p in op["path_params"]}
        entry.update(DEFAULTS.get((op["method"], op["path"]), {}))
        if op["shop_cipher"] is None:
            entry["shop_cipher"] = self.guess_shop_cipher(op)
        if op["models_file"] is None:
            entry["loose"] = True
            entry.setdefault("notes", LOOSE_NOTE)
            return entry, None, None, {}
        if op.get("query"):
            entry["query"] = {}
            for q in op["query"]:
                is_list, inner = _split(q["type"])
                extra: dict[str, Any] = {}
                enum = (self.peer.get(inner) or self.models.get(inner) or {}).get("enum")
                if enum is not None:
                    t = "integer" if all(isinstance(v, int) for v in enum) else "string"
                    extra["enum"] = list(enum)
                else:
                    t = self._scalar(q["name"], inner, None)
                    if t == "any":
                        t = "string"  # the reference leaves it untyped; a query value is text
                entry["query"][q["name"]] = {
                    "type": f"list<{t}>" if is_list else t,
                    **extra,
                    **({"required": True} if q["required"] else {}),
                }
        peer_models = op.get("peer_models") or {}
        official = src is self.models
        body = response = None
        form: dict[str, Any] = {}
        if op.get("multipart"):
            fields = op.get("form") or [
                {"name": f["name"], "type": f["type"], "required": f.get("required", False)}
                for f in src.get(op.get("body_model") or "", {}).get("fields", [])
            ]
            for f in fields:
                t = self._scalar(f["name"], _split(f["type"])[1], None)
                if f["type"] in src and "enum" in src[f["type"]]:
                    form[f["name"]] = {"type": "string", "enum": list(src[f["type"]]["enum"])}
                else:
                    form[f["name"]] = {"type": t}
                if f.get("required") or t == "file":
                    form[f["name"]]["required"] = True
        elif op.get("body_model"):
            peer_body = self.peer.get(peer_models.get("body") or "") if official else None
            body = self.node(src, op["body_model"], "request", peer_body)
        if op.get("response_model"):
            data = self._data(src, op["response_model"])
            envelope = {"code", "message", "request_id"}
            if (
                data
                and data in src
                and src[data].get("fields")
                and not {f["name"] for f in src[data]["fields"]} <= envelope
            ):
                peer_data = self._peer_data(peer_models.get("response")) if official else None
                response = self.node(src, data, "response", peer_data)
        return entry, body, response, form


# -- naming and writing a domain -----------------------------------------------------------------


def python_names(entries: list[dict[str, Any]]) -> list[str]:
    newest: dict[str, str] = {}
    for e in entries:
        key = snake_case(e["name"])
        newest[key] = max(newest.get(key, e["version"]), e["version"])
    return [
        e.get("python_name")
        or snake_case(e["name"])
        + ("" if e["version"] == newest[snake_case(e["name"])] else f"_v{e['version']}")
        for e in entries
    ]


class Namer:
    """Names model trees; a shape reached through the same field on the same side is written once.

    A nested shape used by one operation is named after its parent (``<Parent><Field>``); one used
    by several operations is named after its field alone (``PickupSlot`` in answers,
    ``PickupSlotInput`` in requests), unless that name is taken, then after its first parent.
    """

    def __init__(self, users: dict[tuple[str, str], set[str]]) -> None:
        self.users = users
        self.by_key: dict[tuple[str, str], str] = {}
        self.models: dict[str, dict[str, Any]] = {}

    @staticmethod
    def count(users: dict[tuple[str, str], set[str]], node: Node, via: str, op: str) -> None:
        users.setdefault((via, node.key()), set()).add(op)
        for fname, child in node.children.items():
            Namer.count(users, child, fname, op)

    def name(self, node: Node, proposed: str, via: str) -> str:
        key = (via, node.key())
        if key in self.by_key:
            return self.by_key[key]
        if not via.startswith("@") and len(self.users.get(key, ())) > 1:
            shared = pascal(singular(via)) + ("Input" if node.side == "request" else "")
            if shared not in self.models:
                proposed = shared
        name = proposed
        n = 2
        while name in self.models:
            name, n = f"{proposed}{n}", n + 1
        self.by_key[key] = name
        fields: dict[str, Any] = {}
        self.models[name] = {"fields": fields}
        for fname, spec in node.fields.items():
            spec = dict(spec)
            child = node.children.get(fname)
            if child is not None:
                is_list = spec["type"].startswith("list<")
                child_name = self.name(child, name + pascal(singular(fname) if is_list else fname), fname)
                spec["type"] = f"list<{child_name}>" if is_list else child_name
            fields[fname] = spec
        return name


def _ref_key(op: dict[str, Any]) -> tuple[str, str]:
    return (op["method"], op["path"])


def _walk(models: dict[str, Any], name: str | None, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (field path, field spec) of a model tree, for carrying curated attributes over."""
    if not name or name not in models or "fields" not in models[name]:
        return
    for fname, spec in (models[name].get("fields") or {}).items():
        yield prefix + fname, spec
        inner = spec["type"][5:-1] if spec["type"].startswith("list<") else spec["type"]
        if prefix.count(".") < 12:
            yield from _walk(models, inner, prefix + fname + ".")


def draft_domain(d: Drafter, domain: str, existing: dict[str, Any] | None) -> str:
    ref_ops = sorted(
        (o for o in d.ops if o["domain"] == domain),
        key=lambda o: (o["path"].split("/")[2:], o["method"], o["version"]),
    )
    drafted = [d.draft_op(o) for o in ref_ops]
    entries = [e for e, _, _, _ in drafted]
    old_ops = {(o["method"], o["path"]): o for o in (existing or {}).get("operations", [])}
    old_models = (existing or {}).get("models", {})
    for e in entries:
        old = old_ops.get((e["method"], e["path"]))
        if old:
            e["name"] = old.get("name", e["name"])
            for k in _CURATED_OP_KEYS:
                if k in old:
                    e[k] = old[k]
    pynames = python_names(entries)
    users: dict[tuple[str, str], set[str]] = {}
    for e, body, response, _ in drafted:
        for tree, via in ((body, "@body:"), (response, "@response:")):
            if tree is not None:
                Namer.count(users, tree, via + e["name"], snake_case(e["name"]))
    namer = Namer(users)
    # Newest versions first, so shared shapes carry the plain operation's name.
    order = sorted(range(len(entries)), key=lambda i: ("_v" in pynames[i], i))
    for i in order:
        e, body, response, form = drafted[i]
        base = pascal(pynames[i])
        if form:
            e["form"] = form
        if body is not None:
            e["body"] = namer.name(body, base + "Request", "@body:" + e["name"])
        if response is not None:
            e["response"] = namer.name(response, base + "Response", "@response:" + e["name"])
            fields = response.fields
            lists = [k for k, v in fields.items() if v["type"].startswith("list<")]
            if "next_page_token" in fields and len(lists) == 1 and "pagination" not in e:
                e["pagination"] = {"items": lists[0]}
    models = namer.models
    # Carry curated field attributes over, by operation and field path.
    for e in entries:
        old = old_ops.get((e["method"], e["path"]))
        if not old:
            continue
        for kind in ("query", "path_params", "form"):
            for fname, spec in (e.get(kind) or {}).items():
                prev = (old.get(kind) or {}).get(fname) or {}
                for k in _CURATED_FIELD_KEYS:
                    if k in prev:
                        spec[k] = prev[k]
        for kind in ("body", "response"):
            new_fields = dict(_walk(models, e.get(kind)))
            for path, prev in _walk(old_models, old.get(kind)):
                spec = new_fields.get(path)
                if spec is None:
                    continue
                for k in _CURATED_FIELD_KEYS:
                    if k in prev:
                        spec[k] = prev[k]
        for kind in ("body", "response"):
            prev_model = old_models.get(old.get(kind) or "") or {}
            if e.get(kind) and prev_model.get("description"):
                models[e[kind]].setdefault("description", prev_model["description"])
    summary = (existing or {}).get("summary", "TODO")
    return render(domain, summary, entries, models)


# -- YAML text -----------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_ .()/<>;'-]*$")
_PLAIN_BLOCK = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_ .()/{}<>;',-]*$")


def _scalar_text(value: Any, block: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if (
        (_PLAIN_BLOCK if block else _PLAIN).match(text)
        and text not in ("true", "false", "null", "yes", "no", "on", "off")
        and not re.fullmatch(r"[0-9.]+", text)
        and not text.endswith(" ")
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(value: dict[str, Any]) -> str:
    parts = []
    for k, v in value.items():
        if isinstance(v, list):
            parts.append(f"{k}: [" + ", ".join(_scalar_text(x) for x in v) + "]")
        elif isinstance(v, dict):
            parts.append(f"{k}: {_flow(v)}")
        else:
            parts.append(f"{k}: {_scalar_text(v)}")
    return "{" + ", ".join(parts) + "}"


def render(domain: str, summary: str, entries: list[dict[str, Any]], models: dict[str, Any]) -> str:
    lines = [f"domain: {domain}", f"summary: {_scalar_text(summary, block=True)}", "operations:"]
    key_order = (
        "name",
        "version",
        "method",
        "path",
        "summary",
        "shop_cipher",
        "retry",
        "python_name",
        "loose",
        "path_params",
        "query",
        "form",
        "body",
        "response",
        "pagination",
        "notes",
        "deviations",
    )
    for e in entries:
        first = True
        for k in key_order:
            if k not in e:
                continue
            v = e[k]
            prefix = "  - " if first else "    "
            first = False
            if k in ("query", "path_params", "form"):
                lines.append(f"{prefix}{k}:")
                for name, spec in v.items():
                    lines.append(f"      {name}: {_flow(spec)}")
            elif k == "deviations":
                lines.append(f"{prefix}{k}:")
                for item in v:
                    lines.append(f"      - {_flow(item)}")
            elif isinstance(v, dict):
                lines.append(f"{prefix}{k}: {_flow(v)}")
            elif k == "version":
                lines.append(f'{prefix}{k}: "{v}"')
            else:
                lines.append(f"{prefix}{k}: {_scalar_text(v, block=True)}")
    lines.append("models:" if models else "models: {}")
    for name, model in models.items():
        lines.append(f"  {name}:")
        if model.get("description"):
            lines.append(f"    description: {_scalar_text(model['description'])}")
        if model["fields"]:
            lines.append("    fields:")
            for fname, spec in model["fields"].items():
                lines.append(f"      {fname}: {_flow(spec)}")
        else:
            lines.append("    fields: {}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draft spec/<domain>.yaml from the reference facts.")
    parser.add_argument("domains", nargs="*")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "spec")
    parser.add_argument(
        "--reference", type=Path, default=DEFAULT_REFERENCE, help="the reference facts folder"
    )
    args = parser.parse_args(argv)
    d = Drafter(args.reference)
    domains = sorted({o["domain"] for o in d.ops}) if args.all else args.domains
    for domain in domains:
        path = args.out / f"{domain}.yaml"
        existing = yaml.safe_load(path.read_text()) if path.exists() else None
        path.write_text(draft_domain(d, domain, existing))
        print(f"drafted {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
