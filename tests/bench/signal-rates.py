#!/usr/bin/env python3
"""How often each finding code fires on the benign crate changes of the real-PR corpus.

Reads the per-case JSON lines of a fetched run of tests/bench/real-prs.sh (`--out FILE`) and
prints, per code, on how many distinct updated crate versions (old -> new) and added crate
versions it fires (any level) and how many of those at `deny`, with the share of all
updates / additions. Every pull request of the corpus is benign, so every hit is a false
alarm unless the labels say otherwise (the codes the labels justify are listed apart).

    tests/bench/real-prs.sh --fetch --cache-dir DIR --out /tmp/fetched.jsonl
    tests/bench/signal-rates.py /tmp/fetched.jsonl [--codes runtime-exfiltration,...]
"""
import argparse
import json
from collections import defaultdict

CRATE_CODES_SKIPPED = {"mixed-pr", "requirement-raised", "policy-changed", "policy-ignore", "policy-invalid"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jsonl")
    ap.add_argument("--codes", help="comma-separated codes to show (default: every code seen)")
    args = ap.parse_args()
    updates, added = set(), set()
    fired = defaultdict(lambda: {"updated": set(), "added": set(), "updated_deny": set(), "added_deny": set(),
                                 "examples": set()})
    for line in open(args.jsonl):
        r = json.loads(line)
        if "error" in r:
            continue
        kind_of = {}
        for c in r["changes"]:
            if c.get("source") != "crates.io":
                continue
            if c["change"] == "updated":
                key = (c["name"], c["old"], c["new"])
                updates.add(key)
                kind_of[(c["lockfile"], c["name"], c["new"])] = ("updated", key)
            elif c["change"] in ("added", "source-changed"):
                key = (c["name"], c["new"])
                added.add(key)
                kind_of[(c["lockfile"], c["name"], c["new"])] = ("added", key)
        for f in r["findings"]:
            if f["code"] in CRATE_CODES_SKIPPED or f["code"].startswith("advisory-"):
                continue
            hit = kind_of.get((f.get("lockfile"), f.get("crate"), f.get("version")))
            if not hit:
                continue
            kind, key = hit
            slot = fired[f["code"]]
            slot[kind].add(key)
            if f["level"] == "deny":
                slot[kind + "_deny"].add(key)
                slot["examples"].add(" ".join(x for x in key if x))
    wanted = set(args.codes.split(",")) if args.codes else None
    nu, na = len(updates), len(added)
    print(f"{nu} distinct crates.io updates, {na} distinct added crates.io versions\n")
    print("| code | updates it fires on | at deny | added crates it fires on | at deny | deny examples |")
    print("|---|---|---|---|---|---|")
    pct = lambda n, d: f"{n} ({100 * n / d:.2f} %)" if d else str(n)
    for code in sorted(fired):
        if wanted and code not in wanted:
            continue
        s = fired[code]
        ex = ", ".join(sorted(s["examples"])[:4])
        print(f"| `{code}` | {pct(len(s['updated']), nu)} | {len(s['updated_deny'])} | "
              f"{pct(len(s['added']), na)} | {len(s['added_deny'])} | {ex} |")


if __name__ == "__main__":
    main()
