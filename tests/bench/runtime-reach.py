#!/usr/bin/env python3
"""Measures the run-time reach rules (issue 17.6) on the real-world corpus.

Every crates.io crate that the 165 pull requests of tests/corpus update or add is inspected
by `app/examples/runtime_reach_corpus.rs` (the real `inspect_crate`, default limits); this
script then counts, per signal, the benign updates on which it is *new* (present in the new
version, absent from the old one) and the added crates on which it is present, and the
combinations that the engine raises to `deny`. All of the corpus is benign.

    tests/bench/runtime-reach.py --cache-dir DIR --bin PATH/examples/runtime_reach_corpus
    tests/bench/runtime-reach.py --from-jsonl reach.jsonl        # count again without inspecting

The crates must be in DIR/crates (the layout of lockwatch's cache; `tests/bench/real-prs.sh
--fetch --cache-dir DIR` fills it, or `--download` here does).
"""
import argparse, collections, concurrent.futures, hashlib, json, os, subprocess, sys, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import corpus  # noqa: E402
from corpus import Lock, lock_diff, src_of  # noqa: E402

KEYED = {"credential-path", "secret-var", "key-pattern", "exfil-host", "encoded-endpoint"}
SENSITIVE = {"credential-path", "secret-var", "key-pattern"}
OUTBOUND = {"network", "exfil-host"}


def corpus_changes():
    """(kind, name, old, old_sum, new, new_sum) rows, one per lock-file change in a case."""
    rows = []
    for c in corpus.load_cases():
        for p, (b, h) in corpus.stored_sides(c).items():
            if not corpus.is_lock(p):
                continue
            bl, hl = (Lock.parse(b) if b else None), (Lock.parse(h) if h else None)
            d = lock_diff(bl, hl)

            def ck(lock, name, ver):
                for q in (lock.packages if lock else []):
                    if q["name"] == name and q["version"] == ver and src_of(q) == "crates.io":
                        return q.get("checksum")

            for name, ov, nv, src in d.updated:
                if src == "crates.io":
                    rows.append(("updated", name, ov, ck(bl, name, ov), nv, ck(hl, name, nv)))
            for name, v, src in d.added:
                if src == "crates.io":
                    rows.append(("added", name, None, None, v, ck(hl, name, v)))
    return rows


def crate_path(cache, s):
    return Path(cache) / "crates" / s[:2] / s[2:4] / f"{s}.crate"


def download(cache, want):
    def get(item):
        s, (n, v) = item
        path = crate_path(cache, s)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        data = urllib.request.urlopen(f"https://static.crates.io/crates/{n}/{v}/download", timeout=120).read()
        if hashlib.sha256(data).hexdigest() == s:
            path.with_suffix(".tmp").write_bytes(data)
            os.replace(path.with_suffix(".tmp"), path)
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        list(ex.map(get, want.items()))


def kind_of(sig):
    return {"secret-var": "secret-var"}.get(sig["kind"], sig["kind"])


