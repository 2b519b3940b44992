"""Argument descriptions: every argument of every typed operation has one, and applying them
into the spec changes nothing but the ``description`` keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codegen import apply_descriptions as ad
from codegen.spec import load_domain

SPEC = Path(__file__).resolve().parent.parent / "spec"
MAX_CHARS = 160


def test_every_argument_has_a_description() -> None:
    """Spec descriptions plus the side files cover every argument of every non-loose operation."""
    counts, missing = ad.coverage(SPEC)
    assert sum(n for n, _ in counts.values()) > 0, "no arguments found: the spec layout changed"
    assert not missing, f"{len(missing)} arguments have no description:\n" + "\n".join(missing)


def test_side_file_texts_are_short_single_lines() -> None:
    """Each text is one line of at most MAX_CHARS characters ending like a sentence."""
    texts = ad.load_texts(SPEC / "descriptions")
    tables = [("common", texts.common)]
    tables += [(f"{d} common", t) for d, t in texts.domain_common.items()]
    tables += list(texts.operations.items())
    bad = [
        f"{where}: {name}: {text!r}"
        for where, table in tables
        for name, text in table.items()
        if len(text) > MAX_CHARS or not text.endswith((".", ")"))
    ]
    assert not bad, "texts too long or not ending with a full stop:\n" + "\n".join(bad)


def test_apply_changes_only_descriptions_and_is_idempotent(tmp_path: Path) -> None:
    """Applying on a copy of the spec: files still load, every argument then carries its text in
    the spec itself, the rest of each line is unchanged, and a second run changes nothing."""
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    before = {p.name: p.read_text(encoding="utf-8") for p in ad.spec_files(spec)}
    ad.apply(spec)
    texts = ad.load_texts(spec / "descriptions")
    for path in ad.spec_files(spec):
        load_domain(path)  # still a valid spec file
        old_lines = before[path.name].splitlines()
        new_lines = path.read_text(encoding="utf-8").splitlines()
        assert len(old_lines) == len(new_lines), f"{path.name}: lines were added or removed"
        for old, new in zip(old_lines, new_lines, strict=True):
            if old != new:  # only an inserted ", description: ..." inside the one-line mapping
                at = new.find(", description: ")
                assert at > 0 and len(new) > len(old), (path.name, old, new)
                assert old[:at] == new[:at] and new.endswith(old[at:]), (path.name, old, new)
        domain, arguments = ad.domain_arguments(path)
        for arg in arguments:
            node = ad._get(arg.node, "description")
            assert node is not None, f"{path.name}: {arg.key}: {arg.name} got no description"
            text = texts.lookup(domain, arg.key, arg.name)
            assert text is None or node.value == text or f"description: {node.value}" in before[path.name]
    # without the side files, the spec alone now covers every argument
    shutil.rmtree(spec / "descriptions")
    (spec / "descriptions").mkdir()
    assert ad.coverage(spec)[1] == []
    snapshot = {p.name: p.read_text(encoding="utf-8") for p in ad.spec_files(spec)}
    shutil.rmtree(spec / "descriptions")
    shutil.copytree(SPEC / "descriptions", spec / "descriptions")
    assert all(n == 0 for n in ad.apply(spec).values())
    assert snapshot == {p.name: p.read_text(encoding="utf-8") for p in ad.spec_files(spec)}


def _tiny_spec(root: Path, query_line: str) -> Path:
    spec = root / "spec"
    (spec / "descriptions").mkdir(parents=True)
    (spec / "demo.yaml").write_text(
        "domain: demo\n"
        "summary: Demo.\n"
        "operations:\n"
        "  - name: GetThing\n"
        '    version: "202309"\n'
        "    method: GET\n"
        "    path: /demo/202309/things/{thing_id}\n"
        "    summary: Get a thing.\n"
        "    shop_cipher: true\n"
        "    path_params:\n"
        "      thing_id: {type: string, required: true}\n"
        "    query:\n" + query_line + "models: {}\n",
        encoding="utf-8",
    )
    (spec / "descriptions" / "common.yaml").write_text(
        "common:\n  thing_id: 'Id of the thing: a string, #1 or [x], {y}.'\n", encoding="utf-8"
    )
    (spec / "descriptions" / "demo.yaml").write_text(
        '"GET /demo/202309/things/{thing_id}":\n  mode: "Mode; A means all, B means \\"best\\"."\n',
        encoding="utf-8",
    )
    return spec


@pytest.mark.parametrize(
    "query_line",
    [
        "      mode: {type: string, enum: [A, B]}\n",
        "      mode:\n        type: string\n        enum: [A, B]\n",
    ],
    ids=["flow", "block"],
)
def test_apply_quotes_texts_and_handles_both_layouts(tmp_path: Path, query_line: str) -> None:
    """Texts with YAML indicators survive the round trip, in flow and block field mappings."""
    spec = _tiny_spec(tmp_path, query_line)
    assert ad.coverage(spec)[1] == []
    assert ad.apply(spec) == {"demo": 2}
    loaded = load_domain(spec / "demo.yaml")
    op = loaded.operations[0]
    assert op.path_params["thing_id"].description == "Id of the thing: a string, #1 or [x], {y}."
    assert op.query["mode"].description == 'Mode; A means all, B means "best".'
    assert op.query["mode"].enum == ["A", "B"]


def test_overwrite_replaces_only_when_asked(tmp_path: Path) -> None:
    """An existing description stays unless --overwrite; then it is replaced in place."""
    spec = _tiny_spec(tmp_path, "      mode: {type: string, description: Old text., enum: [A, B]}\n")
    ad.apply(spec)
    assert load_domain(spec / "demo.yaml").operations[0].query["mode"].description == "Old text."
    ad.apply(spec, overwrite=True)
    text = (spec / "demo.yaml").read_text(encoding="utf-8")
    expected = """mode: {type: string, description: 'Mode; A means all, B means "best".', enum: [A, B]}"""
    assert expected in text


def test_missing_arguments_are_named(tmp_path: Path) -> None:
    """coverage() names each argument that no text covers, with its operation."""
    spec = _tiny_spec(tmp_path, "      other: {type: integer}\n")
    missing = ad.coverage(spec)[1]
    assert missing == ["demo: GET /demo/202309/things/{thing_id}: query other"]
    assert ad.main(["--check", "--spec", str(spec)]) == 1


def test_a_broken_side_file_is_refused(tmp_path: Path) -> None:
    """A side file whose keys are neither `common` nor an operation is an error naming it."""
    spec = _tiny_spec(tmp_path, "      mode: {type: string}\n")
    (spec / "descriptions" / "bad.yaml").write_text("things:\n  a: b\n", encoding="utf-8")
    with pytest.raises(ad.DescriptionsError, match=r"bad\.yaml: things"):
        ad.load_texts(spec / "descriptions")


def test_nested_fields_take_dotted_then_parent_then_name_texts(tmp_path: Path) -> None:
    """Nested request fields: an operation's dotted path wins over ``parent.field``, which wins
    over the bare field name; a model shared by two fields gets its text once."""
    spec = _tiny_spec(tmp_path, "      mode: {type: string}\n")
    text = (spec / "demo.yaml").read_text(encoding="utf-8")
    text = text.replace("    query:\n", "    body: PutThingRequest\n    query:\n")
    text = text.replace(
        "models: {}\n",
        "models:\n"
        "  PutThingRequest:\n"
        "    fields:\n"
        "      skus: {type: list<Sku>}\n"
        "  Sku:\n"
        "    fields:\n"
        "      price: {type: Price}\n"
        "      id: {type: string}\n"
        "  Price:\n"
        "    fields:\n"
        "      amount: {type: string}\n"
        "      currency: {type: string}\n",
    )
    (spec / "demo.yaml").write_text(text.replace("method: GET", "method: POST\n    retry: safe"))
    key = '"POST /demo/202309/things/{thing_id}"'
    (spec / "descriptions" / "demo.yaml").write_text(
        f"{key}:\n  mode: Mode.\n  skus: The SKUs.\n  skus.price.amount: Price of one unit.\n"
        "nested:\n  skus.id: Id of the SKU.\n  price: The price.\n  currency: ISO 4217 code.\n"
        "  amount: Never used here.\n",
        encoding="utf-8",
    )
    counts, missing = ad.coverage(spec, nested=True)
    assert counts == {"demo": (4, 4)} and missing == []
    ad.apply(spec)
    loaded = load_domain(spec / "demo.yaml")
    assert loaded.models["Sku"].fields is not None and loaded.models["Price"].fields is not None
    assert loaded.models["Sku"].fields["id"].description == "Id of the SKU."
    assert loaded.models["Sku"].fields["price"].description == "The price."
    assert loaded.models["Price"].fields["amount"].description == "Price of one unit."
    assert loaded.models["Price"].fields["currency"].description == "ISO 4217 code."
    assert ad.apply(spec) == {"demo": 0}


def test_a_duplicate_key_in_a_side_file_is_refused(tmp_path: Path) -> None:
    """A text given twice in one file would silently hide one of them: it is an error."""
    spec = _tiny_spec(tmp_path, "      mode: {type: string}\n")
    (spec / "descriptions" / "dup.yaml").write_text("common:\n  mode: One.\n  mode: Two.\n", encoding="utf-8")
    with pytest.raises(ad.DescriptionsError, match=r"dup\.yaml: .*duplicate key 'mode'"):
        ad.load_texts(spec / "descriptions")
