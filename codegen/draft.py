"""Draft spec files from a folder of reference facts, for people to review.

    python -m codegen.draft --reference DIR order product   # two domains
    python -m codegen.draft --reference DIR --all           # every domain

Sources by authority: ``docs.json`` (TikTok's published pages) first, then
``openapi_tiktok_202601.json`` (TikTok's OpenAPI document), then ``operations.json`` with
``models.json`` and ``models_peer.json``. Where docs or the OpenAPI document describe a level of a
body or answer, its fields are theirs; required flags come from docs; enum values from the
OpenAPI document, else the SDK-derived models.

For each domain it writes ``spec/<domain>.yaml`` in the spec's format: our model names
(``<Method>Request``, ``<Method>Response``, nested ``<Parent><Field>``), our types (timestamps
and integers told apart, enums taken from the peer models where known), shared shapes written
once, and ``summary: TODO`` where an author has yet to write one. What an author already wrote
in the file is kept: summaries, descriptions, enums (unless the reference lists values), omit
values, bounds, ``retry``, names, ``default``, ``unverified``, ``rate_limit``, notes and
deviations, matched by operation (method and path) and by field path; model names stay where
they were, so types users import keep their names.
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
_TIME = re.compile(r"(^|_)(time|timestamp)(_ge|_lt|_gt|_le|_from|_to)?$|_time_(ge|lt|gt|le)$|_at$")
#: Names the time pattern catches that are durations, not points in time.
_DURATIONS = frozenset({"handling_time"})
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
#: Whether the generator knows ``shop_cipher: optional`` and ``default: true`` (spec/README.md);
#: until it does, the draft keeps the two-state rule and pins plain names with ``python_name``.
OPTIONAL_SHOP_CIPHER = False
DEFAULT_KEY = False

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
_CURATED_OP_KEYS = (
    "summary",
    "retry",
    "python_name",
    "default",
    "unverified",
    "pagination",
    "rate_limit",
    "notes",
    "deviations",
)


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
        for fname, f in sorted(self.fields.items()):
            child = self.children.get(fname)
            parts.append(json.dumps([fname, f, child.key() if child else None], sort_keys=True))
        return self.side + "{" + ",".join(parts) + "}"


class Reference:
    """The reference facts of one folder, by operation (method and path), by authority.

    ``docs``: TikTok's published pages (``docs.json``); ``openapi``: TikTok's OpenAPI document
    (``openapi_tiktok_202601.json``); ``ops`` with ``models`` and ``peer``: the SDK-derived files.
    """

    def __init__(self, folder: Path) -> None:
        def load(name: str) -> Any:
            path = folder / name
            if not path.exists():
                raise SystemExit(f"{path}: not found (give the reference folder with --reference)")
            return json.loads(path.read_text())

        self.ops: list[dict[str, Any]] = load("operations.json")["operations"]
        self.models: dict[str, Any] = load("models.json")
        self.peer: dict[str, Any] = load("models_peer.json")
        self.docs = {(p["method"], p["path"]): p for p in load("docs.json")["endpoints"]}
        self.openapi = {(o["method"], o["path"]): o for o in load("openapi_tiktok_202601.json")["operations"]}
        self.sdk = {(o["method"], o["path"]): o for o in self.ops}

    def operations(self) -> list[tuple[str, str]]:
        """Every operation any source knows."""
        return sorted(set(self.sdk) | set(self.openapi) | set(self.docs))

    def domain(self, key: tuple[str, str]) -> str:
        op = self.sdk.get(key)
        return op["domain"] if op else key[1].split("/")[1]


def _wire_name(name: str) -> str:
    return name[:-1] if name.endswith("_") and name[:-1].isidentifier() else name


#: Words of TikTok's prose that its document's value lists sometimes pick up ("US: ..., Other: ...").
_PROSE = frozenset(
    {
        "We",
        "The",
        "This",
        "To",
        "Available",
        "Applicable",
        "Holiday",
        "Order",
        "Invalid",
        "Internal",
        "Regime",
        "No",
        "Other",
        "UK",
    }
)


def _values_ok(values: list[Any]) -> bool:
    """Whether a value list of TikTok's document looks like wire values, not words of its prose."""
    return not any(str(v) in _PROSE or str(v).endswith("_") for v in values)


