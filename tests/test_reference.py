"""The spec against the reference snapshot (tests/reference/): docs, openapi and sdk, ranked.

The rules are in tests/conformance.py and spec/README.md ("Conformance"). A deliberate difference
is listed in the spec under the operation's ``deviations``. Disagreements still to fix are listed
in tests/reference/known_gaps.json, which may only shrink: a new disagreement fails, and so does a
listed one that is fixed (remove it: ``python -m tests.conformance_report --write-baseline``).
``python -m tests.conformance_report --list`` prints every disagreement, one a line.
"""

from __future__ import annotations

import importlib

from tests.conformance import (
    SOURCES,
    Gap,
    all_gaps,
    check_operation,
    domain_of,
    load_baseline,
    reference_operations,
    snapshot,
    spec,
    spec_operations,
)


def _lines(gaps: list[Gap]) -> str:
    return "\n".join(g.line(domain_of(g)) for g in gaps)


def test_no_disagreement_beyond_the_known_ones() -> None:
    gaps = set(all_gaps())
    new = sorted(gaps - load_baseline())
    assert new == [], f"{len(new)} new disagreement(s) with the reference:\n{_lines(new)}"


def test_known_disagreements_that_are_fixed_leave_the_baseline() -> None:
    fixed = sorted(load_baseline() - set(all_gaps()))
    assert fixed == [], (
        f"{len(fixed)} disagreement(s) of tests/reference/known_gaps.json are fixed; run "
        f"`python -m tests.conformance_report --write-baseline`:\n{_lines(fixed)}"
    )


def test_every_source_is_read_and_compared() -> None:
    refs = reference_operations()
    assert set(refs) == set(SOURCES)
    for source, ops in refs.items():
        assert ops, source
    for name in ("docs", "openapi", "sdk", "signing"):
        header = snapshot(name)["_source"]
        assert header["file"] and header["written"], name


def test_the_comparison_finds_a_planted_difference() -> None:
    """Each kind of disagreement is reported, with the source that states the fact."""
    key = ("POST", "/order/202309/orders/search")
    assert key in reference_operations()["docs"]
    domain, op = spec_operations()[key]
    saved = dict(op)
    models = spec()[domain]["models"]
    body = models[op["body"]]["fields"]
    saved_body = dict(body)
    before = {(g.source, g.key) for g in check_operation(key)}
    try:
        op["version"] = "209901"
        op["shop_cipher"] = not op["shop_cipher"]
        first = next(iter(body))
        body["planted_field"] = {"type": "string"}
        body[first] = {**body[first], "type": "list<boolean>"}
        keys = {(g.source, g.key) for g in check_operation(key)}
        assert ("docs", "version") in keys
        assert ("docs", "shop_cipher") in keys
        assert ("docs", "body.planted_field") in keys
        assert ("docs", f"body.{first}:type") in keys
        op["deviations"] = [
            *(saved.get("deviations") or []),
            {"what": "body", "reason": "planted"},
            {"what": "version", "reason": "planted"},
        ]
        keys = {(g.source, g.key) for g in check_operation(key)}
        assert keys - before == {("docs", "shop_cipher")}
        assert not any(k == "version" or k.startswith(("body.", "body:")) for _, k in keys)
    finally:
        op.clear()
        op.update(saved)
        body.clear()
        body.update(saved_body)
    assert check_operation(key) == [g for g in all_gaps() if g.operation == f"{key[0]} {key[1]}"]


def test_spec_has_nothing_no_source_knows() -> None:
    known = {k for ops in reference_operations().values() for k in ops}
    extra = sorted(k for k in spec_operations() if k not in known)
    assert extra == []


def test_every_operation_has_a_typed_method_on_its_domain() -> None:
    expected = {(op["method"], op["path"]) for data in spec().values() for op in data.get("operations") or []}
    found = set()
    for domain in sorted(spec()):
        module = importlib.import_module(f"tiktokshop.resources.{domain}")
        resource = getattr(module, "".join(p.title() for p in domain.split("_")) + "Resource")
        for op in module.OPERATIONS:
            name = op.id.split(".", 1)[1]
            assert callable(getattr(resource, name)), op.id
            assert getattr(resource, name).__doc__, op.id
            found.add((op.method, op.path))
    assert found == expected


def test_deviations_give_reasons() -> None:
    for data in spec().values():
        for op in data.get("operations") or []:
            for d in op.get("deviations") or []:
                assert d["what"].strip() and d["reason"].strip(), (op["name"], d)
