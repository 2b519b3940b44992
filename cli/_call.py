"""``tiktokshop call DOMAIN.METHOD --arg value ...`` and ``tiktokshop ops [SEARCH]``."""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import click
import httpx
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tiktokshop import ResponseModel, ValidationError
from tiktokshop.resources import DOMAINS

from . import State, cli, err, errors, pass_state, print_json
from ._clients import make_client

__all__ = ["Method", "find_method", "methods"]


class Method:
    """One generated method: ``domain.name``, its arguments (name -> type, required) and summary."""

    def __init__(self, domain: str, name: str, func: Callable[..., Any]) -> None:
        self.domain, self.name, self.func = domain, name, func
        self._hints: dict[str, Any] | None = None
        self.params = {p.name: p for p in inspect.signature(func).parameters.values() if p.name != "self"}
        doc = inspect.getdoc(func) or ""
        self.summary = doc.splitlines()[0] if doc else ""

    @property
    def hints(self) -> dict[str, Any]:
        """The arguments' types, resolved on first use (``Any`` where one cannot be resolved)."""
        if self._hints is None:
            import io
            import os

            try:
                self._hints = typing.get_type_hints(self.func, localns={"os": os, "io": io, "IO": typing.IO})
            except (NameError, TypeError):
                self._hints = dict.fromkeys(self.params, Any)
        return self._hints

    @property
    def id(self) -> str:
        return f"{self.domain}.{self.name}"

    def required(self, name: str) -> bool:
        return self.params[name].default is inspect.Parameter.empty

    def type_text(self, name: str) -> str:
        text = str(self.params[name].annotation).replace("_t.", "").replace("typing.", "")
        return text.replace("collections.abc.", "").replace(" | None", "")


def _resource(domain: str) -> type:
    module = importlib.import_module(f"tiktokshop.resources.{domain}")
    name = "".join(p.capitalize() for p in domain.split("_")) + "Resource"
    cls: type = getattr(module, name)
    return cls


def methods(domain: str) -> list[Method]:
    """The public methods of one domain."""
    cls = _resource(domain)
    return [
        Method(domain, name, func)
        for name, func in sorted(vars(cls).items())
        if not name.startswith("_") and inspect.isfunction(func)
    ]


