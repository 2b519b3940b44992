"""The public surface: which version a plain name calls, unverified versions, the optional
shop_cipher, misspelled arguments and the separate sync and async page types."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest

from codegen.generate import python_names
from codegen.spec import DomainSpec, SpecError, load_domain
from tests.fake import FakeTikTok
from tests.test_async import _client as async_client
from tiktokshop import TikTokShopError, ValidationError
from tiktokshop._models import ResponseModel
from tiktokshop._operation import Operation

ROOT = Path(__file__).resolve().parent.parent
SPEC_FILES = [p for p in sorted((ROOT / "spec").glob("*.yaml")) if p.name != "api.yaml"]


def _resource(domain: str) -> tuple[Any, type[Any]]:
    module = importlib.import_module(f"tiktokshop.resources.{domain}")
    return module, getattr(module, "".join(p.title() for p in domain.split("_")) + "Resource")


@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_no_plain_method_name_calls_an_unverified_version(path: Path) -> None:
    spec = load_domain(path)
    names = python_names(spec, path.name)
    unverified = {name for op, name in zip(spec.operations, names, strict=True) if op.unverified}
    for op, name in zip(spec.operations, names, strict=True):
        if op.unverified:
            assert name.endswith(f"_v{op.version}"), (path.name, op.name, op.version, name)
    # ...and the generated code agrees: what users call is what the spec says.
    module, resource = _resource(spec.domain)
    for op in module.OPERATIONS:
        name = op.id.split(".", 1)[1]
        doc = getattr(resource, name).__doc__
        assert ("Unverified:" in doc) == (name in unverified), op.id
        if name in unverified:
            assert name.endswith("_v" + op.path.split("/")[2]), op.id


def _op_path(domain: str, name: str) -> str:
    module, _ = _resource(domain)
    return next(op.path for op in module.OPERATIONS if op.id == f"{domain}.{name}")


def test_plain_names_call_the_documented_version() -> None:
    assert (
        _op_path("fulfillment", "mark_package_as_shipped") == "/fulfillment/202309/orders/{order_id}/packages"
    )
    assert _op_path("fulfillment", "update_package_shipping_info").startswith("/fulfillment/202309/")
    assert _op_path("fulfillment", "mark_package_as_shipped_v202610").startswith("/fulfillment/202610/")
    assert _op_path("order", "get_order_detail").startswith("/order/202507/")


def _domain(*ops: dict[str, Any]) -> DomainSpec:
    base = {"method": "GET", "summary": "s", "shop_cipher": True}
    operations = [{**base, "path": f"/x/{op['version']}/y", **op} for op in ops]
    return DomainSpec.model_validate({"domain": "x", "summary": "s", "operations": operations})


def test_generator_refuses_an_unclear_or_unverified_plain_name() -> None:
    two = ({"name": "GetY", "version": "202309"}, {"name": "GetY", "version": "202401"})
    with pytest.raises(SpecError, match=r"spec/x.yaml: GetY has versions 202309, 202401 .* `default: true`"):
        python_names(_domain(*two), "spec/x.yaml")
    with pytest.raises(SpecError, match="in the committed code `get_y` calls 202309"):
        python_names(_domain(*two), "spec/x.yaml", {"x.get_y": {"version": "202309"}})
    with pytest.raises(SpecError, match="marked `default: true`"):
        python_names(_domain({**two[0], "default": True}, {**two[1], "default": True}), "spec/x.yaml")
    unverified = {**two[1], "default": True, "unverified": True, "notes": "seen once"}
    with pytest.raises(SpecError, match="GetY 202401: an unverified version cannot be the default"):
        python_names(_domain(two[0], unverified), "spec/x.yaml")
    named = {**two[1], "unverified": True, "notes": "seen once", "python_name": "get_y_new"}
    with pytest.raises(SpecError, match="must end with _v202401"):
        python_names(_domain({**two[0], "default": True}, named), "spec/x.yaml")
    # A default that names the older version keeps the plain name there when a newer one is added.
    assert python_names(_domain({**two[0], "default": True}, two[1]), "spec/x.yaml") == [
        "get_y",
        "get_y_v202401",
    ]
    # A lone unverified version is reachable by its suffix only.
    assert python_names(_domain({**two[0], "unverified": True, "notes": "n"}), "spec/x.yaml") == [
        "get_y_v202309"
    ]


def test_spec_checks_shop_cipher_and_unverified(tmp_path: Path) -> None:
    def load(extra: str) -> DomainSpec:
        path = tmp_path / "x.yaml"
        path.write_text(
            "domain: x\nsummary: s\noperations:\n  - name: GetY\n    version: '202309'\n    method: GET\n"
            f"    path: /x/202309/y\n    summary: s\n{extra}"
        )
        return load_domain(path)

    assert load("    shop_cipher: optional\n").operations[0].shop_optional
    assert not load("    shop_cipher: false\n").operations[0].shop_scoped
    with pytest.raises(SpecError, match=r"x.yaml: operations\[0\] GetY: shop_cipher: 'maybe' is not one of"):
        load("    shop_cipher: maybe\n")
    with pytest.raises(SpecError, match=r"operations\[0\] GetY: an unverified operation needs `notes`"):
        load("    shop_cipher: true\n    unverified: true\n")


_OPTIONAL: Operation[ResponseModel] = Operation(
    id="test.optional_cipher",
    method="GET",
    path="/test/202309/optional",
    response=ResponseModel,
    shop_scoped=True,
    retry_safe=True,
    shop_optional=True,
)


def test_optional_shop_cipher_is_sent_only_when_set(fake: FakeTikTok) -> None:
    fake.on("GET", "/test/202309/optional", {})
    fake.client(shop_cipher=None)._request(_OPTIONAL)
    fake.client(shop_cipher="C-client")._request(_OPTIONAL)
    fake.client(shop_cipher=None)._request(_OPTIONAL, shop_cipher="C-call")

    async def run() -> None:
        async with async_client(fake, shop_cipher=None) as client:
            await client._request(_OPTIONAL)
            await client._request(_OPTIONAL, shop_cipher="C-async")

    asyncio.run(run())
    assert [s.query.get("shop_cipher") for s in fake.seen] == [None, "C-client", "C-call", None, "C-async"]
    assert all(s.signature_ok for s in fake.seen)


def test_misspelled_argument_names_the_nearest_one(fake: FakeTikTok) -> None:
    client = fake.client()
    with pytest.raises(
        ValidationError, match="unknown argument 'page_sise': did you mean 'page_size'"
    ) as info:
        client.order.get_order_list(page_sise=10)  # type: ignore[call-arg]
    assert isinstance(info.value, TypeError) and isinstance(info.value, TikTokShopError)
    assert info.value.field == "page_sise" and "order.get_order_list" in str(info.value)
    with pytest.raises(TypeError, match="did you mean 'order_status'"):
        client.order.get_order_list(page_size=10, order_stats="UNPAID")  # type: ignore[call-arg]
    with pytest.raises(
        TikTokShopError, match="missing 1 required keyword-only argument: 'page_size'"
    ) as missing:
        client.order.get_order_list()  # type: ignore[call-arg]
    assert isinstance(missing.value, ValidationError) and missing.value.field == "page_size"
    with pytest.raises(ValidationError, match="nothing was sent"):
        client.fulfillment.ship_package()  # type: ignore[call-arg]

    async def run() -> None:
        async with async_client(fake) as aclient:
            with pytest.raises(ValidationError, match="did you mean 'page_size'") as ainfo:
                await aclient.order.get_order_list(page_sise=10)  # type: ignore[call-arg]
            assert isinstance(ainfo.value, TypeError)

    asyncio.run(run())
    assert fake.seen == []


def test_a_type_error_inside_a_call_is_not_reworded(
    fake: FakeTikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = fake.client()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("inside the call")

    monkeypatch.setattr(client, "_request", broken)
    with pytest.raises(TypeError, match=r"^inside the call$") as info:
        client.order.get_order_list(page_size=10)
    assert not isinstance(info.value, ValidationError)


def test_sync_and_async_pages_offer_only_what_they_can_run() -> None:
    from tiktokshop.types.order import AsyncGetOrderListPage, GetOrderListPage

    assert hasattr(GetOrderListPage, "auto_paging_iter") and not hasattr(
        GetOrderListPage, "auto_paging_aiter"
    )
    assert hasattr(AsyncGetOrderListPage, "auto_paging_aiter")
    for name in ("auto_paging_iter", "iter_pages", "next_page"):
        assert not hasattr(AsyncGetOrderListPage, name)


def test_api_diff_reports_breaking_changes_unless_intended(monkeypatch: pytest.MonkeyPatch) -> None:
    import copy
    import json

    from codegen import api_diff

    new = json.loads((ROOT / "generated" / "api_manifest.json").read_text())
    assert api_diff.compare(new, new) == []
    old = copy.deepcopy(new)
    old["methods"]["order.get_order_list_old"] = old["methods"]["order.get_order_list"]
    old["methods"]["order.get_order_list"]["http"] = "POST /order/202201/orders/search"
    del new["methods"]["order.get_order_list"]["args"]["page_size"]  # type: ignore[index]
    old["methods"]["order.get_order_detail"]["args"]["ids"]["required"] = False
    response = "types.order.GetOrderListResponse"
    new["models"][response]["fields"]["brand_new"] = {"type": "string"}
    status = new["methods"]["order.get_order_list"]["args"]["order_status"]
    old["methods"]["order.get_order_list"]["args"]["order_status"] = {
        **status,
        "type": status["type"].replace(', "ALL"', ""),
    }  # a value added to a request enum is compatible
    changes = {(c.subject, c.breaking) for c in api_diff.compare(old, new)}
    assert ("order.get_order_list.order_status", False) in changes
    assert ("order.get_order_list_old", True) in changes  # removed
    assert ("order.get_order_list", True) in changes  # moved to another path
    assert ("order.get_order_list.page_size", True) in changes  # argument removed
    assert ("order.get_order_detail.ids", True) in changes  # made required
    assert (f"{response}.brand_new", False) in changes  # a response field added is compatible
    text, unintended = api_diff.report(api_diff.compare(old, new), [])
    assert unintended == 4 and "BREAKING" in text
    _, unintended = api_diff.report(
        api_diff.compare(old, new), ["order.get_order_list", "order.get_order_detail"]
    )
    assert unintended == 1  # get_order_list_old is not named

    monkeypatch.setattr(api_diff, "resolve_base", lambda base: "v-test")
    monkeypatch.setattr(api_diff, "manifest_at", lambda rev: old)
    assert api_diff.main(["--check"]) == 1
    monkeypatch.setattr(api_diff, "manifest_at", lambda rev: None)  # a base without a manifest passes
    assert api_diff.main(["--check"]) == 0


def test_typed_usage_example_runs_against_the_sandbox() -> None:
    import runpy

    example = runpy.run_path(str(ROOT / "examples" / "typed_usage.py"))
    sync_ids, async_ids, error = example["main"]()
    assert sync_ids and sorted(sync_ids) == sorted(async_ids)  # both clients walked every page
    assert "did you mean 'page_size'" in error


def test_argument_descriptions_reach_docstrings_and_reference_pages() -> None:
    from tiktokshop.resources.order import AsyncOrderResource, OrderResource

    for resource in (OrderResource, AsyncOrderResource):
        doc = resource.get_order_list.__doc__ or ""
        args = doc.split("Args:", 1)[1].split("Returns:", 1)[0]
        # The spec's description, then what the spec's enum adds, one line per argument.
        assert "page_size: Orders per page, 1 to 100." in args
        assert "sort_field: Time the orders are sorted by; create_time or update_time." in args
        assert (
            "order_status: Only orders in this status; ALL (or nothing) for every status. One of `UNPAID`"
            in args
        )
        assert "`ALL` sends nothing." in args
        assert (
            "create_time_ge: Only orders created at or after this time (Unix seconds). "
            "Also takes an aware `datetime`."
        ) in args
        assert "Raises:" in doc and "ValidationError:" in doc
    assert "AsyncGetOrderListPage:" in (AsyncOrderResource.get_order_list.__doc__ or "")
    page = (ROOT / "generated" / "docs" / "order.md").read_text()
    assert "| `page_size` | query | `int` | yes | Orders per page, 1 to 100. |" in page
    assert "- `ValidationError`: An argument is missing" in page
    unverified = (ROOT / "generated" / "docs" / "fulfillment.md").read_text()
    section = unverified.split("## `mark_package_as_shipped_v202610`", 1)[1].split("\n## ", 1)[0]
    assert "Unverified: no independent source confirms" in section
    assert "Prefer `mark_package_as_shipped`" in section
