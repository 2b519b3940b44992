"""spec/api.yaml's error table against TikTok's published codes (the snapshot in tests/reference/)."""

from __future__ import annotations

import pytest
import yaml

from tests.conformance import ROOT, snapshot
from tiktokshop.resources._api import ERROR_CODES

TABLE = yaml.safe_load((ROOT / "spec" / "api.yaml").read_text(encoding="utf-8"))["errors"]
DOCS = snapshot("docs")


def test_every_global_code_is_in_the_table() -> None:
    missing = sorted(int(c) for c in DOCS["global_error_codes"] if int(c) not in TABLE)
    assert missing == []


def test_every_code_of_every_endpoint_page_is_in_the_table() -> None:
    missing = sorted({c for e in DOCS["endpoints"] for c in e["error_codes"] if c not in TABLE})
    assert missing == []


def test_operations_of_a_code_are_the_pages_that_document_it() -> None:
    pages: dict[int, set[str]] = {}
    for e in DOCS["endpoints"]:
        for c in e["error_codes"]:
            pages.setdefault(c, set()).add(f"{e['method']} {e['path']}")
    for code, entry in TABLE.items():
        if entry.get("operations"):
            assert set(entry["operations"]) == pages.get(code, set()), code


def test_every_entry_has_a_meaning_and_is_generated() -> None:
    for code, entry in TABLE.items():
        assert entry["meaning"].strip(), code
        generated = ERROR_CODES[code]
        assert (generated.error, generated.retry, generated.refresh_token, generated.hint) == (
            entry["error"],
            entry.get("retry", False),
            entry.get("refresh_token", False),
            entry.get("hint"),
        )
    assert set(ERROR_CODES) == set(TABLE)


@pytest.mark.parametrize(
    ("code", "error", "retry", "refresh"),
    [
        (36009002, "RateLimitError", True, False),
        (36009003, "ServerError", True, False),
        (36009007, "ServerError", True, False),
        (36009004, "AuthenticationError", False, False),
        (105002, "AuthenticationError", False, True),
        (105005, "PermissionDeniedError", False, False),
        (106001, "AuthenticationError", False, False),
        (106013, "BadRequestError", False, False),
        (36009033, "PermissionDeniedError", False, False),
    ],
)
def test_the_codes_tiktok_names_map_as_it_says(code: int, error: str, retry: bool, refresh: bool) -> None:
    e = ERROR_CODES[code]
    assert (e.error, e.retry, e.refresh_token) == (error, retry, refresh)


def test_only_token_codes_refresh_and_only_transient_classes_retry() -> None:
    for code, e in ERROR_CODES.items():
        if e.refresh_token:
            assert e.error == "AuthenticationError", code
        if e.retry:
            assert e.error in ("RateLimitError", "ServerError"), code


def test_the_reference_page_lists_every_code() -> None:
    page = (ROOT / "generated" / "docs" / "errors.md").read_text(encoding="utf-8")
    for code in TABLE:
        assert f"| {code} |" in page, code


def test_each_method_page_names_the_codes_of_its_endpoint() -> None:
    checked = 0
    for code, entry in TABLE.items():
        for op in entry.get("operations") or []:
            method, path = op.split(" ", 1)
            page_path = ROOT / "generated" / "docs" / f"{path.split('/')[1]}.md"
            page = page_path.read_text(encoding="utf-8") if page_path.exists() else ""
            marker = f"`{method} {path}` (version"
            if marker in page:  # an endpoint the spec offers
                section = page.split(marker, 1)[1].split("\n## ", 1)[0]
                assert f"{code} `{entry['error']}`" in section, (code, op)
                checked += 1
    assert checked
