"""``tiktokshop webhooks verify | listen``."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import click
import httpx

from tiktokshop import ConfigurationError, ValidationError
from tiktokshop.webhooks import WebhookPayloadError, construct_event

from . import EXIT_CODES, State, cli, err, errors, fail, pass_state, print_json

DEFAULT_SANDBOX = "http://127.0.0.1:8765"


@cli.group()
def webhooks() -> None:
    """Check saved webhook deliveries, and forward the sandbox's deliveries to a local app."""


def _load_delivery(path: Path, signature: str | None) -> tuple[bytes, str | None]:
    """A saved delivery: a JSON file ``{"authorization": ..., "body": "<raw body>"}`` (what
    ``listen --save`` writes), or a raw body with ``--signature``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="file") from None
    if signature is None:
        try:
            saved = json.loads(raw)
        except ValueError:
            saved = None
        if isinstance(saved, dict):
            entry = cast("dict[str, Any]", saved)
            if isinstance(entry.get("body"), str):
                return entry["body"].encode("utf-8"), entry.get("authorization")
        raise ValidationError(
            f"{path} is not a saved delivery: give --signature with a raw body, "
            'or a JSON file {"authorization": ..., "body": ...}',
            field="signature",
        )
    return raw, signature


@webhooks.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--signature", default=None, help="The Authorization header, when FILE is the raw body.")
@pass_state
def verify(state: State, file: Path, signature: str | None) -> None:
    """Check that a saved delivery is signed with the app's secret (exit 0) or not (exit 1), and
    print the parsed event as JSON."""
    with errors():
        body, header = _load_delivery(file, signature)
        settings = state.settings
        try:
            event = construct_event(
                body, header, app_key=settings.require("app_key"), app_secret=settings.require("app_secret")
            )
        except WebhookPayloadError as exc:
            fail(f"signed, but not an event: {exc}", EXIT_CODES["refused"])
        except Exception as exc:  # WebhookSignatureError
            fail(f"{exc}: not sent by TikTok for this app (or changed on the way)", EXIT_CODES["refused"])
        err.print(
            f"[green]valid[/] {event.type_name or 'unknown type'} ({event.type}) {event.tts_notification_id}"
        )
        print_json(event.model_dump(mode="json"))


class _Forwarder(BaseHTTPRequestHandler):
    target: str
    save: Path | None
    seen: list[int]
    limit: int | None
    done: threading.Event

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        authorization = self.headers.get("authorization")
        headers = {"content-type": self.headers.get("content-type") or "application/json"}
        if authorization:
            headers["authorization"] = authorization
        started = time.perf_counter()
        try:
            response = httpx.post(self.target, content=body, headers=headers, timeout=10)
            status, note = response.status_code, ""
        except httpx.HTTPError as exc:
            status, note = 502, f" ({type(exc).__name__})"
        took = (time.perf_counter() - started) * 1000
        try:
            event = json.loads(body)
            label = f"{event.get('type')} {event.get('tts_notification_id')}"
            from tiktokshop.resources._api import WEBHOOK_TYPES

            label = f"{WEBHOOK_TYPES.get(event.get('type'), 'unknown')} [{label}]"
        except (ValueError, AttributeError):
            label = "not JSON"
        colour = "green" if status == 200 else "red"
        err.print(f"{time.strftime('%H:%M:%S')} --> {label}  [{colour}]{status}[/] {took:.0f} ms{note}")
        if self.save is not None:
            self.save.mkdir(parents=True, exist_ok=True)
            name = f"{int(time.time() * 1000)}-{len(self.seen) + 1}.json"
            record = {"authorization": authorization, "body": body.decode("utf-8", "replace")}
            (self.save / name).write_text(json.dumps(record), encoding="utf-8")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()
        self.seen.append(status)
        if self.limit is not None and len(self.seen) >= self.limit:
            self.done.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@webhooks.command()
@click.option(
    "--forward-to", required=True, help="Your app's webhook URL, e.g. http://127.0.0.1:8000/webhooks."
)
@click.option(
    "--sandbox-url", default=None, help=f"The sandbox (or TIKTOK_SANDBOX_URL; default {DEFAULT_SANDBOX})."
)
@click.option("--types", default=None, help="Only these event types: names or numbers, comma separated.")
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep each delivery in DIR.",
)
@click.option("--max-events", type=int, default=None, help="Stop after this many deliveries.")
@click.option("--port", type=int, default=0, help="Local port the sandbox delivers to (default: any).")
@pass_state
def listen(
    state: State,
    forward_to: str,
    sandbox_url: str | None,
    types: str | None,
    save: Path | None,
    max_events: int | None,
    port: int,
) -> None:
    """Subscribe to the sandbox's webhooks and forward each delivery, byte for byte with its
    signature, to your app; the sandbox gets your app's answer (so it retries what your app fails).
    Ctrl-C stops and unsubscribes."""
    with errors():
        base = (sandbox_url or state.settings.get("sandbox_url") or DEFAULT_SANDBOX).rstrip("/")
        done = threading.Event()
        handler = type(
            "Forwarder",
            (_Forwarder,),
            {"target": forward_to, "save": save, "seen": [], "limit": max_events, "done": done},
        )
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        body: dict[str, Any] = {"url": url}
        if types:
            body["types"] = [t.strip() for t in types.split(",") if t.strip()]
        control = httpx.Client(base_url=f"{base}/_sandbox", timeout=10)
        try:
            try:
                answer = control.post("/webhooks/subscriptions", json=body)
            except httpx.HTTPError as exc:
                raise ConfigurationError(
                    f"no sandbox at {base} ({type(exc).__name__}): start one with `tiktokshop sandbox`"
                ) from None
            if answer.status_code != 200:
                raise ValidationError(f"the sandbox refused the subscription: {answer.text}", field="types")
            err.print(f"Ready: forwarding the sandbox's webhooks ({base}) to {forward_to}. Ctrl-C stops.")
            try:
                while not done.wait(0.2):
                    pass
            finally:
                with contextlib.suppress(httpx.HTTPError):
                    control.request("DELETE", "/webhooks/subscriptions", json={"url": url})
        finally:
            control.close()
            server.shutdown()
            server.server_close()


@webhooks.command()
@click.argument("event_type")
@click.option("--data", default=None, help="The event's data as a JSON object.")
@click.option("--shop-id", default=None, help="The shop it is about (default: the sandbox's first).")
@click.option(
    "--sandbox-url", default=None, help=f"The sandbox (or TIKTOK_SANDBOX_URL; default {DEFAULT_SANDBOX})."
)
@pass_state
def trigger(
    state: State, event_type: str, data: str | None, shop_id: str | None, sandbox_url: str | None
) -> None:
    """Make the sandbox send an event of EVENT_TYPE (a name like ORDER_STATUS_CHANGE, or a number)
    to its subscribers now, e.g. to the app behind `webhooks listen`; prints the event."""
    with errors():
        try:
            payload: Any = json.loads(data) if data else {}
        except ValueError:
            raise ValidationError("--data: not valid JSON", field="data") from None
        if not isinstance(payload, dict):
            raise ValidationError("--data: give a JSON object", field="data")
        base = (sandbox_url or state.settings.get("sandbox_url") or DEFAULT_SANDBOX).rstrip("/")
        body: dict[str, Any] = {"type": event_type, "data": payload}
        if shop_id:
            body["shop_id"] = shop_id
        try:
            answer = httpx.post(f"{base}/_sandbox/webhooks/trigger", json=body, timeout=10)
        except httpx.HTTPError as exc:
            raise ConfigurationError(
                f"no sandbox at {base} ({type(exc).__name__}): start one with `tiktokshop sandbox`"
            ) from None
        if answer.status_code != 200:
            raise ValidationError(f"the sandbox refused: {answer.json().get('error')}", field="event_type")
        print_json(answer.json())
