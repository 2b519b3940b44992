"""Draft the per-endpoint part of spec/api.yaml's error table from TikTok's endpoint pages.

    python -m codegen.draft_errors --reference DIR       # DIR: the folder of reference facts

TikTok's pages list, per endpoint, the codes it may answer with. This writes every such code that
the hand-written part of the table does not already have, between the two marker lines of
``errors`` in spec/api.yaml: its exception class (chosen from what the code says: a transient
failure, a missing resource, a refused permission, too many requests, or else a bad request),
``retry`` for transient ones, a short meaning (the page's statement, stripped of advice and
condensed), and the endpoints that document it. An entry already between the markers is kept as
it stands, so reviewed lines survive a re-run. Review the diff before committing it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "spec" / "api.yaml"
BEGIN = "  # -- documented on endpoint pages: drafted by `python -m codegen.draft_errors`, reviewed --"
END = "  # -- end of the codes documented on endpoint pages --"

_CLASSES: list[tuple[str, re.Pattern[str]]] = [
    (
        "RateLimitError",
        re.compile(
            r"too many requests|request is limited|rate limit|\bqps\b|request frequency|call\w* .*too many",
            re.I,
        ),
    ),
    (
        "ServerError",
        re.compile(
            r"internal (server )?error|internal .* error|system (process )?error|system timeout|system busy"
            r"|timed? ?out|try again later|please retry|retry later|multiple retr|service (is )?unavailable"
            r"|\bapi internal|\bdb access|access db|lock failed|\brpc \S+ failed|downstream data",
            re.I,
        ),
    ),
    (
        "NotFoundError",
        re.compile(r"not (be )?found|not exist|does not exist|doesn't exist|no such|cannot be found", re.I),
    ),
    (
        "PermissionDeniedError",
        re.compile(
            r"permission|not authori[sz]ed|unauthori[sz]ed|access denied|forbidden|no access right", re.I
        ),
    ),
]
_ADVICE = re.compile(
    r"^(please|if |you may|you can|try |refer |for more|contact|note:|check |kindly|make sure|ensure )", re.I
)


#: Codes whose message reads as transient but is not: repeating the same call cannot succeed.
_NOT_TRANSIENT = {
    10007002: "BadRequestError",  # the order's status forbids the update
    21011037: "BadRequestError",  # no shipping service fits: change the package or address
}


def classify(messages: list[str], code: int = 0) -> str:
    """The exception class for a code, from what its messages say."""
    if code in _NOT_TRANSIENT:
        return _NOT_TRANSIENT[code]
    text = " ".join(messages)
    for cls, pattern in _CLASSES:
        if pattern.search(text):
            return cls
    return "BadRequestError"


_WORDING = [
    (re.compile(r"\b(is |are )?not exists?\b", re.I), "does not exist"),
    (re.compile(r"(?<=[a-z] )not support(ed)?(?=\.?$)"), "is not supported"),
    (re.compile(r"^not support(ed)?\b", re.I), "Not supported"),
    (re.compile(r"\bdoes't\b"), "doesn't"),
    (re.compile(r"\b(\w+) \1\b"), r"\1"),
    (re.compile(r"\bagagin\b"), "again"),
]


def condense(message: str) -> str:
    """The statement of a message: its first sentence without advice, as one short sentence."""
    text = " ".join(message.replace("`", "").split())
    for pattern, repl in _WORDING:
        text = pattern.sub(repl, text)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    kept = [s for s in sentences if not _ADVICE.match(s)] or sentences[:1]
    first = kept[0] if kept else text
    first = re.split(r",\s*(pleaser?|if |you may|kindly)\b", first, maxsplit=1, flags=re.I)[0]
    first = first.rstrip(" .!,;:")
    if len(first) > 150:
        first = first[:150].rsplit(" ", 1)[0].rstrip(" ,;:")
    return (first[:1].upper() + first[1:] + ".") if first else "TikTok gave no description."


def entries(reference: Path, known: set[int]) -> dict[int, dict[str, object]]:
    """Every code of the endpoint pages not in ``known``: class, retry, meaning, operations."""
    docs = json.loads((reference / "docs.json").read_text(encoding="utf-8"))
    messages: dict[int, list[str]] = {}
    operations: dict[int, list[str]] = {}
    for e in docs["endpoints"]:
        for code, message in e["error_codes"].items():
            c = int(code)
            if c in known:
                continue
            if message not in messages.setdefault(c, []):
                messages[c].append(message)
            operations.setdefault(c, []).append(f"{e['method']} {e['path']}")
    out: dict[int, dict[str, object]] = {}
    for c in sorted(messages):
        cls = classify(messages[c], c)
        meanings: list[str] = []
        for m in messages[c]:
            short = condense(m)
            if short.lower() not in (x.lower() for x in meanings):
                meanings.append(short)
        entry: dict[str, object] = {"error": cls, "meaning": " / ".join(meanings[:2])}
        if cls in ("ServerError", "RateLimitError"):
            entry["retry"] = True
        entry["operations"] = sorted(set(operations[c]))
        out[c] = entry
    return out


def _line(code: int, entry: dict[str, object]) -> str:
    parts = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in entry.items()]
    return f"  {code}: {{{', '.join(parts)}}}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the drafted block of spec/api.yaml; raises SystemExit without the reference."""
    parser = argparse.ArgumentParser(description="Draft per-endpoint error codes into spec/api.yaml.")
    parser.add_argument("--reference", type=Path, required=True, help="the folder of reference facts")
    args = parser.parse_args(argv)
    if not (args.reference / "docs.json").is_file():
        raise SystemExit(f"{args.reference}: no docs.json here")
    text = API.read_text(encoding="utf-8")
    lines = text.splitlines()
    if BEGIN in lines:
        start, end = lines.index(BEGIN), lines.index(END)
        kept = {int(ln.split(":", 1)[0]): ln for ln in lines[start + 1 : end] if re.match(r"  \d+:", ln)}
    else:
        start = end = next(i for i, ln in enumerate(lines) if ln.startswith("# Client-side rate limits")) - 1
        kept = {}
        lines[start:start] = [BEGIN, END]
        start, end = start, start + 1
    hand = set(yaml.safe_load(text)["errors"]) - set(kept)
    drafted = entries(args.reference, hand)
    block = [kept.get(code) or _line(code, entry) for code, entry in drafted.items()]
    lines[start + 1 : end] = block
    API.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"spec/api.yaml: {len(block)} per-endpoint codes ({len(block) - len(set(kept) & set(drafted))} new)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
