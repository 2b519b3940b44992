"""The `tiktokshop` command line against the sandbox: login without a browser (the test follows the
link), every order as JSON lines, argument checking, exit codes, status without secrets, webhooks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tiktokshop import JsonFileTokenStore
from tiktokshop.cli import EXIT_CODES, main
from tiktokshop.sandbox import Sandbox, sign_webhook

TIKTOKSHOP = Path(sys.executable).parent / "tiktokshop"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(orders=37, seed=5, sellers=2, shops_per_seller=2, orders_per_shop=3) as sb:
        yield sb


@pytest.fixture
def env(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "TIKTOK_APP_KEY": sandbox.app_key,
        "TIKTOK_APP_SECRET": sandbox.app_secret,
        "TIKTOK_SERVICE_ID": sandbox.service_id,
        "TIKTOK_BASE_URL": sandbox.url,
        "TIKTOK_AUTH_BASE_URL": sandbox.url,
        "TIKTOK_AUTHORIZE_URL": f"{sandbox.url}/open/authorize",
        "TIKTOK_TOKEN_FILE": str(tmp_path / "tokens.json"),
        "TIKTOK_SANDBOX_URL": sandbox.url,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    for name in list(os.environ):
        if name.startswith("TIKTOK_"):
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def _login(sandbox: Sandbox, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    port = _free_port()
    sandbox.redirect_url = f"http://127.0.0.1:{port}/callback"  # the app's redirect URL
    proc = subprocess.Popen(
        [str(TIKTOKSHOP), "auth", "login", "--no-browser", "--callback-port", str(port), "--timeout", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    assert proc.stdout is not None
    link = proc.stdout.readline().strip()
    assert link.startswith(f"{sandbox.url}/open/authorize?service_id={sandbox.service_id}&state=")
    # The seller's browser: the sandbox's page redirects to the CLI's callback with the code.
    page = httpx.get(link + "".join(extra), follow_redirects=True, timeout=10)
    assert page.status_code == 200 and b"authorization received" in page.content
    out, errors = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, link + out, errors)


def _tokens(env: dict[str, str], seller: str) -> dict[str, Any]:
    record = JsonFileTokenStore(env["TIKTOK_TOKEN_FILE"]).load(seller)
    assert record is not None
    return {"access_token": record.tokens.access_token, "refresh_token": record.tokens.refresh_token}


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_login_then_every_order_as_json_lines(sandbox: Sandbox, env: dict[str, str], capsys: Any) -> None:
    done = _login(sandbox, env)
    assert done.returncode == 0, done.stderr
    assert "Authorized" in done.stderr and sandbox.access_token not in done.stdout + done.stderr
    store = JsonFileTokenStore(env["TIKTOK_TOKEN_FILE"])  # the library's own token store
    record = store.load(sandbox.state.open_id)
    assert store.sellers() == [sandbox.state.open_id] and record is not None and record.tokens.access_token
    assert [s.id for s in record.shops] == [s.id for s in sandbox.state.shops_of(sandbox.state.open_id)]

    result = subprocess.run(
        [str(TIKTOKSHOP), "call", "order.get_order_list", "--page-size", "5", "--all-pages"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    expected = {o.id for o in sandbox.state.orders.values() if o.shop_id == sandbox.shop.id}
    assert len(expected) > 5  # more than one page
    assert [line["id"] for line in lines] and {line["id"] for line in lines} == expected
    assert len(lines) == len(expected)
    pages = [r for r in sandbox.requests.for_op("order.get_order_list") if r.query.get("page_size") == "5"]
    assert len(pages) == -(-len(expected) // 5)


def test_login_as_another_seller_and_pick_shops(sandbox: Sandbox, env: dict[str, str], capsys: Any) -> None:
    second = list(sandbox.state.sellers.values())[1]
    assert _login(sandbox, env, f"&seller={second.open_id}").returncode == 0
    code, out, _ = _run(capsys, "auth", "status", "--json")
    status = json.loads(out)
    assert code == 0 and [s["open_id"] for s in status["sellers"]] == [second.open_id]
    assert [s["id"] for s in status["sellers"][0]["shops"]] == second.shop_ids
    shop = second.shop_ids[1]
    code, out, _ = _run(capsys, "--shop", shop, "call", "order.get_order_list", "--page-size", "50")
    assert code == 0 and {o["id"] for o in json.loads(out)["orders"]} == {
        o.id for o in sandbox.state.orders.values() if o.shop_id == shop
    }
    code, _, err = _run(capsys, "--shop", "nope", "call", "order.get_order_list", "--page-size", "5")
    assert code == EXIT_CODES["config"] and "no shop 'nope'" in err


def test_status_and_refresh_never_show_a_secret(sandbox: Sandbox, env: dict[str, str], capsys: Any) -> None:
    assert _login(sandbox, env).returncode == 0
    stored = _tokens(env, sandbox.state.open_id)
    code, out, err = _run(capsys, "auth", "status")
    assert code == 0 and "Sellers in" in err and "Sandbox" in err
    code, out, err = _run(capsys, "auth", "refresh")
    assert code == 0 and "Refreshed" in err
    renewed = _tokens(env, sandbox.state.open_id)
    assert renewed["access_token"] != stored["access_token"]
    code, out, err = _run(capsys, "auth", "status", "--json")
    for secret in (
        stored["access_token"],
        renewed["access_token"],
        renewed["refresh_token"],
        sandbox.app_secret,
    ):
        assert secret not in out + err


def test_raw_envelope_and_data_file(
    sandbox: Sandbox, env: dict[str, str], capsys: Any, tmp_path: Path
) -> None:
    env_tokens = {"TIKTOK_ACCESS_TOKEN": sandbox.access_token, "TIKTOK_SHOP_CIPHER": sandbox.shop_cipher}
    os.environ.update(env_tokens)
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"page_size": 2, "order_status": "AWAITING_SHIPMENT"}))
    code, out, _ = _run(capsys, "call", "order.get_order_list", "--data", f"@{args}", "--raw")
    envelope = json.loads(out)
    assert code == 0 and envelope["code"] == 0 and envelope["request_id"]
    assert {o["status"] for o in envelope["data"]["orders"]} == {"AWAITING_SHIPMENT"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["call", "order.get_order_lst", "--page-size", "5"], "did you mean order.get_order_list"),
        (["call", "ordr.get_order_list"], "did you mean order"),
        (["call", "order.get_order_list"], "needs --page-size"),
        (["call", "order.get_order_list", "--page-size", "many"], "--page-size 'many'"),
        (["call", "order.get_order_list", "--page-size", "5", "--colour", "red"], "takes no --colour"),
        (
            ["call", "order.get_order_list", "--page-size", "5", "--order-status", "LOST"],
            "--order-status 'LOST'",
        ),
        (["call", "order.get_order_list", "--data", "{nope"], "--data: not valid JSON"),
    ],
)
def test_bad_arguments_exit_2_before_anything_is_sent(
    sandbox: Sandbox, env: dict[str, str], capsys: Any, args: list[str], message: str
) -> None:
    os.environ["TIKTOK_ACCESS_TOKEN"] = sandbox.access_token
    sent = len(sandbox.requests)
    code, out, err = _run(capsys, *args)
    assert code == EXIT_CODES["usage"] and message in err and out == ""
    assert len(sandbox.requests) == sent


def test_missing_configuration_and_refusals(sandbox: Sandbox, env: dict[str, str], capsys: Any) -> None:
    code, _, err = _run(capsys, "call", "order.get_order_list", "--page-size", "5")
    assert code == EXIT_CODES["config"] and "auth login" in err
    os.environ.pop("TIKTOK_APP_SECRET")
    code, _, err = _run(capsys, "call", "order.get_order_list", "--page-size", "5")
    assert code == EXIT_CODES["config"] and "TIKTOK_APP_SECRET" in err
    os.environ["TIKTOK_APP_SECRET"] = "wrong-secret"
    os.environ["TIKTOK_ACCESS_TOKEN"] = sandbox.access_token
    os.environ["TIKTOK_SHOP_CIPHER"] = sandbox.shop_cipher
    code, _, err = _run(capsys, "call", "order.get_order_list", "--page-size", "5")
    assert code == EXIT_CODES["refused"] and "wrong-secret" not in err


def test_config_file_is_read_and_flags_win(
    sandbox: Sandbox, env: dict[str, str], capsys: Any, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"app_key": sandbox.app_key, "app_secret": sandbox.app_secret}))
    for name in ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET"):
        os.environ.pop(name)
    os.environ["TIKTOK_ACCESS_TOKEN"] = sandbox.access_token
    os.environ["TIKTOK_SHOP_CIPHER"] = sandbox.shop_cipher
    code, out, _ = _run(capsys, "--config", str(config), "call", "order.get_order_list", "--page-size", "1")
    assert code == 0 and len(json.loads(out)["orders"]) == 1
    code, _, _ = _run(
        capsys,
        "--config",
        str(config),
        "--app-key",
        "other",
        "call",
        "order.get_order_list",
        "--page-size",
        "1",
    )
    assert code == EXIT_CODES["refused"]
    config.write_text(json.dumps({"app_kee": "x"}))
    code, _, err = _run(capsys, "--config", str(config), "ops")
    assert code == EXIT_CODES["config"] and "app_kee" in err


def test_ops_lists_operations_with_arguments(capsys: Any) -> None:
    code, out, _ = _run(capsys, "ops", "get_order_list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    (row,) = [r for r in rows if r["operation"] == "order.get_order_list"]
    page_size = next(a for a in row["arguments"] if a["name"] == "page_size")
    assert (
        code == 0
        and page_size["flag"] == "--page-size"
        and page_size["required"]
        and page_size["type"] == "int"
    )
    code, out, _ = _run(capsys, "ops", "ship")
    assert code == 0 and "fulfillment.ship_package" in out
    code, out, _ = _run(capsys, "ops", "order.get_order_list")
    assert code == 0 and "--page-size  int  (required)" in out and "--order-status" in out


def test_webhooks_trigger_refuses_unknown_types(sandbox: Sandbox, env: dict[str, str], capsys: Any) -> None:
    code, _, err = _run(capsys, "webhooks", "trigger", "NO_SUCH_TYPE")
    assert code == EXIT_CODES["usage"] and "NO_SUCH_TYPE" in err
    code, _, err = _run(capsys, "webhooks", "trigger", "1", "--sandbox-url", "http://127.0.0.1:9")
    assert code == EXIT_CODES["config"] and "no sandbox" in err


def test_webhooks_verify_a_saved_delivery(
    sandbox: Sandbox, env: dict[str, str], capsys: Any, tmp_path: Path
) -> None:
    body = json.dumps(
        {"type": 1, "tts_notification_id": "n9", "shop_id": "1", "timestamp": 1, "data": {"order_id": "5"}}
    )
    saved = tmp_path / "delivery.json"
    saved.write_text(
        json.dumps(
            {"authorization": sign_webhook(sandbox.app_key, sandbox.app_secret, body.encode()), "body": body}
        )
    )
    code, out, err = _run(capsys, "webhooks", "verify", str(saved))
    assert code == 0 and "ORDER_STATUS_CHANGE" in err and json.loads(out)["data"]["order_id"] == "5"
    raw = tmp_path / "body.json"
    raw.write_text(body + " ")
    code, _, err = _run(capsys, "webhooks", "verify", str(raw), "--signature", "ab" * 32)
    assert code == EXIT_CODES["refused"] and "does not sign" in err


class _App(BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[str | None, bytes]]] = []

    def do_POST(self) -> None:
        self.got.append(
            (self.headers.get("authorization"), self.rfile.read(int(self.headers["content-length"])))
        )
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhooks_listen_forwards_the_sandboxs_deliveries(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    handler: Any = type("App", (_App,), {"got": []})
    app = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{app.server_address[1]}/webhooks"
    proc = subprocess.Popen(
        [
            str(TIKTOKSHOP),
            "webhooks",
            "listen",
            "--forward-to",
            target,
            "--max-events",
            "1",
            "--save",
            str(tmp_path / "saved"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert proc.stderr is not None
        assert "Ready" in proc.stderr.readline()
        trigger = subprocess.run(
            [
                str(TIKTOKSHOP),
                "webhooks",
                "trigger",
                "NEW_CONVERSATION",
                "--data",
                '{"conversation_id": "c1"}',
            ],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=30,
        )
        assert trigger.returncode == 0, trigger.stderr
        event = json.loads(trigger.stdout)
        assert proc.wait(30) == 0
    finally:
        proc.stderr.close()  # type: ignore[union-attr]
        app.shutdown()
        app.server_close()
    ((signature, body),) = handler.got
    assert json.loads(body) == event and signature == sign_webhook(sandbox.app_key, sandbox.app_secret, body)
    (saved,) = (tmp_path / "saved").iterdir()
    assert main(["webhooks", "verify", str(saved)]) == 0
    assert sandbox.webhooks.subscriptions == {}  # unsubscribed on the way out


def test_sandbox_command_serves_with_sellers_and_a_frozen_clock() -> None:
    proc = subprocess.Popen(
        [
            str(TIKTOKSHOP),
            "sandbox",
            "--port",
            "0",
            "--orders",
            "10",
            "--sellers",
            "3",
            "--shops",
            "2",
            "--frozen-clock",
            "--rate-limit",
            "order.get_order_list=100",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = first.split(" at ")[1].split()[0]
        overview = httpx.get(f"{url}/_sandbox", timeout=10).json()
        assert [len(s["shops"]) for s in overview["sellers"]] == [2, 2, 2]
        now = httpx.get(f"{url}/_sandbox/clock").json()["now"]
        assert httpx.get(f"{url}/_sandbox/clock").json()["now"] == now  # frozen
        creds = httpx.get(f"{url}/_sandbox/credentials").json()
        lines = [proc.stdout.readline() for _ in range(5)]
        assert any(f"TIKTOK_APP_KEY={creds['TIKTOK_APP_KEY']}" in line for line in lines)
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()  # type: ignore[union-attr]


def test_login_with_a_code_caught_elsewhere(sandbox: Sandbox, env: dict[str, str], capsys: Any) -> None:
    code = httpx.post(f"{sandbox.url}/_sandbox/auth/code", json={}).json()["code"]
    status, _, err = _run(capsys, "auth", "login", "--code", code)
    assert status == 0 and "Authorized" in err
    status, _, err = _run(capsys, "auth", "login", "--code", code)  # codes work once
    assert status == EXIT_CODES["refused"] and code not in err
