"""Typed webhook events from the spec's table: classes, numbering, data models, unknown types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tiktokshop import webhooks
from tiktokshop.resources._api import WEBHOOK_TYPES
from tiktokshop.types import webhooks as types

ROOT = Path(__file__).resolve().parent.parent
SPEC = yaml.safe_load((ROOT / "spec" / "api.yaml").read_text())


def _event(event_type: int, data: Any) -> bytes:
    return json.dumps(
        {"type": event_type, "tts_notification_id": "n", "shop_id": "s", "timestamp": 1, "data": data}
    ).encode()


def test_every_spec_type_has_a_class_with_its_number_and_name() -> None:
    spec = SPEC["webhook_types"]
    assert set(types.EVENT_CLASSES) == set(spec) == set(WEBHOOK_TYPES)
    for number, entry in spec.items():
        cls = types.EVENT_CLASSES[number]
        assert (number, entry["name"], entry["group"]) == (cls.TYPE, cls.TYPE_NAME, cls.GROUP)
        assert types.EVENT_CLASSES_BY_NAME[entry["name"]] is cls and WEBHOOK_TYPES[number] == entry["name"]


def test_tiktoks_current_numbering() -> None:
    # Numbers as TikTok documents them since API 202309 (the npm package had 2..8 wrong).
    expected = {
        1: "ORDER_STATUS_CHANGE",
        3: "RECIPIENT_ADDRESS_UPDATE",
        4: "PACKAGE_UPDATE",
        5: "PRODUCT_STATUS_CHANGE",
        6: "SELLER_DEAUTHORIZATION",
        7: "UPCOMING_AUTHORIZATION_EXPIRATION",
        11: "CANCELLATION_STATUS_CHANGE",
        12: "RETURN_STATUS_CHANGE",
    }
    assert {n: WEBHOOK_TYPES[n] for n in expected} == expected
    assert 2 not in WEBHOOK_TYPES
    assert types.TYPES_BEFORE_202309[2] == ("Reverse Status Update", (11, 12))
    for _old, (_name, now) in types.TYPES_BEFORE_202309.items():
        assert all(n in types.EVENT_CLASSES for n in now)


def _sample(shape: Any) -> Any:
    if isinstance(shape, dict):
        return {k: _sample(v) for k, v in shape.items()}
    if isinstance(shape, list):
        return [_sample(shape[0])]
    return {"string": "x1", "integer": 7, "number": 1.5, "boolean": True}.get(
        shape, [_sample(shape[5:-1])] if shape.startswith("list<") else None
    )


def _check(model: Any, value: Any) -> None:
    if isinstance(value, dict):
        assert isinstance(model, types.WebhookData), model
        for key, item in value.items():
            _check(getattr(model, key), item)
    elif isinstance(value, list):
        assert isinstance(model, list) and len(model) == len(value)
        for m, v in zip(model, value):
            _check(m, v)
    else:
        assert model == value


@pytest.mark.parametrize("number", sorted(SPEC["webhook_types"]))
def test_each_type_parses_its_documented_data_typed(number: int) -> None:
    shape = SPEC["webhook_types"][number].get("data")
    data = _sample(shape) if shape else {"anything": 1}
    event = webhooks.parse_event(_event(number, data))
    assert (
        type(event) is types.EVENT_CLASSES[number]
        and event.type_name == SPEC["webhook_types"][number]["name"]
    )
    if shape:
        _check(event.data, data)
    else:
        assert event.data == {"anything": 1}


def test_data_keeps_unknown_fields_and_missing_ones_are_none() -> None:
    event = webhooks.parse_event(_event(1, {"order_id": "9", "brand_new": [1]}))
    assert isinstance(event, types.OrderStatusChangeEvent)
    assert event.data.order_id == "9" and event.data.order_status is None
    assert event.data.model_extra == {"brand_new": [1]}


def test_unknown_type_is_a_generic_event_with_dict_data() -> None:
    event = webhooks.parse_event(_event(999, {"x": 1}))
    assert type(event) is webhooks.WebhookEvent and event.type_name is None and event.data == {"x": 1}


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"type": "1"}', b'{"type": true}', _event(1, "not an object"), _event(999, [1])],
)
def test_bodies_that_are_not_events_raise_our_error(body: bytes) -> None:
    with pytest.raises(webhooks.WebhookPayloadError):
        webhooks.parse_event(body)


def _docs_shape(shape: Any) -> Any:
    """A `data_fields` shape of TikTok's docs in the spec's notation."""
    if isinstance(shape, dict):
        return {key: _docs_shape(value) for key, value in shape.items()}
    if isinstance(shape, list):
        (inner,) = shape
        return f"list<{inner}>" if isinstance(inner, str) else [_docs_shape(inner)]
    return shape


def test_the_spec_agrees_with_tiktoks_docs_snapshot() -> None:
    snapshot = json.loads((ROOT / "tests" / "reference" / "docs.json").read_text())
    docs = {int(number): entry for number, entry in snapshot["webhook_event_types"].items()}
    assert set(docs) == set(SPEC["webhook_types"])
    for number, entry in docs.items():
        spec = SPEC["webhook_types"][number]
        assert (spec["name"], spec["group"]) == (entry["name"], entry["group"]), number
        expected = _docs_shape(entry["data_fields"]) if entry["data_fields"] else None
        assert spec.get("data") == expected, f"webhook type {number}: data differs from the docs"
    legacy = snapshot["legacy_webhook_types_before_202309"]
    assert {int(k): (v["legacy_name"], [int(n) for n in v["now"]]) for k, v in legacy.items()} == {
        k: (v["name"], v["now"]) for k, v in SPEC["webhook_types_before_202309"].items()
    }
