"""The workspace's minimum Rust version, checked offline with this machine's one toolchain:

    cargo metadata --locked --format-version 1 | python3 .ci/check_msrv.py

Every locked dependency that declares a `rust-version` must declare one no newer than the
workspace's (else a build with that Rust fails). Clippy's `incompatible_msrv` lint
(denied in Cargo.toml) covers the workspace's own use of newer std APIs, and ci.yml's
`msrv` job builds everything with that Rust on GitHub.
"""

import json
import sys


def version(v):
    return tuple(int(x) for x in v.split("."))[:3] + (0,) * (3 - len(v.split(".")))


def main():
    meta = json.load(sys.stdin)
    members = set(meta["workspace_members"])
    declared = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
    if len(declared) != 1 or None in declared:
        sys.exit(f"msrv: workspace members declare {sorted(map(str, declared))}, want one rust-version")
    (msrv,) = declared
    newer = [
        f"{p['name']} {p['version']} needs Rust {p['rust_version']}"
        for p in meta["packages"]
        if p.get("rust_version") and version(p["rust_version"]) > version(msrv)
    ]
    if newer:
        sys.exit(f"msrv: rust-version is {msrv}, but " + "; ".join(sorted(newer)))
    highest = max(
        (version(p["rust_version"]), p["name"])
        for p in meta["packages"]
        if p.get("rust_version") and p["id"] not in members
    )
    print(
        f"msrv: {len(meta['packages'])} packages, none needs a Rust newer than {msrv} "
        f"(the highest, {highest[1]}, needs {'.'.join(map(str, highest[0]))})"
    )


if __name__ == "__main__":
    main()
