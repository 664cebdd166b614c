#!/usr/bin/env python3
"""Which crates of real lock files look like a popular crate, and what lockwatch says about
them with and without registry evidence (opt-in: the second step needs the network).

For each lock file it asks `lockwatch check --offline` which of its crates.io packages would
be a `typosquat` finding if a pull request added them to an empty project (name evidence
only). It then writes one lock file with just those packages and reviews it with crates
fetched from crates.io, as the App and the Action do: the registry evidence (first release,
number of releases, repository of both crates) decides the level. One Markdown row per crate.

    cargo build -p lockwatch
    python3 tests/bench/typosquat-real-locks.py [--lockwatch target/debug/lockwatch] LOCK...

Lock files of public projects can be read from their repositories, e.g.
`git show HEAD:Cargo.lock > deno.lock`.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
BASE = 'version = 3\n\n[[package]]\nname = "bench-app"\nversion = "0.1.0"\n'


def packages(lock_text: str):
    """(name, version, checksum) of every crates.io package of a lock file."""
    out = []
    for block in lock_text.split("[[package]]")[1:]:
        fields = dict(re.findall(r'^(\w+) = "([^"]*)"', block, re.M))
        if fields.get("source") == CRATES_IO and "checksum" in fields:
            out.append((fields["name"], fields["version"], fields["checksum"]))
    return out


def lock_of(pkgs) -> str:
    deps = "".join(f'\n "{n} {v}",' for n, v, _ in pkgs)
    text = BASE + f"dependencies = [{deps}\n]\n"
    for n, v, c in sorted(pkgs):
        text += f'\n[[package]]\nname = "{n}"\nversion = "{v}"\nsource = "{CRATES_IO}"\nchecksum = "{c}"\n'
    return text


def review(lockwatch, head_text, tmp, extra):
    base, head = os.path.join(tmp, "base.lock"), os.path.join(tmp, "Cargo.lock")
    with open(base, "w") as f:
        f.write(BASE)
    with open(head, "w") as f:
        f.write(head_text)
    cmd = [lockwatch, "check", "--format", "json", "--base-lock", base, "--head-lock", head,
           "--cache-dir", os.path.join(tmp, "cache")] + extra
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"lockwatch failed: {run.stderr}")
    return {f["crate"]: f for f in json.loads(run.stdout)["findings"] if f["code"] == "typosquat"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lockwatch", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "lockwatch"))
    ap.add_argument("--advisory-db", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "advisory-db"))
    ap.add_argument("locks", nargs="+")
    args = ap.parse_args()
    db = ["--advisory-db", args.advisory_db]
    seen = {}
    where = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.locks:
            pkgs = packages(open(path).read())
            offline = review(args.lockwatch, lock_of(pkgs), tmp, ["--offline"] + db)
            for n, v, c in pkgs:
                if n in offline:
                    seen.setdefault(n, (n, v, c, offline[n]))
                    where.setdefault(n, []).append(os.path.basename(path).removesuffix(".lock"))
        flagged = [(n, v, c) for n, v, c, _ in seen.values()]
        fetched = review(args.lockwatch, lock_of(flagged), tmp, db) if flagged else {}
    print("| crate | version | in | looks like | offline | with registry evidence | evidence |")
    print("|---|---|---|---|---|---|---|")
    counts = {}
    for n, v, _, off in sorted(seen.values()):
        f = fetched.get(n)
        level = f["level"] if f else "(none)"
        counts[level] = counts.get(level, 0) + 1
        target = off["message"].split(" looks like ", 1)[1].split(",  but")[0]
        target = target.split(", but")[0].split(", and")[0]
        ev = [e["text"] for e in (f or off)["evidence"] if e["text"].startswith(("registry:", "repository", f"`{n}` declares"))]
        cell = "<br>".join(e.replace("|", "\\|") for e in ev)
        print(f"| {n} | {v} | {', '.join(where[n])} | {target} | {off['level']} | {level} | {cell} |")
    print()
    print(f"{len(seen)} crates flagged by name; with registry evidence: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
