"""The API reference (Markdown, one page per domain) and the OpenAPI 3.1 document, from the spec."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from codegen.generate import Domain
    from codegen.spec import ApiSpec

_REF = "#/components/schemas/"


def reference_pages(env: jinja2.Environment, domains: list[Domain], header: str) -> dict[str, str]:
    pages = {
        f"docs/{d.name}.md": env.get_template("reference.md.jinja").render(dom=d, header=header)
        for d in domains
    }
    lines = [
        f"<!-- {header} -->",
        "# API reference",
        "",
        "Every operation of the TikTok Shop Open API, by domain (`client.<domain>.<method>`).",
        "",
        "| domain | operations | summary |",
        "| --- | --- | --- |",
    ]
    for d in domains:
        lines.append(f"| [`{d.name}`]({d.name}.md) | {len(d.methods)} | {d.spec.summary} |")
    lines.append("")
    lines.append(f"{sum(len(d.methods) for d in domains)} operations in {len(domains)} domains.")
    pages["docs/README.md"] = "\n".join(lines) + "\n"
    return pages


def _rename_refs(schema: Any, domain: str) -> Any:
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF):
                out[key] = f"{_REF}{domain}.{value[len(_REF) :]}"
            elif key == "customTypePath":
                continue
            else:
                out[key] = _rename_refs(value, domain)
        return out
    if isinstance(schema, list):
        return [_rename_refs(item, domain) for item in schema]
    return schema


def openapi(api: ApiSpec, domains: list[Domain], schemas: dict[str, dict[str, Any]]) -> str:
    """One OpenAPI 3.1 document: every operation, its arguments, body and answer, signed as TikTok asks."""
    components: dict[str, Any] = {
        "Envelope": {
            "type": "object",
            "description": "Every answer: code 0 is success; data holds the payload.",
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "request_id": {"type": "string"},
                "data": {},
            },
            "required": ["code"],
        }
    }
    for d in domains:
        for name, schema in schemas[d.name].items():
            components[f"{d.name}.{name}"] = _rename_refs(copy.deepcopy(schema), d.name)
    common = [
        {"name": "app_key", "in": "query", "required": True, "schema": {"type": "string"}},
        {
            "name": "timestamp",
            "in": "query",
            "required": True,
            "schema": {"type": "integer"},
            "description": "Unix seconds; within 5 minutes of TikTok's clock.",
        },
        {
            "name": "sign",
            "in": "query",
            "required": True,
            "schema": {"type": "string"},
            "description": "HMAC-SHA256 of app_secret + path + sorted query + body + app_secret.",
        },
    ]
    paths: dict[str, dict[str, Any]] = {}
    for d in domains:
        for m in d.methods:
            op = m.spec
            params: list[dict[str, Any]] = list(copy.deepcopy(common))
            if op.shop_scoped:
                params.append(
                    {
                        "name": "shop_cipher",
                        "in": "query",
                        "required": not op.shop_optional,
                        "schema": {"type": "string"},
                    }
                )
            own = schemas[d.name].get(m.params_model or "", {}).get("properties", {})
            required = set(schemas[d.name].get(m.params_model or "", {}).get("required", []))
            for name, schema in own.items():
                where = "path" if name in op.path_params else "query"
                params.append(
                    {
                        "name": name,
                        "in": where,
                        "required": where == "path" or name in required,
                        "schema": _rename_refs(schema, d.name),
                    }
                )
            entry: dict[str, Any] = {
                "operationId": f"{d.name}.{m.python_name}",
                "summary": op.summary,
                "tags": [d.name],
                "parameters": params,
                "x-tiktok-name": op.name,
                "x-retry-safe": op.retry_safe,
                **({"x-unverified": True, "description": op.notes or ""} if op.unverified else {}),
                "responses": {
                    "200": {
                        "description": "The envelope",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "allOf": [
                                        {"$ref": _REF + "Envelope"},
                                        {
                                            "type": "object",
                                            "properties": {
                                                "data": {"$ref": f"{_REF}{d.name}.{op.response}"}
                                                if op.response
                                                else {}
                                            },
                                        },
                                    ]
                                }
                            }
                        },
                    }
                },
            }
            if op.body:
                entry["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"{_REF}{d.name}.{op.body}"}}},
                }
            elif m.form_model:
                form = copy.deepcopy(schemas[d.name][m.form_model])
                for name, f in op.form.items():
                    if f.type == "file":
                        form["properties"][name] = {
                            "type": "string",
                            "contentMediaType": "application/octet-stream",
                        }
                entry["requestBody"] = {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _rename_refs(form, d.name)}},
                }
            elif op.loose and op.method != "GET":
                entry["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
            paths.setdefault(op.path, {})[op.method.lower()] = entry
    document = {
        "openapi": "3.1.0",
        "info": {"title": "TikTok Shop Open API (as described by the tiktokshop spec)", "version": "spec"},
        "servers": [{"url": api.hosts["api"]}, {"url": api.hosts["sandbox_api"]}],
        "security": [{"accessToken": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "accessToken": {"type": "apiKey", "in": "header", "name": "x-tts-access-token"}
            },
        },
    }
    return json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False) + "\n"
