"""Write the project's compact snapshot of the reference facts its tests check (``tests/reference/``).

    python -m codegen.reference_snapshot REFERENCE_DIR     # or: make reference REF=REFERENCE_DIR

The reference folder (named on the command line) holds TikTok's published API reference
(``docs.json``), TikTok's OpenAPI document (``openapi_tiktok_202601.json``) and the SDK-derived
catalogue (``operations.json``, ``models.json``, ``models_peer.json``). Tests never read that folder:
they read the files written here, which keep only the facts the tests compare (no prose, no
titles, no error messages), each with a ``_source`` header naming the file it came from and the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "reference"


def _header(source: str, reference: Path, note: str) -> dict[str, str]:
    return {
        "file": source,
        "from": str(reference.name),
        "written": dt.date.today().isoformat(),
        "by": "codegen/reference_snapshot.py (make reference)",
        "note": note,
    }


def _tree(fields: list[dict[str, Any]] | None, keep: tuple[str, ...]) -> list[dict[str, Any]]:
    """A field tree with only the keys in ``keep`` (and nested ``fields``)."""
    out = []
    for f in fields or []:
        node = {k: f[k] for k in keep if k in f}
        if f.get("fields"):
            node["fields"] = _tree(f["fields"], keep)
        out.append(node)
    return out


def docs_snapshot(reference: Path) -> dict[str, Any]:
    docs = json.loads((reference / "docs.json").read_text())
    keep = ("name", "type", "required", "items")
    endpoints = []
    for e in docs["endpoints"]:
        endpoints.append(
            {
                "method": e["method"],
                "path": e["path"],
                "version": e["version"],
                "content_type": e["content_type"],
                "shop_cipher": e["shop_cipher"],
                "path_params": e["path_params"],
                "query": e["query"],
                "body": _tree(e["body"], keep),
                "response_data": _tree(e["response_data"], keep),
                "error_codes": sorted(int(c) for c in e["error_codes"]),
            }
        )
    return {
        "_source": _header("docs.json", reference, "TikTok's published API reference; the highest authority"),
        "endpoints": endpoints,
        "global_error_codes": {
            code: sorted({r["section"] for r in rows}) for code, rows in docs["global_error_codes"].items()
        },
        "webhook_event_types": docs["webhook_event_types"],
        "legacy_webhook_types_before_202309": docs["legacy_webhook_types_before_202309"],
    }


def openapi_snapshot(reference: Path) -> dict[str, Any]:
    doc = json.loads((reference / "openapi_tiktok_202601.json").read_text())
    keep = ("name", "type", "format", "items", "items_format", "values")
    ops = []
    for o in doc["operations"]:
        op = {
            "method": o["method"],
            "path": o["path"],
            "version": o["version"],
            "name": o["name"],
            "path_params": o["path_params"],
            "query": o["query"],
            "response_data": _tree(o["response_data"], keep),
        }
        if o.get("body") is not None:
            op["body"] = _tree(o["body"], keep)
        if o.get("form") is not None:
            op["form"] = _tree(o["form"], keep)
        ops.append(op)
    return {
        "_source": _header(
            "openapi_tiktok_202601.json", reference, "TikTok's OpenAPI document; no body required flags"
        ),
        "operations": ops,
    }


_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def sdk_snapshot(reference: Path) -> dict[str, Any]:
    ops = json.loads((reference / "operations.json").read_text())["operations"]
    files = {
        "models.json": json.loads((reference / "models.json").read_text()),
        "models_peer.json": json.loads((reference / "models_peer.json").read_text()),
    }
    keep_op = (
        "domain",
        "name",
        "operation_id",
        "version",
        "method",
        "path",
        "path_params",
        "query",
        "shop_cipher",
        "body_model",
        "multipart",
        "form",
        "response_model",
        "models_file",
    )
    used: dict[str, dict[str, Any]] = {name: {} for name in files}
    for op in ops:
        src = op.get("models_file")
        if src is None:
            continue
        todo = [m for m in (op.get("body_model"), op.get("response_model")) if m]
        todo += [t for q in op.get("query") or [] for t in _REF.findall(q["type"])]
        while todo:
            name = todo.pop()
            if name in used[src] or name not in files[src]:
                continue
            model = files[src][name]
            used[src][name] = {k: model[k] for k in ("fields", "enum") if k in model}
            if "fields" in model:
                used[src][name]["fields"] = [
                    {k: f[k] for k in ("name", "type", "required") if k in f} for f in model["fields"]
                ]
                todo.extend(t for f in model["fields"] for t in _REF.findall(f["type"]))
    return {
        "_source": _header(
            "operations.json, models.json, models_peer.json",
            reference,
            "the SDK-derived catalogue; only models that an operation reaches",
        ),
        "operations": [{k: op[k] for k in keep_op if k in op} for op in ops],
        "models": dict(sorted(used["models.json"].items())),
        "models_peer": dict(sorted(used["models_peer.json"].items())),
    }


def signing_snapshot(reference: Path) -> dict[str, Any]:
    """The check values the reference README states for the request signature."""
    text = (reference / "README.md").read_text()
    ours = re.search(
        r"app_secret `(?P<secret>[^`]+)`, path `(?P<path>[^`]+)`, query `(?P<query>[^`]+)`, "
        r"body `(?P<body>[^`]+)` ->\s*`(?P<sign>[0-9a-f]{64})`",
        text,
    )
    theirs = re.search(
        r"app_secret `(?P<secret>[^`]+)`,\s*`GET (?P<path>[^`]+)`, query `(?P<query>[^`]+)`, no body;"
        r"[^`]*`(?P<message>[^`]+)` -> sign\s*`(?P<sign>[0-9a-f]{64})`",
        text,
    )
    if ours is None or theirs is None:
        raise SystemExit("reference README: the signing check values were not found")

    def pairs(q: str) -> dict[str, str]:
        return dict(p.strip().split("=", 1) for p in q.split(","))

    return {
        "_source": _header("README.md", reference, "signature check values stated by the reference"),
        "cases": [
            {
                "what": "check value computed with two independent implementations",
                "app_secret": ours["secret"],
                "path": ours["path"],
                "query": pairs(ours["query"]),
                "body": ours["body"],
                "sign": ours["sign"],
            },
            {
                "what": "TikTok's worked example (sign your API request)",
                "app_secret": theirs["secret"],
                "path": theirs["path"],
                "query": pairs(theirs["query"]),
                "body": None,
                "string_to_sign": theirs["message"],
                "sign": theirs["sign"],
            },
        ],
    }


def _write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    # One top-level key per line keeps diffs readable without growing the files much.
    path.write_text(text + "\n")
    print(f"wrote {path.relative_to(ROOT)} ({len(text) // 1024} KiB)")


def main(argv: list[str] | None = None) -> int:
    """Write the snapshot; raises SystemExit when the reference folder is missing or incomplete."""
    parser = argparse.ArgumentParser(description="Snapshot the reference facts the tests check.")
    parser.add_argument("reference", type=Path, help="the folder of reference facts")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    ref: Path = args.reference
    if not (ref / "docs.json").is_file():
        raise SystemExit(f"{ref}: no docs.json here; pass the reference folder (make reference REF=...)")
    args.out.mkdir(parents=True, exist_ok=True)
    _write(args.out / "docs.json", docs_snapshot(ref))
    _write(args.out / "openapi.json", openapi_snapshot(ref))
    _write(args.out / "sdk.json", sdk_snapshot(ref))
    _write(args.out / "signing.json", signing_snapshot(ref))
    return 0


if __name__ == "__main__":
    sys.exit(main())
