"""Merge the argument descriptions of ``spec/descriptions/`` into ``spec/<domain>.yaml``.

The texts live beside the spec so that they can be written while the spec files themselves
are being edited elsewhere; this step copies them in. ``spec/descriptions/common.yaml`` holds
``common:``, texts for argument names that mean the same thing everywhere, and ``nested:``,
texts for fields of nested request models by ``parent.field`` or by field name. Each
``spec/descriptions/<domain>.yaml`` may hold its own ``common:`` and ``nested:`` (they win for
that domain's operations) and entries keyed ``"<METHOD> <path>"`` mapping an argument's wire
name, or a nested field's dotted path (``skus.price.amount``), to its text; these win over
everything else, whichever file holds them.

An operation's arguments are its ``path_params``, ``query`` and ``form`` fields and the fields
of its ``body`` model; loose operations have none. Only the ``description`` of a field changes:
it is inserted into the field's one-line ``{...}`` mapping (after ``required``, else after
``type``) or, with ``--overwrite``, its old value is replaced; every other byte stays as it is,
and the result is checked to differ from the original in descriptions only.

Usage: ``python -m codegen.apply_descriptions [--overwrite] [--check] [--no-nested]``
(``make descriptions``). ``--check`` changes nothing and lists the arguments that would still
have no description (exit status 1 if any); ``--list-nested`` also lists nested fields left.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from codegen.spec import SpecError, _UniqueKeyLoader

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
GLOBAL_FILE = "common.yaml"


@dataclass(frozen=True)
class Argument:
    """One argument of one operation, located in the spec file's YAML node tree."""

    domain: str
    key: str  # "<METHOD> <path>"
    where: str  # path_params | query | form | body | nested
    name: str  # the wire name
    node: yaml.Node  # the field's value node (a mapping)
    model: str | None = None  # the model that holds the field (body or nested)
    dotted: str = ""  # nested fields: the path from the argument, e.g. skus.price.amount
    parent: str = ""  # nested fields: the wire name of the field that holds this one


@dataclass
class Texts:
    """The description texts of ``spec/descriptions/``."""

    common: dict[str, str]
    domain_common: dict[str, dict[str, str]]
    operations: dict[str, dict[str, str]]
    nested: dict[str, str] = field(default_factory=dict)
    domain_nested: dict[str, dict[str, str]] = field(default_factory=dict)

    def lookup(self, domain: str, key: str, name: str) -> str | None:
        """The text for argument ``name`` of operation ``key`` in ``domain``, or None."""
        for table in (
            self.operations.get(key, {}),
            self.domain_common.get(domain, {}),
            self.common,
        ):
            if name in table:
                return table[name]
        return None

    def lookup_nested(self, arg: Argument) -> str | None:
        """The text for a nested field: the operation's dotted path, then ``parent.field`` and
        ``field`` in the domain's and the global ``nested:`` mappings; or None."""
        op = self.operations.get(arg.key, {})
        if arg.dotted in op:
            return op[arg.dotted]
        domain = self.domain_nested.get(arg.domain, {})
        for name in (f"{arg.parent}.{arg.name}", arg.name):
            for table in (domain, self.nested):
                if name in table:
                    return table[name]
        return None

    def text_for(self, arg: Argument) -> str | None:
        """The text for any argument or nested field, or None."""
        if arg.where == "nested":
            return self.lookup_nested(arg)
        return self.lookup(arg.domain, arg.key, arg.name)


class DescriptionsError(Exception):
    """A broken side file or spec layout, with the file and entry named."""


