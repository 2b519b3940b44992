"""Property: for EVERY operation (walked from the generated OPERATIONS tables), any arguments,
hostile or not, give either a request the in-process fake accepts as correctly signed, or a
ValidationError / ConfigurationError raised before anything is sent, holding no secret."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import inspect
import io
import os
import traceback
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.fake import ACCESS_TOKEN, APP_SECRET, REFRESH_TOKEN, FakeTikTok
from tiktokshop import ConfigurationError, TikTokShopError, ValidationError
from tiktokshop.resources import DOMAINS

OPTION_NAMES = {"timeout", "max_retries", "extra_query", "extra_body", "extra_headers", "shop_cipher"}


def _operations() -> list[tuple[str, str]]:
    found = []
    for domain in DOMAINS:
        module = importlib.import_module(f"tiktokshop.resources.{domain}")
        for op in module.OPERATIONS:
            found.append((domain, op.id.split(".", 1)[1]))
    return found


def _cycle() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


def _closed_file() -> io.BytesIO:
    handle = io.BytesIO(b"data")
    handle.close()
    return handle


def _deep() -> list[Any]:
    value: list[Any] = []
    for _ in range(5000):
        value = [value]
    return value


HOSTILE = (
    st.sampled_from(
        [
            10**5000,
            -(2**200),
            float("nan"),
            float("inf"),
            "\ud800",
            "ok\udcffok",
            b"bytes",
            bytearray(b"x"),
            "",
            "x" * 70_000,
            ["\ud83d"],
            {"k": float("-inf")},
            {1: "non-text key"},
            object(),
        ]
    ).map(lambda v: v)
    | st.builds(_cycle)
    | st.builds(_deep)
)

TEXT = st.text(max_size=12)


def _for(hint: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A plausible value for ``hint`` (the method's annotation), sometimes a hostile one."""
    return st.one_of(_plausible(hint, depth), HOSTILE) if depth < 2 else _plausible(hint, depth)


def _plausible(hint: Any, depth: int) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_plausible(a, depth) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if hint is type(None):
        return st.none()
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-(2**40), 2**40)
    if hint is float:
        return st.floats(allow_nan=True, allow_infinity=True)
    if hint is str:
        return TEXT
    if hint is dt.datetime:
        return st.datetimes(timezones=st.just(dt.timezone.utc)) | st.datetimes()
    if origin in (list, Sequence, typing.Sequence) or hint is list:
        inner = args[0] if args else Any
        return st.lists(_for(inner, depth + 1), max_size=3)
    if origin in (dict, Mapping, typing.Mapping):
        return st.dictionaries(TEXT, _plausible(Any, depth + 1), max_size=3)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        if depth >= 2:
            return st.just({})
        fields = {name: _for(f.annotation, depth + 1) for name, f in list(hint.model_fields.items())[:6]}
        return st.fixed_dictionaries({}, optional=fields)
    return st.one_of(st.none(), st.integers(0, 9), TEXT, st.binary(max_size=8))


@functools.cache
def _strategies(domain: str, name: str) -> tuple[st.SearchStrategy[Any], frozenset[str]]:
    """The arguments' strategy of one method, and the option names it accepts."""
    method = getattr(getattr(CLIENT, domain), name)
    accepted = frozenset(inspect.signature(method).parameters)
    return st.fixed_dictionaries(_params(method)), accepted


def _params(method: Any) -> dict[str, st.SearchStrategy[Any]]:
    hints = typing.get_type_hints(method, localns={"os": os})
    out: dict[str, st.SearchStrategy[Any]] = {}
    for name, param in inspect.signature(method).parameters.items():
        if name in OPTION_NAMES:
            continue
        strategy = _for(hints.get(name, Any))
        out[name] = strategy if param.default is inspect.Parameter.empty else st.one_of(st.none(), strategy)
    return out


OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "shop_cipher": st.one_of(st.none(), TEXT, HOSTILE, st.just("ROW_other_cipher")),
        "extra_query": st.dictionaries(TEXT, st.one_of(TEXT, st.integers(), HOSTILE), max_size=2),
        "extra_body": st.dictionaries(TEXT, st.one_of(TEXT, HOSTILE), max_size=2),
        "timeout": st.one_of(st.floats(-1, 60), HOSTILE),
        "max_retries": st.one_of(st.integers(-1, 2), HOSTILE),
    },
)

FAKE = FakeTikTok()
CLIENT = FAKE.client(max_retries=0)
SECRETS = (APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN)


@pytest.mark.parametrize("domain, name", _operations())
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_every_operation_sends_a_signed_request_or_refuses_before_sending(
    domain: str, name: str, data: st.DataObject
) -> None:
    method = getattr(getattr(CLIENT, domain), name)
    arguments, accepted = _strategies(domain, name)
    kwargs = data.draw(arguments, label="arguments")
    options = {k: v for k, v in data.draw(OPTIONS, label="options").items() if k in accepted}
    before = len(FAKE.seen)
    try:
        method(**kwargs, **options)
    except (ValidationError, ConfigurationError) as exc:
        assert len(FAKE.seen) == before, f"{type(exc).__name__} after sending"
        text = "".join(traceback.format_exception(exc)) + repr(exc.args)
        assert not any(secret in text for secret in SECRETS), "a secret is in the error"
        return
    except TikTokShopError:
        pass  # TikTok's (the fake's) answer was an error or did not fit: the request was sent
    except BaseException as exc:  # pragma: no cover - the property's failure
        raise AssertionError(
            f"{type(exc).__name__} is not one of the library's errors: {exc!r:.300}"
        ) from exc
    sent = FAKE.seen[before:]
    assert len(sent) == 1, "exactly one request, since max_retries=0"
    assert sent[0].signature_ok is not False, "the fake refused the signature"
    assert "NaN" not in sent[0].body and "Infinity" not in sent[0].body
