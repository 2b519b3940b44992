"""The public API as data, and what changed in it between two versions of the code.

``make generate`` writes ``generated/api_manifest.json``: every method (operation, HTTP method,
path, version, arguments with type, required flag and kind, return type) and every model (fields
with type and required flag). Comparing two manifests gives the change report that ``make
generate`` prints, and ``make api-check`` fails on a breaking change that ``spec/api.yaml``'s
``intended_changes`` does not name.

Breaking: a method or model removed; a plain name moved to another version or path; an argument
removed, made required, added as required, or retyped; a return type changed; a field removed or
retyped, or a request field made required.

    python -m codegen.api_diff [--base REV] [--check]

``--base`` is a git revision (default ``auto``: the newest ``v*`` tag, else the previous commit);
a base without a manifest (or no git history) has nothing to compare, which passes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen.spec import SpecError, load_api

if TYPE_CHECKING:
    from codegen.generate import Domain

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "generated/api_manifest.json"


# -- the manifest --------------------------------------------------------------------------------


def manifest(domains: list[Domain]) -> dict[str, Any]:
    """The public surface of every domain, as plain data."""
    methods: dict[str, Any] = {}
    models: dict[str, Any] = {}
    for dom in domains:
        for m in dom.methods:
            op = m.spec
            args = {a.name: {"type": a.annotation, "required": a.required, "kind": a.where} for a in m.args}
            if op.loose:
                args["query"] = {"type": "Mapping[str, Any]", "required": False, "kind": "query"}
                if op.method != "GET":
                    args["body"] = {"type": "Mapping[str, Any]", "required": False, "kind": "body"}
            if op.shop_scoped:
                args["shop_cipher"] = {"type": "str", "required": False, "kind": "shop_cipher"}
            entry = {
                "operation": op.name,
                "http": f"{op.method} {op.path}",
                "version": op.version,
                "unverified": op.unverified,
                "returns": m.returns or "ResponseModel",
                "args": args,
            }
            methods[f"{dom.name}.{m.python_name}"] = entry
            if m.alias:
                methods[f"{dom.name}.{m.alias}"] = entry
        for name, model in sorted(dom.spec.models.items()):
            side = "request" if name in dom.request_models else "response"
            if model.enum is not None:
                models[f"types.{dom.name}.{name}"] = {"side": side, "enum": list(model.enum)}
                continue
            fields: dict[str, Any] = {}
            for fname, f in (model.fields or {}).items():
                entry: dict[str, Any] = {"type": f.type}
                if f.enum is not None:
                    entry["enum"] = list(f.enum)
                if side == "request":
                    entry["required"] = f.required
                fields[fname] = entry
            models[f"types.{dom.name}.{name}"] = {"side": side, "fields": fields}
    return {"methods": dict(sorted(methods.items())), "models": dict(sorted(models.items()))}


def dumps(data: dict[str, Any]) -> str:
    """One line per method and per model: small, reviewable diffs; same data, same bytes."""
    out = ["{"]
    sections = list(data.items())
    for i, (section, entries) in enumerate(sections):
        out.append(f"  {json.dumps(section)}: {{")
        items = list(entries.items())
        for j, (key, value) in enumerate(items):
            comma = "," if j < len(items) - 1 else ""
            out.append(f"    {json.dumps(key)}: {json.dumps(value, sort_keys=True)}{comma}")
        out.append("  }" + ("," if i < len(sections) - 1 else ""))
    out.append("}")
    return "\n".join(out) + "\n"


# -- comparing -----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Change:
    """One difference of the public API. ``subject`` is what ``intended_changes`` names."""

    subject: str
    what: str
    breaking: bool

    def line(self, intended: bool = False) -> str:
        mark = (
            "BREAKING" if self.breaking and not intended else ("breaking, intended" if self.breaking else "")
        )
        return f"  {self.subject}: {self.what}" + (f"  [{mark}]" if mark else "")


def _type(entry: dict[str, Any]) -> str:
    text = str(entry.get("type"))
    if "enum" in entry:
        text += f" {entry['enum']}"
    return text


_LITERAL = re.compile(r"Literal\[([^\]]*)\]")


def _widened(old: str, new: str) -> bool:
    """Whether annotation ``new`` only adds values to ``old``'s ``Literal``s (a compatible change)."""
    if _LITERAL.sub("Literal", old) != _LITERAL.sub("Literal", new):
        return False
    pairs = zip(_LITERAL.findall(old), _LITERAL.findall(new), strict=True)
    return all(set(a.split(", ")) <= set(b.split(", ")) for a, b in pairs)