def _text_table(where: str, raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DescriptionsError(f"{where}: expected a mapping of argument name to text")
    out: dict[str, str] = {}
    for name, text in raw.items():
        if not isinstance(name, str) or not isinstance(text, str) or not text.strip():
            raise DescriptionsError(f"{where}: {name!r} needs a non-empty one-line text")
        if "\n" in text.strip():
            raise DescriptionsError(f"{where}: {name!r}: the text must be one line")
        out[name] = text.strip()
    return out


def load_texts(desc_dir: Path) -> Texts:
    """Read every side file of ``desc_dir``; raises DescriptionsError on a broken one."""
    texts = Texts({}, {}, {})
    for path in sorted(desc_dir.glob("*.yaml")):
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
        except SpecError as exc:
            raise DescriptionsError(f"{path.name}: {exc}") from None
        if not isinstance(raw, dict):
            raise DescriptionsError(f"{path}: expected a mapping")
        for key, table in raw.items():
            where = f"{path.name}: {key}"
            if key == "common":
                if path.name == GLOBAL_FILE:
                    texts.common.update(_text_table(where, table))
                else:
                    texts.domain_common[path.stem] = _text_table(where, table)
            elif key == "nested":
                if path.name == GLOBAL_FILE:
                    texts.nested.update(_text_table(where, table))
                else:
                    texts.domain_nested[path.stem] = _text_table(where, table)
            elif isinstance(key, str) and key.split(" ", 1)[0] in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                texts.operations.setdefault(key, {}).update(_text_table(where, table))
            else:
                raise DescriptionsError(f"{where}: keys are `common`, `nested` or '<METHOD> <path>'")
    return texts


def _get(node: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _scalar(node: yaml.Node | None) -> object:
    if isinstance(node, yaml.ScalarNode):
        return yaml.safe_load(node.value) if node.tag.endswith(":bool") else node.value
    return None


def domain_arguments(path: Path) -> tuple[str, list[Argument]]:
    """Every argument of every non-loose operation of one spec file, in file order."""
    root = yaml.compose(path.read_text(encoding="utf-8"))
    domain = str(_scalar(_get(root, "domain")) or path.stem)
    models = _get(root, "models")
    out: list[Argument] = []
    operations = _get(root, "operations")
    for op in operations.value if isinstance(operations, yaml.SequenceNode) else []:
        if _scalar(_get(op, "loose")) in (True, "true"):
            continue
        key = f"{_scalar(_get(op, 'method'))} {_scalar(_get(op, 'path'))}"
        for where in ("path_params", "query", "form"):
            fields = _get(op, where)
            if isinstance(fields, yaml.MappingNode):
                for k, v in fields.value:
                    out.append(Argument(domain, key, where, k.value, v))
        body = _scalar(_get(op, "body"))
        if body:
            model = _get(models, str(body)) if models is not None else None
            fields = _get(model, "fields") if model is not None else None
            if not isinstance(fields, yaml.MappingNode):
                raise DescriptionsError(f"{path}: {key}: body model {body!r} has no fields")
            for k, v in fields.value:
                out.append(Argument(domain, key, "body", k.value, v, str(body)))
    return domain, out


def _model_fields(models: yaml.Node | None, type_text: object) -> tuple[str, yaml.Node] | None:
    """The (model name, fields node) that a field's type names, through ``list<...>``."""
    name = str(type_text or "")
    while name.startswith("list<") and name.endswith(">"):
        name = name[5:-1]
    model = _get(models, name) if models is not None else None
    fields = _get(model, "fields") if model is not None else None
    return (name, fields) if isinstance(fields, yaml.MappingNode) else None


def domain_nested_fields(path: Path) -> tuple[str, list[Argument]]:
    """Every field of the request models nested under the body arguments of one spec file
    (``where`` is ``nested``), each reached through its first operation, in file order."""
    root = yaml.compose(path.read_text(encoding="utf-8"))
    domain = str(_scalar(_get(root, "domain")) or path.stem)
    models = _get(root, "models")
    out: list[Argument] = []

    def walk(key: str, fields: yaml.Node, prefix: str, parent: str, seen: frozenset[str]) -> None:
        for k, v in fields.value:
            dotted = f"{prefix}.{k.value}" if prefix else k.value
            if prefix:
                out.append(Argument(domain, key, "nested", k.value, v, None, dotted, parent))
            inner = _model_fields(models, _scalar(_get(v, "type")))
            if inner is not None and inner[0] not in seen:
                walk(key, inner[1], dotted, k.value, seen | {inner[0]})

    for arg in domain_arguments(path)[1]:
        if arg.where == "body":
            inner = _model_fields(models, _scalar(_get(arg.node, "type")))
            if inner is not None:
                walk(arg.key, inner[1], arg.name, arg.name, frozenset({str(arg.model), inner[0]}))
    return domain, out


def spec_files(spec_dir: Path) -> Iterator[Path]:
    """The domain files of ``spec_dir`` (every YAML file but api.yaml)."""
    for path in sorted(spec_dir.glob("*.yaml")):
        if path.name != "api.yaml":
            yield path


def flow_scalar(text: str) -> str:
    """``text`` written as a scalar that is valid inside a one-line flow mapping."""
    dumped = yaml.safe_dump({"d": [text]}, default_flow_style=True, width=math.inf, allow_unicode=True)
    dumped = dumped.strip()
    assert dumped.startswith("{d: [") and dumped.endswith("]}"), dumped
    return dumped[len("{d: [") : -len("]}")]


def _edit(source: str, arg: Argument, text: str, overwrite: bool) -> tuple[int, int, str] | None:
    """The (start, end, replacement) that sets the description of ``arg``, or None."""
    node = arg.node
    if not isinstance(node, yaml.MappingNode):
        return None
    current = _get(node, "description")
    if current is not None:
        if not overwrite or _scalar(current) == text:
            return None
        return current.start_mark.index, current.end_mark.index, flow_scalar(text)
    after = _get(node, "required") or _get(node, "type")
    if after is None:
        return None
    if node.flow_style:
        at = after.end_mark.index
        return at, at, f", description: {flow_scalar(text)}"
    # a block mapping: a new line after the anchor's line, indented like its key
    line_end = source.index("\n", after.end_mark.index)
    indent = " " * node.value[0][0].start_mark.column
    return line_end, line_end, f"\n{indent}description: {flow_scalar(text)}"


def apply(spec_dir: Path = SPEC_DIR, overwrite: bool = False, nested: bool = True) -> dict[str, int]:
    """Write the texts into the spec files; returns the number of fields changed per domain.

    With ``nested`` (the default), the fields of nested request models get their texts too."""
    texts = load_texts(spec_dir / "descriptions")
    changed: dict[str, int] = {}
    for path in spec_files(spec_dir):
        source = path.read_text(encoding="utf-8")
        domain, arguments = domain_arguments(path)
        if nested:
            arguments = arguments + domain_nested_fields(path)[1]
        edits: dict[int, tuple[int, int, str]] = {}
        for arg in arguments:
            text = texts.text_for(arg)
            if text is None or arg.node.start_mark.index in edits:
                continue  # a body model shared by several operations: the first one wins
            edit = _edit(source, arg, text, overwrite)
            if edit is not None:
                edits[arg.node.start_mark.index] = edit
        for start, end, new in sorted(edits.values(), reverse=True):
            source = source[:start] + new + source[end:]
        if edits:
            before = yaml.safe_load(path.read_text(encoding="utf-8"))
            after = yaml.safe_load(source)
            _same_but_descriptions(path, before, after)
            path.write_text(source, encoding="utf-8")
        changed[domain] = len(edits)
    return changed


def _same_but_descriptions(path: Path, before: object, after: object, where: str = "") -> None:
    """Raise DescriptionsError if anything but a field's description differs."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in set(before) | set(after):
            if key == "description" and isinstance(after.get("type"), str):
                continue
            if key not in before or key not in after:
                raise DescriptionsError(f"{path}: {where}.{key}: the edit added or lost a key")
            _same_but_descriptions(path, before[key], after[key], f"{where}.{key}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _same_but_descriptions(path, b, a, f"{where}[{i}]")
    elif before != after:
        raise DescriptionsError(f"{path}: {where}: the edit changed a value")


def coverage(spec_dir: Path = SPEC_DIR, nested: bool = False) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Per domain (arguments, described) once the texts are applied, and the missing ones.

    An argument counts as described when the spec already gives it a description or the
    side files have a text for it, exactly as ``apply`` would look it up. With ``nested``,
    the fields of nested request models are counted instead (each model field once).
    """
    texts = load_texts(spec_dir / "descriptions")
    counts: dict[str, tuple[int, int]] = {}
    missing: list[str] = []
    for path in spec_files(spec_dir):
        domain, arguments = (domain_nested_fields if nested else domain_arguments)(path)
        if nested:  # a model shared by several operations counts once
            unique = {arg.node.start_mark.index: arg for arg in reversed(arguments)}
            arguments = sorted(unique.values(), key=lambda a: a.node.start_mark.index)
        described = 0
        for arg in arguments:
            if _get(arg.node, "description") is not None or texts.text_for(arg):
                described += 1
            else:
                name = arg.dotted if nested else arg.name
                missing.append(f"{domain}: {arg.key}: {arg.where} {name}")
        counts[domain] = (len(arguments), described)
    return counts, missing


def unused_entries(spec_dir: Path = SPEC_DIR) -> list[str]:
    """Side-file entries naming an operation or argument that the spec does not have (yet)."""
    texts = load_texts(spec_dir / "descriptions")
    known: dict[str, set[str]] = {}
    for path in spec_files(spec_dir):
        for arg in domain_arguments(path)[1] + domain_nested_fields(path)[1]:
            known.setdefault(arg.key, set()).add(arg.dotted or arg.name)
    out = []
    for key, table in texts.operations.items():
        if key not in known:
            out.append(f"{key} (operation not in the spec)")
            continue
        out.extend(f"{key}: {name}" for name in table if name not in known[key])
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: apply the texts, or with --check report the coverage."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--overwrite", action="store_true", help="replace descriptions the spec has")
    parser.add_argument("--check", action="store_true", help="change nothing; list what is missing")
    parser.add_argument("--spec", type=Path, default=SPEC_DIR, help="the spec folder")
    parser.add_argument("--no-nested", action="store_true", help="top-level arguments only")
    parser.add_argument("--list-nested", action="store_true", help="also list nested fields left")
    args = parser.parse_args(argv)
    try:
        if not args.check:
            for domain, n in apply(args.spec, args.overwrite, not args.no_nested).items():
                if n:
                    print(f"{domain}: {n} descriptions written")
        counts, missing = coverage(args.spec)
        nested_counts, nested_missing = coverage(args.spec, nested=True)
        unused = unused_entries(args.spec)
    except DescriptionsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = sum(n for n, _ in counts.values())
    done = sum(d for _, d in counts.values())
    for domain, (n, d) in counts.items():
        print(f"  {domain:22} {d:5} / {n:5}")
    print(f"arguments: {total}, described: {done}, missing: {len(missing)}")
    for line in missing:
        print(f"  missing: {line}")
    n_total = sum(n for n, _ in nested_counts.values())
    n_done = sum(d for _, d in nested_counts.values())
    print(f"nested request fields: {n_total}, described: {n_done}, missing: {len(nested_missing)}")
    for line in nested_missing if args.list_nested else []:
        print(f"  nested missing: {line}")
    if unused:
        print(f"side-file entries that match nothing in the spec (yet): {len(unused)}")
        for line in unused:
            print(f"  unused: {line}")
    return 1 if args.check and missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
