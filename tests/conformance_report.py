"""Report the spec's disagreements with the reference snapshot (tests/reference/).

    python -m tests.conformance_report                 # counts per domain and source, new and fixed gaps
    python -m tests.conformance_report --list          # also every disagreement, one a line
    python -m tests.conformance_report --domain order --source docs --list
    python -m tests.conformance_report --write-baseline   # rewrite tests/reference/known_gaps.json

Each line: ``[source] domain: METHOD /path key: reference VALUE, spec VALUE``. The rules are in
tests/conformance.py and spec/README.md ("Conformance"). Exit status 1 when there are gaps that
the baseline does not list, or baseline entries that are fixed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from tests.conformance import SOURCES, all_gaps, domain_of, load_baseline, write_baseline


def main(argv: list[str] | None = None) -> int:
    """Print the report; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print every disagreement")
    parser.add_argument("--domain", help="only this domain")
    parser.add_argument("--source", choices=SOURCES, help="only this source")
    parser.add_argument("--write-baseline", action="store_true", help="rewrite known_gaps.json")
    args = parser.parse_args(argv)
    everything = all_gaps()
    if args.write_baseline:
        write_baseline(everything)
        print(f"wrote tests/reference/known_gaps.json: {len(everything)} known gaps")
        return 0
    gaps = [
        g
        for g in everything
        if (args.domain is None or domain_of(g) == args.domain)
        and (args.source is None or g.source == args.source)
    ]
    counts = Counter((domain_of(g), g.source) for g in gaps)
    domains = sorted({d for d, _ in counts})
    print(f"{'domain':24}" + "".join(f"{s:>9}" for s in SOURCES) + f"{'total':>9}")
    for d in domains:
        row = [counts[(d, s)] for s in SOURCES]
        print(f"{d:24}" + "".join(f"{n:>9}" for n in row) + f"{sum(row):>9}")
    totals = [sum(counts[(d, s)] for d in domains) for s in SOURCES]
    print(f"{'total':24}" + "".join(f"{n:>9}" for n in totals) + f"{sum(totals):>9}")
    if args.list:
        for g in gaps:
            print(g.line(domain_of(g)))
    baseline = load_baseline()
    new = sorted(set(everything) - baseline)
    fixed = sorted(baseline - set(everything))
    print(f"\nnot in the baseline (new): {len(new)}; in the baseline but fixed: {len(fixed)}")
    for g in new:
        print("  new   " + g.line(domain_of(g)))
    for g in fixed:
        print("  fixed " + g.line(domain_of(g)))
    return 1 if new or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