def keys(reach):
    out = collections.defaultdict(set)
    for s in reach.get("signals", []):
        out[s["kind"]].add(s["key"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache-dir", default=os.environ.get("LOCKWATCH_BENCH_CACHE", str(Path.home() / ".cache" / "lockwatch-bench")))
    ap.add_argument("--bin", help="the runtime_reach_corpus example binary")
    ap.add_argument("--download", action="store_true", help="download missing crates from crates.io first")
    ap.add_argument("--out", default="runtime-reach.jsonl", help="where the per-crate JSON lines go")
    ap.add_argument("--from-jsonl", help="count an earlier --out file instead of inspecting")
    ap.add_argument("--sample", type=int, help="only this many distinct updates (and half as many added crates)")
    ap.add_argument("--jobs", type=int, default=2, help="inspecting processes at once")
    ap.add_argument("--show", type=int, default=8, help="examples listed per signal")
    args = ap.parse_args()

    rows = corpus_changes()
    if args.sample:
        # A deterministic sample of distinct changes (by a hash of name and versions).
        distinct = sorted({r for r in rows}, key=lambda r: hashlib.sha256(repr(r[:5]).encode()).hexdigest())
        upd = [r for r in distinct if r[0] == "updated"][:args.sample]
        add = [r for r in distinct if r[0] == "added"][:args.sample // 2]
        rows = upd + add
    want = {}
    for _, name, ov, os_, nv, ns in rows:
        for v, s in ((ov, os_), (nv, ns)):
            if v and s:
                want[s] = (name, v)
    if args.download:
        download(args.cache_dir, want)
    if args.from_jsonl:
        lines = Path(args.from_jsonl).read_text().splitlines()
    else:
        listing = "".join(f"{n}\t{v}\t{crate_path(args.cache_dir, s)}\n" for s, (n, v) in sorted(want.items())
                          if crate_path(args.cache_dir, s).exists())
        parts = listing.splitlines(keepends=True)
        shards = ["".join(parts[i::args.jobs]) for i in range(args.jobs)]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            outs = list(ex.map(lambda text: subprocess.run(
                [args.bin], input=text.encode(), capture_output=True, check=True).stdout, shards))
        Path(args.out).write_bytes(b"".join(outs))
        lines = b"".join(outs).decode().splitlines()
    reach = {}
    ms = []
    for l in lines:
        r = json.loads(l)
        reach[(r["name"], r["version"])] = r
        ms.append((r["ms"], r["name"], r["version"]))

    def signals_of(name, v):
        r = reach.get((name, v))
        return None if r is None or "error" in r else r["runtime"]

    upd = collections.Counter()
    upd_ex = collections.defaultdict(list)
    add = collections.Counter()
    add_ex = collections.defaultdict(list)
    n_upd = n_add = 0
    seen_upd, seen_add = set(), set()
    cut = collections.Counter()
    for kind, name, ov, _, nv, _ in rows:
        new = signals_of(name, nv)
        if new is None:
            continue
        if kind == "updated":
            old = signals_of(name, ov)
            if old is None:
                continue
            if (name, ov, nv) in seen_upd:
                continue
            seen_upd.add((name, ov, nv))
            n_upd += 1
            ok, nk = keys(old), keys(new)
            fired = set()
            for k in nk:
                fresh = nk[k] - ok[k] if k in KEYED else (nk[k] if not ok[k] else set())
                if fresh:
                    fired.add(k)
            sens_new = any(nk[k] - ok[k] for k in SENSITIVE)
            out_new = any(nk[k] - ok[k] for k in OUTBOUND if k in KEYED) or (nk["network"] and not ok["network"])
            has_sens = any(nk[k] for k in SENSITIVE)
            has_out = any(nk[k] for k in OUTBOUND)
            if has_sens and has_out and (sens_new or out_new):
                fired.add("COMBO sensitive+outbound, one side new")
            for k in fired:
                upd[k] += 1
                upd_ex[k].append(f"{name} {ov}->{nv}: " + ", ".join(sorted(nk[k] - ok[k]))[:100] if k in nk else f"{name} {ov}->{nv}")
            if new.get("unread_count"):
                cut["updated: new version with unread library files"] += 1
            if new.get("unparsed_markers"):
                cut["updated: markers in unparsed text"] += 1
        else:
            if (name, nv) in seen_add:
                continue
            seen_add.add((name, nv))
            n_add += 1
            nk = keys(new)
            fired = {k for k in nk if nk[k]}
            if any(nk[k] for k in SENSITIVE) and any(nk[k] for k in OUTBOUND):
                fired.add("COMBO sensitive+outbound")
            for k in fired:
                add[k] += 1
                add_ex[k].append(f"{name} {nv}: " + ", ".join(sorted(nk.get(k, [])))[:100])
            if new.get("unread_count"):
                cut["added: unread library files"] += 1
            if new.get("unparsed_markers"):
                cut["added: markers in unparsed text"] += 1
    print(f"distinct benign updates inspected on both sides: {n_upd}; distinct added crates: {n_add}")
    print()
    print("| signal | updates where it is new | added crates where present |")
    print("|---|---|---|")
    for k in sorted(set(upd) | set(add)):
        print(f"| {k} | {upd[k]} ({100 * upd[k] / max(n_upd, 1):.2f} %) | {add[k]} ({100 * add[k] / max(n_add, 1):.2f} %) |")
    print()
    for k in sorted(upd):
        print(f"updates, {k}: " + "; ".join(upd_ex[k][:args.show]))
    for k in sorted(add):
        print(f"added, {k}: " + "; ".join(add_ex[k][:args.show]))
    print()
    for k, v in sorted(cut.items()):
        print(f"{k}: {v}")
    ms.sort(reverse=True)
    total = sum(m for m, _, _ in ms)
    print(f"inspection time: {total / 1000:.1f} s for {len(ms)} crates; slowest: " +
          ", ".join(f"{n} {v} {m} ms" for m, n, v in ms[:5]))
    errors = sum(1 for r in reach.values() if "error" in r)
    print(f"crates not inspected (archive errors or budgets): {errors}")


if __name__ == "__main__":
    main()