def find_method(op: str) -> Method:
    """The method ``domain.name``. Raises ``ValidationError`` with the closest names."""
    domain, _, name = op.partition(".")
    if domain not in DOMAINS:
        close = difflib.get_close_matches(domain, DOMAINS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `tiktokshop ops` lists them"
        raise ValidationError(f"no domain {domain!r}{hint}", field="operation")
    found = {m.name: m for m in methods(domain)}
    if name not in found:
        close = difflib.get_close_matches(name, list(found), n=3)
        hint = f"; did you mean {', '.join(domain + '.' + c for c in close)}?" if close else ""
        raise ValidationError(
            f"no operation {op!r}{hint} (`tiktokshop ops {domain}` lists the domain's)", field="operation"
        )
    return found[name]


def _is_sequence(hint: Any) -> bool:
    for arg in typing.get_args(hint) or (hint,):
        origin = typing.get_origin(arg)
        if origin in (list, tuple, Sequence, set, frozenset):
            return True
    return False


def _convert(method: Method, name: str, raw: Any) -> Any:
    """An argument from the command line, converted to its type as the library takes it."""
    hint = method.hints[name]
    value = raw
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in '{["':
            try:
                value = json.loads(text)
            except ValueError:
                raise ValidationError(f"--{_flag(name)}: not valid JSON", field=name) from None
        elif _is_sequence(hint):
            value = [part for part in text.split(",") if part]
    try:
        return TypeAdapter(hint).validate_python(value)
    except PydanticValidationError as exc:
        reason = str(exc.errors(include_url=False)[0]["msg"])
        expected = f" (expected {method.type_text(name)})" if len(reason) < 60 else ""
        raise ValidationError(f"--{_flag(name)} {raw!r}: {reason}{expected}", field=name) from None


def _flag(name: str) -> str:
    return name.replace("_", "-")


def parse_args(method: Method, extra: list[str], data: dict[str, Any]) -> dict[str, Any]:
    """``--name value`` pairs (a flag without value is ``true``) over ``--data``, converted and checked
    against the method's arguments. Raises ``ValidationError`` naming the argument."""
    given: dict[str, Any] = dict(data)
    index = 0
    while index < len(extra):
        token = extra[index]
        if not token.startswith("--") or token == "--":
            raise ValidationError(f"unexpected {token!r}: arguments are --name value", field=token)
        key, eq, inline = token[2:].partition("=")
        name = key.replace("-", "_")
        if eq:
            given[name] = inline
            index += 1
        elif index + 1 < len(extra) and not extra[index + 1].startswith("--"):
            given[name] = extra[index + 1]
            index += 2
        else:
            given[name] = "true"
            index += 1
    kwargs: dict[str, Any] = {}
    for name, raw in given.items():
        if name not in method.params:
            close = difflib.get_close_matches(name, list(method.params), n=1)
            hint = f"; did you mean --{_flag(close[0])}?" if close else ""
            raise ValidationError(
                f"{method.id} takes no --{_flag(name)}{hint} "
                f"(`tiktokshop ops {method.id}` lists its arguments)",
                field=name,
            )
        kwargs[name] = _convert(method, name, raw)
    missing = [n for n in method.params if method.required(n) and n not in kwargs]
    if missing:
        raise ValidationError(
            f"{method.id} needs {', '.join('--' + _flag(n) for n in missing)}", field=missing[0]
        )
    return kwargs


def _dump(model: Any) -> Any:
    if isinstance(model, ResponseModel):
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return model


def _read_data(data: str | None) -> dict[str, Any]:
    if not data:
        return {}
    text = data
    if data.startswith("@"):
        path = Path(data[1:])
        try:
            text = path.read_text(encoding="utf-8") if data != "@-" else sys.stdin.read()
        except OSError as exc:
            raise ValidationError(f"--data: cannot read {path}: {exc.strerror}", field="data") from None
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationError(
            "--data: not valid JSON (give a JSON object or @file.json)", field="data"
        ) from None
    if not isinstance(value, dict):
        raise ValidationError("--data: give a JSON object of arguments", field="data")
    return cast("dict[str, Any]", value)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("operation")
@click.option("--data", default=None, help="Arguments as a JSON object, or @file.json (@- for stdin).")
@click.option("--raw", is_flag=True, help="Print TikTok's whole envelope {code, message, data, request_id}.")
@click.option("--all-pages", is_flag=True, help="Follow pagination; print one JSON line per item.")
@pass_state
@click.pass_context
def call(
    ctx: click.Context, state: State, operation: str, data: str | None, raw: bool, all_pages: bool
) -> None:
    """Call any operation: `tiktokshop call order.get_order_list --page-size 5 --order-status
    AWAITING_SHIPMENT`. Argument names are the method's (dashes or underscores); values are
    converted to their types (lists: a,b,c or JSON; objects: JSON) and checked as the library
    checks them, before anything is sent."""
    with errors():
        method = find_method(operation)
        kwargs = parse_args(method, list(ctx.args), _read_data(data))
        envelopes: list[Any] = []

        def capture(response: httpx.Response) -> None:
            if not response.url.path.startswith("/api/v2/token/"):
                response.read()
                try:
                    envelopes.append(response.json())
                except ValueError:
                    envelopes.append({"status": response.status_code, "body": response.text[:200]})

        http = httpx.Client(event_hooks={"response": [capture]} if raw else {}, timeout=30)
        with http, make_client(state.settings, http_client=http) as client:
            bound = getattr(getattr(client, method.domain), method.name)
            result = bound(**kwargs)
            if not all_pages:
                print_json(envelopes[-1] if raw and envelopes else _dump(result))
                return
            if not hasattr(result, "iter_pages"):
                raise ValidationError(f"{method.id} does not page: drop --all-pages", field="all_pages")
            total = getattr(result, "total_count", None)
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err, transient=True) as progress:
                task = progress.add_task(method.id, total=total)
                for pages, page in enumerate(result.iter_pages(), start=1):
                    if raw:
                        print_json(envelopes[-1])
                    for item in page.page_items():
                        if not raw:
                            print_json(_dump(item))
                    progress.update(
                        task, advance=len(page.page_items()), description=f"{method.id} page {pages}"
                    )


@cli.command()
@click.argument("search", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ops(search: str | None, as_json: bool) -> None:
    """List the operations (domain.method) with their arguments; SEARCH filters by name or summary."""
    with errors():
        needle = (search or "").lower()
        found = [
            m
            for domain in DOMAINS
            for m in methods(domain)
            if not needle or needle in m.id.lower() or needle in m.summary.lower()
        ]
        if as_json:
            for m in found:
                print_json(
                    {
                        "operation": m.id,
                        "summary": m.summary,
                        "arguments": [
                            {
                                "name": n,
                                "flag": "--" + _flag(n),
                                "type": m.type_text(n),
                                "required": m.required(n),
                            }
                            for n in m.params
                        ],
                    }
                )
            return
        out = Console(highlight=False, soft_wrap=True)
        exact = [m for m in found if m.id == needle]
        if exact:  # one operation: each argument with its type
            (m,) = exact
            out.print(f"[bold]{m.id}[/]: {m.summary}", markup=True)
            for n in m.params:
                mark = "required" if m.required(n) else "optional"
                out.print(f"  --{_flag(n)}  {m.type_text(n)}  ({mark})", markup=False)
            return
        for m in found:
            args = " ".join(f"--{_flag(n)}{'*' if m.required(n) else ''}" for n in m.params)
            out.print(f"[bold]{m.id}[/]  {args}", markup=True)
            out.print(f"    {m.summary}", markup=False, style="dim")
        err.print(f"{len(found)} operation(s); * marks a required argument")
