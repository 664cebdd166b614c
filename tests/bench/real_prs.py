#!/usr/bin/env python3
"""Noise benchmark: lockwatch on the real pull requests of tests/corpus/.

For each case, rebuild a throwaway git repository (tests/corpus/corpus.py materialize), run
`lockwatch check --repo DIR --base B --head H --format json`, and compare the result with the
hand labels of tests/corpus/labels.toml. See docs/benchmarks/real-prs.md.

Standard library only (python3.11+). Run through tests/bench/real-prs.sh.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import lzma
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import corpus  # noqa: E402

DENY_WORTHY = {"advisory-vulnerability", "advisory-malicious", "build-capability", "typosquat",
               "checksum-changed"}
ADVISORY_CODES = {"advisory-vulnerability", "advisory-malicious", "advisory-unsound",
                  "advisory-unmaintained", "advisory-notice"}


def default_db() -> str:
    for p in (ROOT.parent / "shared" / "advisory-db", Path("/work/shared/advisory-db")):
        if p.is_dir():
            return str(p)
    return str(ROOT.parent / "shared" / "advisory-db")


def run_case(case: dict, args) -> dict:
    t0 = time.monotonic()
    rec = {"id": case["id"], "repo": case["repo"], "commit": case["commit"],
           "mode": "fetched" if args.fetch else "offline"}
    with tempfile.TemporaryDirectory(prefix="lw-corpus-") as tmp:
        repo = Path(tmp) / "repo"
        base, head = corpus.materialize(case, repo)
        cmd = [args.bin, "check", "--repo", str(repo), "--base", base, "--head", head,
               "--format", "json", "--advisory-db", args.advisory_db]
        if args.fetch:
            cmd += ["--cache-dir", args.cache_dir]
        else:
            cmd += ["--offline", "--cache-dir", str(Path(tmp) / "cache")]
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=args.timeout, env=env)
        except subprocess.TimeoutExpired:
            rec.update(error=f"timeout after {args.timeout}s", seconds=round(time.monotonic() - t0, 1))
            return rec
    rec["exit"] = p.returncode
    rec["seconds"] = round(time.monotonic() - t0, 1)
    try:
        review = json.loads(p.stdout)
    except json.JSONDecodeError:
        rec["error"] = "no JSON on stdout: " + p.stderr.decode("utf-8", "replace")[-500:]
        return rec
    rec["verdict"] = review.get("verdict")
    rec["summary"] = review.get("summary")
    rec["notes"] = review.get("notes", [])
    changes = []
    changed_names: dict[str, set[str]] = defaultdict(set)
    for lf in review.get("lockfiles", []):
        for c in lf.get("changes", []):
            changed_names[lf["path"]].add(c["name"])
            changes.append({"lockfile": lf["path"], **{k: c.get(k) for k in
                            ("name", "change", "old", "new", "update", "source", "old_source")}})
    rec["changes"] = changes
    findings = []
    for f in review.get("findings", []):
        adv = f.get("advisory") or {}
        row = {
            "code": f["code"], "level": f["level"], "crate": f.get("crate"),
            "version": f.get("version"), "lockfile": f.get("lockfile"),
            "message": (f.get("message") or "")[:400],
            "evidence": [(e.get("text") or "")[:240] for e in (f.get("evidence") or [])[:6]],
        }
        if adv:
            row["advisory"] = {k: adv.get(k) for k in ("id", "status", "category")}
        if f["code"] in ADVISORY_CODES and f.get("crate"):
            # Untouched: the pull request did not change this crate in this lock file.
            row["untouched"] = f["crate"] not in changed_names.get(f.get("lockfile") or "", set())
        findings.append(row)
    rec["findings"] = findings
    return rec


# ---------------------------------------------------------------------------------------------
# judging results against the labels


def load_labels() -> tuple[dict[str, dict], dict[str, dict]]:
    doc = tomllib.loads(corpus.LABELS_TOML.read_text())
    cases = {c["id"]: c for c in doc.get("case", [])}
    scripts = {b["crate"]: b for b in doc.get("build_script", [])}
    return cases, scripts


def introduced_match(label: dict, f: dict) -> bool:
    """Is this finding one the labels say the pull request really introduced?"""
    for i in label.get("introduces", []):
        if i.get("code") != f["code"] or i.get("crate") != f.get("crate"):
            continue
        if "version" in i and i["version"] != f.get("version"):
            continue
        if "id" in i and i["id"] != (f.get("advisory") or {}).get("id"):
            continue
        return True
    return False


def cause_key(f: dict) -> str:
    if f["code"] in ADVISORY_CODES:
        return f"{f['code']} ({'untouched crate' if f.get('untouched') else 'changed crate'})"
    return f["code"]


def deny_justified(label: dict, f: dict) -> bool:
    if f["code"] == "mixed-pr":
        return bool(label.get("unrelated_bumps"))
    return introduced_match(label, f)


def pct(a: int, b: int) -> str:
    return "n/a" if b == 0 else f"{100.0 * a / b:.0f} %"


def report(records: list[dict], labels: dict[str, dict], scripts: dict[str, dict], mode: str) -> str:
    out = []
    ok = [r for r in records if "error" not in r]
    errors = [r for r in records if "error" in r]
    verdicts = Counter(r["verdict"] for r in ok)
    fails = [r for r in ok if r["verdict"] == "fail"]

    false_fail_cases = []
    cause_cases: dict[str, set[str]] = defaultdict(set)
    sole_cause: Counter = Counter()
    unjustified_findings: Counter = Counter()
    for r in ok:
        lab = labels[r["id"]]
        denies = [f for f in r["findings"] if f["level"] == "deny"]
        bad = [f for f in denies if not deny_justified(lab, f)]
        for f in bad:
            unjustified_findings[cause_key(f)] += 1
        if r["verdict"] != "fail":
            continue
        if len(bad) == len(denies):  # nothing justified failed it
            false_fail_cases.append(r)
            keys = {cause_key(f) for f in bad}
            for k in keys:
                cause_cases[k].add(r["id"])
            if len(keys) == 1:
                sole_cause[next(iter(keys))] += 1
    expected = [r for r in ok if labels[r["id"]]["expected_fail"]]
    caught = [r for r in expected if r["verdict"] == "fail"]
    caught_for_reason = [r for r in caught if any(
        f["level"] == "deny" and f["code"] != "mixed-pr" and introduced_match(labels[r["id"]], f)
        for f in r["findings"])]
    split_expected = [r for r in ok if labels[r["id"]]["unrelated_bumps"]]

    def split_requested(r: dict) -> bool:
        return any(f["code"] == "mixed-pr" and f["level"] != "allow" for f in r["findings"])

    tp = sum(1 for r in ok if split_requested(r) and labels[r["id"]]["unrelated_bumps"])
    fp_cases = [r for r in ok if split_requested(r) and not labels[r["id"]]["unrelated_bumps"]]
    fn_cases = [r for r in ok if not split_requested(r) and labels[r["id"]]["unrelated_bumps"]]
    negatives = [r for r in ok if not labels[r["id"]]["unrelated_bumps"]]
    dep_only = [r for r in ok if labels[r["id"]]["dependency_only"]]
    dep_only_split = [r for r in dep_only if split_requested(r)]

    bc_deny = [(r["id"], f) for r in ok for f in r["findings"]
               if f["code"] == "build-capability" and f["level"] == "deny"]
    bc_ordinary = [(i, f) for i, f in bc_deny if scripts.get(f["crate"], {}).get("verdict") == "ordinary"]
    bc_unlabelled = sorted({f["crate"] for _, f in bc_deny if f["crate"] not in scripts})
    typo = [(r["id"], f) for r in ok for f in r["findings"]
            if f["code"] == "typosquat" and f["level"] != "allow"
            and not introduced_match(labels[r["id"]], f)]
    typo_deny = [(i, f) for i, f in typo if f["level"] == "deny"]

    n = len(ok)
    out.append(f"### {mode}: {n} cases" + (f" ({len(errors)} did not run)" if errors else ""))
    out.append("")
    out.append("| measure | value |")
    out.append("|---|---|")
    out.append(f"| verdicts | fail {verdicts['fail']}, warn {verdicts['warn']}, pass {verdicts['pass']} |")
    out.append(f"| fail | {len(fails)} ({pct(len(fails), n)}) |")
    out.append(f"| fail without having introduced anything deny-worthy (false failures) | "
               f"{len(false_fail_cases)} ({pct(len(false_fail_cases), n)}) |")
    still_only = [r for r in expected if all(
        i.get("status") == "still-affected" for i in labels[r["id"]].get("introduces", [])
        if i["code"] in DENY_WORTHY)]
    out.append(f"| labelled `expected_fail` ({len(still_only)} of them only for still-affected advisories): "
               f"fail / fail with a labelled deny finding | {len(caught)} / {len(caught_for_reason)} of "
               f"{len(expected)} |")
    untouched_only = sole_cause.get("advisory-vulnerability (untouched crate)", 0)
    out.append(f"| false failures caused only by advisories on untouched crates | {untouched_only} |")
    out.append(f"| `build-capability` deny findings on well-known crates' ordinary build scripts | "
               f"{len(bc_ordinary)} findings in {len({i for i, _ in bc_ordinary})} cases "
               f"({len({f['crate'] for _, f in bc_ordinary})} crates) |")
    out.append(f"| split requests: precision | {pct(tp, tp + len(fp_cases))} ({tp} of {tp + len(fp_cases)}) |")
    out.append(f"| split requests: recall (of {len(split_expected)} PRs with unrelated bumps) | "
               f"{pct(tp, len(split_expected))} ({tp} of {len(split_expected)}) |")
    out.append(f"| false split requests | {len(fp_cases)} of {len(negatives)} ({pct(len(fp_cases), len(negatives))}) |")
    out.append(f"| false split requests on dependency-only PRs | {len(dep_only_split)} of {len(dep_only)} |")
    out.append(f"| typosquat findings on legitimate crates | {len(typo)} ({len(typo_deny)} deny) in "
               f"{len({i for i, _ in typo})} cases |")
    out.append("")
    out.append("False failures by the deny finding that caused them (a case counts under each code it "
               "was denied for; *only* = that code alone failed it):")
    out.append("")
    out.append("| finding | false-failure cases | only cause | unjustified deny findings (all cases) |")
    out.append("|---|---|---|---|")
    keys = sorted(set(cause_cases) | set(unjustified_findings),
                  key=lambda k: (-len(cause_cases.get(k, ())), k))
    for k in keys:
        out.append(f"| `{k}` | {len(cause_cases.get(k, ()))} | {sole_cause.get(k, 0)} | "
                   f"{unjustified_findings.get(k, 0)} |")
    out.append("")
    if bc_deny:
        by_crate = Counter(f["crate"] for _, f in bc_deny)
        out.append("`build-capability` deny by crate (label: ordinary / unusual / unlabelled): " + ", ".join(
            f"{c} {k} ({scripts.get(c, {}).get('verdict', 'unlabelled')})" for c, k in by_crate.most_common()))
        out.append("")
    if bc_unlabelled:
        out.append("Unlabelled build scripts (add a `[[build_script]]` label): " + ", ".join(bc_unlabelled))
        out.append("")
    if typo:
        names = Counter(f"{f['crate']} ({f['level']})" for _, f in typo)
        out.append("Typosquat findings on legitimate crates: " + ", ".join(
            f"{k} x{v}" if v > 1 else k for k, v in sorted(names.items())))
        out.append("")
    if fp_cases:
        out.append("False split requests: " + ", ".join(
            f"{r['id']} ({labels[r['id']]['kind']})" for r in fp_cases))
        out.append("")
    if fn_cases:
        out.append("Missed split requests: " + ", ".join(r["id"] for r in fn_cases))
        out.append("")
    missed = [r for r in expected if r not in caught_for_reason]
    if missed:
        out.append("Expected failures without a labelled deny finding: " + ", ".join(
            f"{r['id']} ({r['verdict']})" for r in missed))
        out.append("")
    if errors:
        out.append("Did not run: " + "; ".join(f"{r['id']}: {r['error'][:200]}" for r in errors))
        out.append("")
    out.append("By kind:")
    out.append("")
    out.append("| kind | cases | fail | false failures | split requests (right / wrong) |")
    out.append("|---|---|---|---|---|")
    false_ids = {r["id"] for r in false_fail_cases}
    for kind in sorted({labels[r["id"]]["kind"] for r in ok}):
        rows = [r for r in ok if labels[r["id"]]["kind"] == kind]
        right = sum(1 for r in rows if split_requested(r) and labels[r["id"]]["unrelated_bumps"])
        wrong = sum(1 for r in rows if split_requested(r) and not labels[r["id"]]["unrelated_bumps"])
        out.append(f"| {kind} | {len(rows)} | {sum(1 for r in rows if r['verdict'] == 'fail')} | "
                   f"{sum(1 for r in rows if r['id'] in false_ids)} | {right} / {wrong} |")
    out.append("")
    adv = Counter()
    for r in false_fail_cases:
        for f in r["findings"]:
            if f["level"] == "deny" and f["code"] == "advisory-vulnerability" and f.get("untouched"):
                adv[f"{(f.get('advisory') or {}).get('id')} {f['crate']}"] += 1
    if adv:
        top = adv.most_common(15)
        more = f", and {len(adv) - len(top)} more" if len(adv) > len(top) else ""
        out.append("Advisories on untouched crates behind false failures (cases): " + ", ".join(
            f"{k} ({v})" for k, v in top) + more)
        out.append("")
    return "\n".join(out)


def updates_rows(records: list[dict]) -> list[dict]:
    """One row per updated crate: the change and the findings on that crate, as the JSON gives them."""
    rows = []
    for r in records:
        if "error" in r:
            continue
        by_crate: dict[tuple, list] = defaultdict(list)
        for f in r["findings"]:
            by_crate[(f.get("lockfile"), f.get("crate"))].append(
                {k: f[k] for k in ("code", "level", "version", "message", "evidence") if k in f})
        for c in r["changes"]:
            if c["change"] != "updated":
                continue
            rows.append({"case": r["id"], **c, "findings": by_crate.get((c["lockfile"], c["name"]), [])})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("LOCKWATCH_BIN"),
                    help="the lockwatch binary (default: $LOCKWATCH_BIN, else target/release/lockwatch)")
    ap.add_argument("--fetch", action="store_true",
                    default=os.environ.get("LOCKWATCH_BENCH_FETCH") == "1",
                    help="fetch crates from the real crates.io (needs the network; $LOCKWATCH_BENCH_FETCH=1)")
    ap.add_argument("--cache-dir", default=os.environ.get(
        "LOCKWATCH_BENCH_CACHE", str(Path.home() / ".cache" / "lockwatch-bench")),
        help="crate and index cache for --fetch (reruns are cheap)")
    ap.add_argument("--advisory-db", default=os.environ.get("LOCKWATCH_BENCH_DB", default_db()))
    ap.add_argument("--out", help="per-case results, JSON lines (default: target/real-prs/MODE.jsonl)")
    ap.add_argument("--updates", help="also write one JSON line per updated crate (for issue 17)")
    ap.add_argument("--cases", help="comma-separated case ids (default: all)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--from-jsonl", help="do not run: report on an earlier --out file (.xz is fine)")
    args = ap.parse_args()
    mode = "fetched" if args.fetch else "offline"

    labels, scripts = load_labels()
    cases = corpus.load_cases()
    if args.cases:
        wanted = set(args.cases.split(","))
        cases = [c for c in cases if c["id"] in wanted]
    missing = [c["id"] for c in cases if c["id"] not in labels]
    if missing:
        sys.exit(f"cases without a label: {', '.join(missing)}")

    if args.from_jsonl:
        raw = Path(args.from_jsonl).read_bytes()
        if args.from_jsonl.endswith(".xz"):
            raw = lzma.decompress(raw)
        records = [json.loads(l) for l in raw.decode().splitlines() if l.strip()]
        records.sort(key=lambda r: r["id"])
        mode = records[0]["mode"] if records else mode
    else:
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        args.bin = args.bin or str(target / "release" / "lockwatch")
        if not os.access(args.bin, os.X_OK):
            sys.exit(f"{args.bin}: not an executable (build it: cargo build --release -p lockwatch)")
        out = Path(args.out or target / "real-prs" / f"{mode}.jsonl")
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.fetch:
            Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
        records = []
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool, out.open("w") as fh:
            futures = {pool.submit(run_case, c, args): c for c in cases}
            for i, fut in enumerate(concurrent.futures.as_completed(futures), 1):
                try:
                    rec = fut.result()
                except Exception as e:  # a broken case must not stop the run
                    c = futures[fut]
                    rec = {"id": c["id"], "repo": c["repo"], "commit": c["commit"], "mode": mode,
                           "error": f"{type(e).__name__}: {e}"}
                records.append(rec)
                fh.write(json.dumps(rec, sort_keys=True) + "\n")
                fh.flush()
                print(f"[{i}/{len(cases)}] {rec['id']}: {rec.get('verdict', rec.get('error'))} "
                      f"({rec.get('seconds')} s)", file=sys.stderr)
        records.sort(key=lambda r: r["id"])
        print(f"per-case results: {out} ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
        print(f"binary: {args.bin}", file=sys.stderr)
    if args.updates:
        with open(args.updates, "w") as fh:
            for row in updates_rows(records):
                fh.write(json.dumps(row, sort_keys=True) + "\n")
    print(report(records, labels, scripts, mode))


if __name__ == "__main__":
    main()