def _args(subject: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out = []
    for name in sorted(old.keys() - new.keys()):
        out.append(Change(f"{subject}.{name}", "argument removed", True))
    for name in sorted(new.keys() - old.keys()):
        required = bool(new[name]["required"])
        out.append(
            Change(f"{subject}.{name}", f"{'required' if required else 'optional'} argument added", required)
        )
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        if a["type"] != b["type"]:
            breaking = not _widened(a["type"], b["type"])
            out.append(Change(f"{subject}.{name}", f"type {a['type']} -> {b['type']}", breaking))
        if a["required"] != b["required"]:
            out.append(
                Change(
                    f"{subject}.{name}", "now required" if b["required"] else "now optional", b["required"]
                )
            )
        if a["kind"] != b["kind"]:
            out.append(Change(f"{subject}.{name}", f"sent in {a['kind']} -> {b['kind']}", False))
    return out


def _fields(subject: str, side: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out = []
    for name in sorted(old.keys() - new.keys()):
        out.append(Change(f"{subject}.{name}", "field removed", True))
    for name in sorted(new.keys() - old.keys()):
        required = bool(new[name].get("required"))
        out.append(Change(f"{subject}.{name}", f"{'required ' if required else ''}field added", required))
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        if _type(a) != _type(b):
            old_enum, new_enum = a.get("enum"), b.get("enum")
            if a.get("type") != b.get("type"):
                breaking = True
            elif side == "response":
                breaking = False  # answers stay open to values TikTok adds or drops
            else:  # a request field: accepting more values is compatible, fewer is not
                breaking = new_enum is not None and (old_enum is None or not set(old_enum) <= set(new_enum))
            out.append(Change(f"{subject}.{name}", f"type {_type(a)} -> {_type(b)}", breaking))
        if bool(a.get("required")) != bool(b.get("required")):
            made = bool(b.get("required"))
            out.append(Change(f"{subject}.{name}", "now required" if made else "now optional", made))
    return out


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, breaking or not."""
    out: list[Change] = []
    om, nm = old.get("methods", {}), new.get("methods", {})
    for name in sorted(om.keys() - nm.keys()):
        out.append(Change(name, f"method removed (was {om[name]['http']})", True))
    for name in sorted(nm.keys() - om.keys()):
        out.append(Change(name, f"method added ({nm[name]['http']})", False))
    for name in sorted(om.keys() & nm.keys()):
        a, b = om[name], nm[name]
        if a["http"] != b["http"]:
            out.append(Change(name, f"now calls {b['http']} (was {a['http']})", True))
        if a["returns"] != b["returns"]:
            out.append(Change(name, f"returns {b['returns']} (was {a['returns']})", True))
        if a.get("unverified") != b.get("unverified"):
            out.append(Change(name, "now unverified" if b.get("unverified") else "now verified", False))
        out += _args(name, a["args"], b["args"])
    oo, no = old.get("models", {}), new.get("models", {})
    for name in sorted(oo.keys() - no.keys()):
        out.append(Change(name, "model removed", True))
    for name in sorted(no.keys() - oo.keys()):
        out.append(Change(name, "model added", False))
    for name in sorted(oo.keys() & no.keys()):
        a, b = oo[name], no[name]
        if "enum" in a or "enum" in b:
            if a.get("enum") != b.get("enum"):
                removed = set(a.get("enum") or []) - set(b.get("enum") or [])
                out.append(Change(name, f"enum {a.get('enum')} -> {b.get('enum')}", bool(removed)))
            continue
        out += _fields(name, b["side"], a["fields"], b["fields"])
    return out


def is_intended(change: Change, intended: list[str]) -> bool:
    return any(change.subject == w or change.subject.startswith(w + ".") for w in intended)


def report(changes: list[Change], intended: list[str], limit: int | None = 60) -> tuple[str, int]:
    """The summary text, and how many breaking changes are not intended."""
    if not changes:
        return "public API: no change", 0
    unintended = [c for c in changes if c.breaking and not is_intended(c, intended)]
    breaking = sum(c.breaking for c in changes)
    added = sum(1 for c in changes if not c.breaking)
    head = f"public API: {len(changes)} changes: {added} compatible, {breaking} breaking"
    if breaking:
        head += f" ({len(unintended)} not named in spec/api.yaml intended_changes)"
    lines = [head]
    ordered = sorted(changes, key=lambda c: (not (c.breaking and c in unintended), not c.breaking, c.subject))
    shown = ordered if limit is None else ordered[:limit]
    lines += [c.line(intended=c.breaking and c not in unintended) for c in shown]
    if len(shown) < len(ordered):
        lines.append(f"  ... and {len(ordered) - len(shown)} more (python -m codegen.api_diff for all)")
    return "\n".join(lines), len(unintended)


# -- where the old manifest comes from -----------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def resolve_base(base: str) -> str | None:
    """A git revision to compare with: ``auto`` is the newest ``v*`` tag, else the previous commit."""
    if base != "auto":
        return base
    tag = _git("describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD")
    if tag:
        return tag.strip()
    return "HEAD~1" if _git("rev-parse", "--verify", "--quiet", "HEAD~1") else None


def manifest_at(rev: str) -> dict[str, Any] | None:
    """The manifest committed at ``rev`` (None when that revision has none)."""
    text = _git("show", f"{rev}:{MANIFEST}")
    return json.loads(text) if text else None


def intended_changes(spec_dir: Path = ROOT / "spec") -> list[str]:
    return [c.what for c in load_api(spec_dir / "api.yaml").intended_changes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare the public API with a git revision's.")
    parser.add_argument("--base", default="auto", help="git revision (default: newest v* tag, else HEAD~1)")
    parser.add_argument("--check", action="store_true", help="fail on breaking changes not intended")
    parser.add_argument("--all", action="store_true", help="list every change, not the first 60")
    args = parser.parse_args(argv)
    rev = resolve_base(args.base)
    old = manifest_at(rev) if rev else None
    if old is None:
        print(f"public API: nothing to compare with ({rev or 'no earlier commit'} has no {MANIFEST})")
        return 0
    new = json.loads((ROOT / MANIFEST).read_text(encoding="utf-8"))
    try:
        intended = intended_changes()
    except SpecError as exc:
        print(f"spec error:\n{exc}", file=sys.stderr)
        return 1
    text, unintended = report(compare(old, new), intended, None if args.all else 60)
    print(f"against {rev}: {text}")
    if args.check and unintended:
        print(
            f"{unintended} breaking change(s) not marked as intended: keep the old surface, or add "
            "{what: <subject>, reason: ...} to intended_changes in spec/api.yaml",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
