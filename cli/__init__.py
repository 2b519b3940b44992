"""``tiktokshop``: the command line of the TikTok Shop client (Click commands, Rich output).

    tiktokshop auth login                  authorize a seller in the browser, keep its tokens and shops
    tiktokshop auth status | refresh       what is stored (never a secret) / refresh the tokens
    tiktokshop call order.get_order_list --page-size 5 --all-pages
    tiktokshop ops [SEARCH]                the operations and their arguments
    tiktokshop webhooks verify FILE        check a saved delivery's signature and parse it
    tiktokshop webhooks listen --forward-to http://127.0.0.1:8000/webhooks
    tiktokshop webhooks trigger ORDER_STATUS_CHANGE   the sandbox sends one event now
    tiktokshop sandbox                     serve the local sandbox

Settings come from flags, then ``TIKTOK_*`` variables, then the config file (see ``_config``).
Exit codes: 0 done; 1 TikTok refused the call, or a delivery does not verify; 2 bad usage or
arguments (nothing sent); 3 configuration missing (credentials, login, token file); 4 network
failure or a malformed answer; 130 interrupted. Results go to stdout (JSON), everything else to
stderr. Needs the ``cli`` extra (``pip install 'tiktokshop[cli]'``): ``import tiktokshop`` never
imports this package.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

try:
    import click
    from rich.console import Console
except ImportError as exc:  # pragma: no cover - depends on the install
    raise SystemExit(
        f"the tiktokshop command needs its extra: pip install 'tiktokshop[cli]' ({exc.name} is missing)"
    ) from None

from tiktokshop import (
    ApiError,
    ConfigurationError,
    MalformedResponseError,
    TikTokShopError,
    TokenStoreError,
    TransportError,
    ValidationError,
)

from ._config import Settings

__all__ = ["EXIT_CODES", "cli", "main"]

#: The exit codes, as documented.
EXIT_CODES = {"ok": 0, "refused": 1, "usage": 2, "config": 3, "network": 4, "interrupted": 130}

err = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    sys.exit(code)


@contextmanager
def errors() -> Generator[None, None, None]:
    """Turn the library's errors into a message and an exit code (never a traceback, never a secret)."""
    try:
        yield
    except ValidationError as exc:
        fail(str(exc), EXIT_CODES["usage"])
    except (ConfigurationError, TokenStoreError) as exc:
        fail(str(exc), EXIT_CODES["config"])
    except ApiError as exc:
        fail(str(exc), EXIT_CODES["refused"])
    except (TransportError, MalformedResponseError) as exc:
        fail(str(exc), EXIT_CODES["network"])
    except TikTokShopError as exc:
        fail(str(exc), EXIT_CODES["refused"])
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_CODES["interrupted"])


class State:
    """What the group's options resolved to, handed to every command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


pass_state = click.make_pass_decorator(State)


def _settings_options(func: F) -> F:
    for name in reversed(
        [
            "app_key",
            "app_secret",
            "service_id",
            "base_url",
            "auth_base_url",
            "authorize_url",
            "token_file",
            "seller",
            "shop",
        ]
    ):
        func = click.option(
            "--" + name.replace("_", "-"),
            name,
            default=None,
            metavar="TEXT",
            help=f"(or TIKTOK_{name.upper()})",
        )(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--config", "config", default=None, help="Config file (JSON; or TIKTOK_CONFIG).")
@_settings_options
@click.pass_context
def cli(ctx: click.Context, /, config: str | None, **flags: str | None) -> None:
    """The TikTok Shop Open API from the command line: authorize sellers, call any operation,
    receive webhooks, and serve the local sandbox. Settings: flags, then TIKTOK_* variables,
    then the config file. Exit codes: 0 ok, 1 refused by TikTok, 2 bad usage, 3 configuration
    missing, 4 network failure, 130 interrupted."""
    with errors():
        ctx.obj = State(Settings.resolve(flags, config))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    # Importing them registers their commands.
    from . import _auth, _call, _sandbox, _webhooks  # noqa: F401  # pyright: ignore[reportUnusedImport]

    try:
        cli.main(args=argv, prog_name="tiktokshop", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("interrupted")
        return EXIT_CODES["interrupted"]
    except click.ClickException as exc:
        exc.show()
        return EXIT_CODES["usage"]
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


def print_json(data: Any) -> None:
    """One JSON document (or line) on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()
