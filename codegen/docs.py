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


def reference_pages(
    env: jinja2.Environment, domains: list[Domain], header: str, api: ApiSpec | None = None
) -> dict[str, str]:
    # The codes TikTok documents for particular endpoints, by "METHOD /path", for each method's section.
    errors: dict[str, list[tuple[int, str]]] = {}
    for code, e in sorted((api.errors if api else {}).items()):
        for op in e.operations or []:
            errors.setdefault(op, []).append((code, e.error))
    pages = {
        f"docs/{d.name}.md": env.get_template("reference.md.jinja").render(
            dom=d, header=header, errors=errors
        )
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
    lines.append("")
    lines.append("[TikTok's error codes](errors.md): the exception each raises and what the client does.")
    pages["docs/README.md"] = "\n".join(lines) + "\n"
    return pages


def errors_page(api: ApiSpec, header: str) -> str:
    """The error table of spec/api.yaml as a reference page: code, exception, reaction, meaning."""

    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    def reaction(e: Any) -> str:
        if e.refresh_token:
            return "refreshes the token once, repeats"
        return "retried (safe calls)" if e.retry else "raised at once"

    general = {c: e for c, e in api.errors.items() if not e.operations}
    specific = {c: e for c, e in api.errors.items() if e.operations}
    lines = [
        f"<!-- {header} -->",
        "# TikTok's error codes",
        "",
        "An answer whose `code` is not 0 raises the exception below (all derive from `tiktokshop.ApiError`,",
        "with `code`, `message`, `request_id`, `status_code`). *Retried* codes are repeated with",
        "exponential backoff and jitter, within `max_retries` and `total_timeout`, for calls that are safe",
        "to repeat; a code that refreshes the token does so once, then repeats the call. A code that is",
        "not listed raises the class of its HTTP status, else `ApiError`. The table is `errors` in",
        "`spec/api.yaml`; the hint is added to the exception's message.",
        "",
        "## Codes of every endpoint",
        "",
        "| code | exception | client | meaning | hint |",
        "| --- | --- | --- | --- | --- |",
    ]
    for code, e in sorted(general.items()):
        lines.append(f"| {code} | `{e.error}` | {reaction(e)} | {cell(e.meaning)} | {cell(e.hint or '')} |")
    lines += [
        "",
        "## Codes documented for particular endpoints",
        "",
        "| code | exception | client | meaning | endpoints |",
        "| --- | --- | --- | --- | --- |",
    ]
    for code, e in sorted(specific.items()):
        ops = "<br>".join(f"`{op}`" for op in e.operations or [])
        lines.append(f"| {code} | `{e.error}` | {reaction(e)} | {cell(e.meaning)} | {ops} |")
    return "\n".join(lines) + "\n"


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
            if op.shop_cipher:
                params.append(
                    {"name": "shop_cipher", "in": "query", "required": True, "schema": {"type": "string"}}
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
