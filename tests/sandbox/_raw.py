"""Hand-built signed requests, to reach the sandbox's checks the client would never fail."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from tests.fake import independent_sign
from tiktokshop.sandbox import IN_PROCESS_URL, Sandbox


def send(
    sandbox: Sandbox,
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: Any = None,
    *,
    app_key: str | None = None,
    secret: str | None = None,
    timestamp: int | None = None,
    token: str | None = "default",
    shop_cipher: str | None = "default",
    sign: str | None = None,
    drop: tuple[str, ...] = (),
) -> httpx.Response:
    """Sign and send one request in-process; ``drop`` leaves common parameters out."""
    q = dict(query or {})
    q["app_key"] = app_key if app_key is not None else sandbox.app_key
    q["timestamp"] = str(timestamp if timestamp is not None else int(sandbox.clock.now()))
    if shop_cipher is not None:
        q["shop_cipher"] = sandbox.shop_cipher if shop_cipher == "default" else shop_cipher
    for name in drop:
        q.pop(name, None)
    text = json.dumps(body, separators=(",", ":")) if body is not None else ""
    q["sign"] = sign or independent_sign(secret or sandbox.app_secret, path, list(q.items()), text)
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["x-tts-access-token"] = sandbox.access_token if token == "default" else token
    with httpx.Client(transport=sandbox.transport()) as http:
        return http.request(
            method,
            IN_PROCESS_URL + path + "?" + urlencode(q, quote_via=quote),
            headers=headers,
            content=text.encode() if text else None,
        )


def code(response: httpx.Response) -> int:
    return int(response.json()["code"])