def _prune(tree: list[Any], prefix: str) -> list[str]:
    """Drop fields whose names cannot be Python names (``24h_live_gmv``); their dotted paths."""
    removed = [
        f"{prefix}.{f['name']}" for f in tree if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", f["name"])
    ]
    tree[:] = [f for f in tree if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", f["name"])]
    for f in tree:
        if f.get("fields"):
            removed += _prune(f["fields"], f"{prefix}.{f['name']}")
    return removed


class Drafter:
    def __init__(self, ref: Reference) -> None:
        self.ref = ref
        self.ops, self.models, self.peer = ref.ops, ref.models, ref.peer
        self.rejected: list[str] = []  # fields whose listed values are not wire values
        self.newer: list[str] = []  # fields TikTok's OpenAPI document has and its page lacks

    def _scalar(self, name: str, ref_type: str, peer_type: str | None) -> str:
        if ref_type in ("string", "date", "date-time"):
            return "string"
        if ref_type == "boolean":
            return "boolean"
        if ref_type in ("number", "integer"):
            if _TIME.search(name) and name not in _DURATIONS:
                return "timestamp"
            if ref_type == "integer" or peer_type == "integer" or _INT.search(name):
                return "integer"
            return "number"
        if ref_type == "object":
            return "object"
        if ref_type in ("RequestFile", "file", "binary"):
            return "file"
        return "any"

    # -- one tree format for every source: {name, type, items, fields, required, values} ----------

    def sdk_tree(
        self, src: dict[str, Any], ref_name: str, peer: dict[str, Any] | None, depth: int = 0
    ) -> list[Any]:
        """A model of the SDK-derived files as a field tree (enums from either models file)."""
        out: list[dict[str, Any]] = []
        peer_fields = {f["name"]: f for f in (peer or {}).get("fields", [])}
        for f in src.get(ref_name, {}).get("fields", []):
            name = _wire_name(f["name"])
            is_list, inner = _split(f["type"])
            pf = peer_fields.get(name)
            peer_inner = _split(pf["type"])[1] if pf else None
            peer_def = self.peer.get(peer_inner) if peer_inner else None
            node: dict[str, Any] = {"name": name, "required": bool(f.get("required"))}
            if inner in src and "fields" in src[inner] and depth < 12:
                node["type"] = "object"
                node["fields"] = self.sdk_tree(
                    src, inner, peer_def if peer_def and "fields" in peer_def else None, depth + 1
                )
            elif inner in src and "enum" in src[inner]:
                node["type"] = "integer" if src[inner].get("enum_type") == "integer" else "string"
                node["values"] = list(src[inner]["enum"])
            else:
                t = self._scalar(name, inner, peer_inner)
                node["type"] = {"timestamp": "integer"}.get(t, t)
                if t == "number":
                    node["number"] = True
                if peer_def and "enum" in peer_def and t in ("string", "integer"):
                    node["values"] = list(peer_def["enum"])
                    node["type"] = "integer" if peer_def.get("enum_type") == "integer" else "string"
            if is_list:
                out.append({**node, "type": "array", "items": node["type"]})
            else:
                out.append(node)
        return out

    def merge(
        self, docs: list[Any] | None, oa: list[Any] | None, sdk: list[Any] | None, where: str = ""
    ) -> list[Any]:
        """One field tree from the three sources: docs win, then TikTok's OpenAPI document, then
        the SDK-derived files. Where docs or the OpenAPI document describe a level, its fields are
        theirs (the SDK's extra fields are older shapes); required flags come from docs where docs
        describe the level, else from the SDK; enum values from the OpenAPI document, else the SDK."""
        d = {f["name"]: f for f in docs or []}
        o = {f["name"]: f for f in oa or []}
        s = {f["name"]: f for f in sdk or []}
        names = list(d) + [n for n in o if n not in d] if (docs or oa) else list(s)
        out = []
        for name in names:
            fd, fo, fs = d.get(name), o.get(name), s.get(name)
            if docs and fd is None and fo is not None:
                self.newer.append(f"{where}.{name}")
            top = fd or fo or fs
            assert top is not None
            node: dict[str, Any] = {"name": name, "type": top["type"], "items": top.get("items")}
            if docs is not None and (docs or not oa):
                node["required"] = bool(fd and fd.get("required"))
            else:
                node["required"] = bool(fs and fs.get("required"))
            values = (fo or {}).get("values")
            if values and (not _values_ok(values) or top["type"] == "boolean"):
                self.rejected.append(f"{where}.{name}")
                values = None
            values = values or (fs or {}).get("values")
            if values:
                node["values"] = values
            if fs and fs.get("number") and node["type"] == "integer" and not fd and not fo:
                node["number"] = True
            if top["type"] == "object" or (top["type"] == "array" and top.get("items") == "object"):
                kids = [x for x in (fd, fo, fs) if x is not None and x.get("fields") is not None]
                if kids:
                    node["fields"] = self.merge(
                        fd.get("fields") if fd else None,
                        fo.get("fields") if fo else None,
                        fs.get("fields") if fs else None,
                        f"{where}.{name}",
                    )
            out.append(node)
        return out

    def node(self, tree: list[Any], side: str) -> Node:
        """A drafted model (our types) from a merged field tree."""
        out = Node(side)
        for f in tree:
            name = f["name"]
            is_list = f["type"] == "array"
            raw = (f.get("items") or "string") if is_list else f["type"]
            spec: dict[str, Any] = {}
            if f.get("fields"):
                out.children[name] = self.node(f["fields"], side)
                t = "@child"
            else:
                t = self._scalar(name, "number" if f.get("number") else raw, None)
                if raw == "array":
                    t = "any"
                if f.get("values") and t in ("string", "integer"):
                    values = f["values"]
                    if t == "string":
                        values = [str(v) for v in values]
                    if t == "string" or all(isinstance(v, int) for v in values):
                        spec["enum"] = list(dict.fromkeys(values))
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

    def _query(self, key: tuple[str, str]) -> dict[str, Any]:
        page, oa, op = self.ref.docs.get(key), self.ref.openapi.get(key), self.ref.sdk.get(key)
        out: dict[str, Any] = {}
        if page is None and oa is None:
            for q in (op or {}).get("query") or []:
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
                out[q["name"]] = {
                    "type": f"list<{t}>" if is_list else t,
                    **extra,
                    **({"required": True} if q["required"] else {}),
                }
            return out
        dq = (page or {}).get("query") or {}
        oq = (oa or {}).get("query") or {}
        for name in list(dq) + [n for n in oq if n not in dq]:
            if name == "shop_cipher":
                continue
            top = dq.get(name) or oq[name]
            fo = oq.get(name) or {}
            is_list = top["type"] == "array"
            raw = (fo.get("items") or "string") if is_list else top["type"]
            t = self._scalar(name, raw, None)
            if t in ("any", "object"):
                t = "string"
            spec: dict[str, Any] = {"type": f"list<{t}>" if is_list else t}
            if fo.get("values") and (not _values_ok(fo["values"]) or t == "boolean"):
                self.rejected.append(f"query.{name}")
            elif fo.get("values") and t in ("string", "integer"):
                values = [str(v) for v in fo["values"]] if t == "string" else fo["values"]
                if t == "string" or all(isinstance(v, int) for v in values):
                    spec["enum"] = list(dict.fromkeys(values))
            if top.get("required"):
                spec["required"] = True
            out[name] = spec
        return out

    def draft_op(
        self, key: tuple[str, str]
    ) -> tuple[dict[str, Any], Node | None, Node | None, dict[str, Any]]:
        """The entry of one operation, its body and response trees, and its multipart form."""
        page, oa, op = self.ref.docs.get(key), self.ref.openapi.get(key), self.ref.sdk.get(key)
        self.rejected = []
        self.newer = []
        method, path = key
        version = path.split("/")[2]
        name = api_name(op) if op else (oa or {}).get("name") or UNNAMED[key]
        clean = re.sub(r"[^A-Za-z0-9]", "", name)  # GetDelivery-OrderPrintDocument
        if clean != name:
            entry_deviations = [{"what": "name", "reason": f"{name!r} is not an API name: written {clean}."}]
        else:
            entry_deviations = []
        name = clean
        entry: dict[str, Any] = {
            "name": name,
            "version": version,
            "method": method,
            "path": path,
            "summary": "TODO",
        }
        if entry_deviations:
            entry["deviations"] = entry_deviations
        if oa is not None:
            entry["_openapi_name"] = oa["name"]
        if page is not None:
            entry["shop_cipher"] = page["shop_cipher"]
        elif oa is not None:
            entry["shop_cipher"] = "shop_cipher" in oa["query"]
        elif op is not None and op["shop_cipher"] is not None:
            entry["shop_cipher"] = bool(op["shop_cipher"])
        else:
            entry["shop_cipher"] = self.guess_shop_cipher(op) if op else True
        if method != "GET":
            entry["retry"] = "safe" if re.search(r"/(search|query|list)(/|$)", path) else "unsafe"
        placeholders = re.findall(r"\{([a-z0-9_]+)\}", path)
        if placeholders:
            entry["path_params"] = {p: {"type": "string", "required": True} for p in placeholders}
            for p in placeholders:
                if page is not None and p not in page["path_params"]:
                    entry.setdefault("deviations", []).append(
                        {"what": f"path.{p}", "reason": "The path names it; TikTok's page does not list it."}
                    )
        entry.update(DEFAULTS.get(key, {}))
        typed = page is not None or oa is not None or (op is not None and op["models_file"] is not None)
        if not typed:
            entry["loose"] = True
            entry.setdefault("notes", LOOSE_NOTE)
            return entry, None, None, {}
        query = self._query(key)
        if query:
            entry["query"] = query
        if page is not None and oa is not None:
            dq, oq = set(page["query"]) - {"shop_cipher"}, set(oa["query"]) - {"shop_cipher"}
            for name in sorted(dq - oq):
                entry.setdefault("deviations", []).append(
                    {
                        "what": f"query.{name}",
                        "reason": "On TikTok's page, not in its OpenAPI document: kept.",
                    }
                )
            for name in sorted(oq - dq):
                entry.setdefault("deviations", []).append(
                    {
                        "what": f"query.{name}",
                        "reason": "In TikTok's OpenAPI document, not on its page: kept.",
                    }
                )
        src: dict[str, Any] = {}
        official = False
        peer_models: dict[str, Any] = {}
        if op is not None and op["models_file"] is not None:
            src = self.models if op["models_file"] == "models.json" else self.peer
            official = src is self.models
            peer_models = op.get("peer_models") or {}
        multipart = (
            (page is not None and page.get("content_type") == "multipart/form-data")
            or (oa is not None and bool(oa.get("form")))
            or (op is not None and bool(op.get("multipart")))
        )
        body = response = None
        form: dict[str, Any] = {}
        if multipart:
            if page is not None and page.get("content_type") == "multipart/form-data":
                fields = [
                    {"name": f["name"], "type": f["type"], "required": f["required"]} for f in page["body"]
                ]
                listed = {f["name"]: f for f in (oa or {}).get("form") or []}
                for x in fields:
                    if listed.get(x["name"], {}).get("values"):
                        x["values"] = listed[x["name"]]["values"]
                for f in listed.values():
                    if f["name"] not in {x["name"] for x in fields}:
                        fields.append({"name": f["name"], "type": f.get("format") or f["type"]})
            elif oa is not None and oa.get("form"):
                sdk_req = {f["name"]: f.get("required") for f in (op or {}).get("form") or []}
                for f in src.get((op or {}).get("body_model") or "", {}).get("fields", []):
                    sdk_req.setdefault(f["name"], f.get("required"))
                fields = [
                    {
                        "name": f["name"],
                        "type": f.get("format") or f["type"],
                        "required": sdk_req.get(f["name"]),
                        "values": f.get("values"),
                    }
                    for f in oa["form"]
                ]
            else:
                fields = (op or {}).get("form") or [
                    {"name": f["name"], "type": f["type"], "required": f.get("required", False)}
                    for f in src.get((op or {}).get("body_model") or "", {}).get("fields", [])
                ]
            for f in fields:
                t = self._scalar(f["name"], _split(f["type"])[1], None)
                if f["type"] in src and "enum" in src[f["type"]]:
                    form[f["name"]] = {"type": "string", "enum": list(src[f["type"]]["enum"])}
                elif f.get("values"):
                    form[f["name"]] = {"type": "string", "enum": [str(v) for v in f["values"]]}
                else:
                    form[f["name"]] = {"type": "string" if t == "any" else t}
                if f.get("required") or (t == "file" and f.get("required") is None):
                    form[f["name"]]["required"] = True
        else:
            sdk_body = None
            if op is not None and op.get("body_model") and src:
                peer_body = self.peer.get(peer_models.get("body") or "") if official else None
                sdk_body = self.sdk_tree(src, op["body_model"], peer_body)
            docs_body = page["body"] if page is not None else None
            oa_body = oa.get("body") if oa is not None else None
            if page is not None and not docs_body and not oa_body:
                tree = []
            else:
                tree = self.merge(docs_body, oa_body, sdk_body, "body")
            if tree or (sdk_body is not None and page is None and oa is None):
                body = self.node(tree, "request")
        sdk_resp = None
        if op is not None and op.get("response_model") and src:
            data = self._data(src, op["response_model"])
            envelope = {"code", "message", "request_id"}
            if (
                data
                and data in src
                and src[data].get("fields")
                and not {f["name"] for f in src[data]["fields"]} <= envelope
            ):
                peer_data = self._peer_data(peer_models.get("response")) if official else None
                sdk_resp = self.sdk_tree(src, data, peer_data)
        docs_resp = page["response_data"] if page is not None else None
        oa_resp = oa["response_data"] if oa is not None else None
        tree = self.merge(docs_resp, oa_resp, sdk_resp, "response")
        for newer in self.newer:
            entry.setdefault("deviations", []).append(
                {
                    "what": newer,
                    "reason": "In TikTok's OpenAPI document (2026), newer than its page: kept.",
                }
            )
        for bad in self.rejected:
            entry.setdefault("deviations", []).append(
                {
                    "what": f"{bad}:enum",
                    "reason": "The values TikTok's document lists here are words of its prose "
                    "(US / Other, The) or a boolean's spellings, not wire values: no enum.",
                }
            )
        for bad in _prune(tree, "response"):
            entry.setdefault("deviations", []).append(
                {
                    "what": bad,
                    "reason": "Not a Python identifier; the answer keeps it among the model's extra "
                    "fields (model_extra).",
                }
            )
        in_data = [f["name"] for f in tree if f["name"] in ("code", "message", "request_id")]
        if in_data:
            tree = [f for f in tree if f["name"] not in in_data]
            entry.setdefault("deviations", []).extend(
                {
                    "what": f"response.{name}",
                    "reason": "The reference lists the envelope's field inside data; the client reads it "
                    "from the envelope (every answer carries it there).",
                }
                for name in in_data
            )
            if not tree:
                entry["deviations"].append(
                    {
                        "what": "response",
                        "reason": "The reference's data holds only the envelope's fields; the call "
                        "returns nothing more.",
                    }
                )
        if tree:
            response = self.node(tree, "response")
        return entry, body, response, form


# -- naming and writing a domain -----------------------------------------------------------------


def python_names(entries: list[dict[str, Any]]) -> list[str]:
    newest: dict[str, str] = {}
    for e in entries:
        key = snake_case(e["name"])
        newest[key] = max(newest.get(key, e["version"]), e["version"])
    for e in entries:
        if e.get("default"):
            newest[snake_case(e["name"])] = e["version"]
    return [
        e.get("python_name")
        or snake_case(e["name"])
        + ("" if e["version"] == newest[snake_case(e["name"])] else f"_v{e['version']}")
        for e in entries
    ]


def keep_plain_names(entries: list[dict[str, Any]], old_ops: dict[tuple[str, str], Any]) -> None:
    """A version added to a name the spec already has never takes the plain method name from the
    version users call today: that one is pinned (``default: true`` where the generator knows it,
    else ``python_name``) and the new one keeps its ``_v<version>`` suffix."""
    if not old_ops:
        return
    old_entries = list(old_ops.values())
    old_names = dict(
        zip(((o["method"], o["path"]) for o in old_entries), python_names(old_entries), strict=True)
    )
    plain_now = {n: k for k, n in old_names.items()}
    new_names = python_names(entries)
    for e, name in zip(entries, new_names, strict=True):
        key = (e["method"], e["path"])
        if key in old_ops or name not in plain_now:
            continue
        holder = next(x for x in entries if (x["method"], x["path"]) == plain_now[name])
        if holder.get("default") or holder.get("python_name"):
            continue
        if DEFAULT_KEY:
            holder["default"] = True
        else:
            holder["python_name"] = name
        e.setdefault("python_name", f"{snake_case(e['name'])}_v{e['version']}")


class Namer:
    """Names model trees; a shape reached through the same field on the same side is written once.

    A nested shape used by one operation is named after its parent (``<Parent><Field>``); one used
    by several operations is named after its field alone (``PickupSlot`` in answers,
    ``PickupSlotInput`` in requests), unless that name is taken, then after its first parent.
    """

    def __init__(
        self,
        users: dict[tuple[str, str], set[str]],
        preferred: dict[tuple[str, ...], Any] | None = None,
    ) -> None:
        self.users = users
        self.preferred = preferred or {}
        #: A shape's old name found at any place it is used (another operation may reach it first).
        self.by_shape: dict[tuple[str, str], Any] = {}

    def learn(self, node: Node, via: str, pos: tuple[str, ...]) -> None:
        """Note the old name of every shape of a tree, wherever the spec placed it before."""
        if pos in self.preferred:
            self.by_shape.setdefault((via, node.key()), self.preferred[pos])
        for fname, child in node.children.items():
            self.learn(child, fname, (*pos, fname))
        self.by_key: dict[tuple[str, str], str] = {}
        self.models: dict[str, dict[str, Any]] = {}

    @staticmethod
    def count(users: dict[tuple[str, str], set[str]], node: Node, via: str, op: str) -> None:
        users.setdefault((via, node.key()), set()).add(op)
        for fname, child in node.children.items():
            Namer.count(users, child, fname, op)

    def name(self, node: Node, proposed: str, via: str, pos: tuple[str, ...] = ()) -> str:
        key = (via, node.key())
        if key in self.by_key:
            return self.by_key[key]
        old_name, old_order = self.preferred.get(pos) or self.by_shape.get(key) or (None, [])
        if old_name and old_name not in self.models:
            proposed = old_name  # the name the spec gave this place before: users import it
        elif not via.startswith("@") and len(self.users.get(key, ())) > 1:
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
        rank = {f: i for i, f in enumerate(old_order)}
        ordered = sorted(node.fields, key=lambda f: rank.get(f, len(rank)))
        for fname in ordered:
            spec = dict(node.fields[fname])
            child = node.children.get(fname)
            if child is not None:
                is_list = spec["type"].startswith("list<")
                child_name = self.name(
                    child, name + pascal(singular(fname) if is_list else fname), fname, (*pos, fname)
                )
                spec["type"] = f"list<{child_name}>" if is_list else child_name
            fields[fname] = spec
        return name


def _positions(
    models: dict[str, Any], name: str | None, pos: tuple[str, ...], out: dict[tuple[str, ...], Any]
) -> None:
    """Where the spec placed each named model: (operation, side, field path) -> (name, field order)."""
    if not name or name not in models or "fields" not in models[name] or len(pos) > 14:
        return
    fields = models[name].get("fields") or {}
    out[pos] = (name, list(fields))
    for fname, spec in fields.items():
        inner = spec["type"][5:-1] if spec["type"].startswith("list<") else spec["type"]
        _positions(models, inner, (*pos, fname), out)


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
    keys = sorted(
        (k for k in d.ref.operations() if d.ref.domain(k) == domain),
        key=lambda k: (k[1].split("/")[2:], k[0], k[1].split("/")[2]),
    )
    drafted = [d.draft_op(k) for k in keys]
    entries = [e for e, _, _, _ in drafted]
    old_ops = {(o["method"], o["path"]): o for o in (existing or {}).get("operations", [])}
    old_models = (existing or {}).get("models", {})
    for e in entries:
        old = old_ops.get((e["method"], e["path"]))
        theirs = e.pop("_openapi_name", None)
        if old:
            e["name"] = old.get("name", e["name"])
            drafted_deviations = e.get("deviations") or []
            for k in _CURATED_OP_KEYS:
                if k in old:
                    e[k] = old[k]
            kept = {x["what"] for x in e.get("deviations") or []}
            extra = [x for x in drafted_deviations if x["what"] not in kept]
            if extra:
                e["deviations"] = [*(e.get("deviations") or []), *extra]
            if e["shop_cipher"] == "optional" and not OPTIONAL_SHOP_CIPHER:
                e["shop_cipher"] = old["shop_cipher"]
        elif e["shop_cipher"] == "optional" and not OPTIONAL_SHOP_CIPHER:
            e["shop_cipher"] = True
        named = any(x["what"] == "name" for x in e.get("deviations") or [])
        if theirs and snake_case(theirs) != snake_case(e["name"]) and not named:
            e.setdefault("deviations", []).append(
                {
                    "what": "name",
                    "reason": f"TikTok's document calls it {theirs}; the method keeps the name "
                    f"users call ({snake_case(e['name'])}).",
                }
            )
    keep_plain_names(entries, old_ops)
    pynames = python_names(entries)
    users: dict[tuple[str, str], set[str]] = {}
    for e, body, response, _ in drafted:
        for tree, via in ((body, "@body:"), (response, "@response:")):
            if tree is not None:
                Namer.count(users, tree, via + e["name"], snake_case(e["name"]))
    preferred: dict[tuple[str, ...], Any] = {}
    for (method, path), old in old_ops.items():
        for kind in ("body", "response"):
            _positions(old_models, old.get(kind), (method, path, kind), preferred)
    namer = Namer(users, preferred)
    for e, body, response, _ in drafted:
        if body is not None:
            namer.learn(body, "@body:" + e["name"], (e["method"], e["path"], "body"))
        if response is not None:
            namer.learn(response, "@response:" + e["name"], (e["method"], e["path"], "response"))
    # Newest versions first, so shared shapes carry the plain operation's name.
    order = sorted(range(len(entries)), key=lambda i: ("_v" in pynames[i], i))
    for i in order:
        e, body, response, form = drafted[i]
        base = pascal(pynames[i])
        if form:
            e["form"] = form
        if body is not None:
            e["body"] = namer.name(
                body, base + "Request", "@body:" + e["name"], (e["method"], e["path"], "body")
            )
        if response is not None:
            e["response"] = namer.name(
                response, base + "Response", "@response:" + e["name"], (e["method"], e["path"], "response")
            )
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
            if e.get(kind) and old.get(kind):
                rank = {f: i for i, f in enumerate(old[kind])}
                e[kind] = dict(sorted(e[kind].items(), key=lambda kv: rank.get(kv[0], len(rank))))
            for fname, spec in (e.get(kind) or {}).items():
                prev = (old.get(kind) or {}).get(fname) or {}
                for k in _CURATED_FIELD_KEYS:
                    if k in prev and not (k == "enum" and "enum" in spec):
                        spec[k] = prev[k]
        for kind in ("body", "response"):
            new_fields = dict(_walk(models, e.get(kind)))
            for path, prev in _walk(old_models, old.get(kind)):
                spec = new_fields.get(path)
                if spec is None:
                    continue
                for k in _CURATED_FIELD_KEYS:
                    if k in prev and not (k == "enum" and "enum" in spec):
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
        and text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n", "~")
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
        "default",
        "unverified",
        "loose",
        "path_params",
        "query",
        "form",
        "body",
        "response",
        "pagination",
        "rate_limit",
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
    parser.add_argument(
        "--reference", type=Path, required=True, help="the folder of the reference facts (docs.json, ...)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "spec")
    args = parser.parse_args(argv)
    d = Drafter(Reference(args.reference))
    domains = sorted({d.ref.domain(k) for k in d.ref.operations()}) if args.all else args.domains
    for domain in domains:
        path = args.out / f"{domain}.yaml"
        existing = yaml.safe_load(path.read_text()) if path.exists() else None
        path.write_text(draft_domain(d, domain, existing))
        print(f"drafted {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
