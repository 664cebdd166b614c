#!/usr/bin/env python3
"""The real-world corpus of pull requests that change a Cargo.lock.

Subcommands (python3.11+, standard library only; `git` on PATH):

  mine REPO [--since DATE]      candidate commits of a mirrored repository, one line each
  summary REPO COMMIT           what a commit does to its lock files and manifests (from the mirror)
  summary CASE_ID               the same, from the stored corpus
  build                         selection.txt + mirrors -> cases.json and blobs/ (rebuilds the data)
  verify                        every blob is there and hashes right; every case has a label
  materialize CASE_ID DIR       a throwaway git repository with a base and a head commit
  evidence                      cases.json + mirrors -> evidence.json (what the changed code says)
  index                         rewrite the archive list in cases.json from blobs/
  stats                         cases per repository and kind, label totals

Mirrors are bare clones at MIRRORS/OWNER+NAME/repo (default /work/.mirror, or $CORPUS_MIRRORS);
`git clone --bare https://github.com/OWNER/NAME MIRRORS/OWNER+NAME/repo` makes one.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import lzma
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES_JSON = HERE / "cases.json"
LABELS_TOML = HERE / "labels.toml"
SELECTION = HERE / "selection.txt"
EVIDENCE_JSON = HERE / "evidence.json"
BLOBS = HERE / "blobs"
DEFAULT_MIRRORS = os.environ.get("CORPUS_MIRRORS", "/work/.mirror")

# Lock files and manifests of other ecosystems: dependency files, not work.
OTHER_DEP_FILES = {
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "package.json",
    "poetry.lock", "uv.lock", "Pipfile.lock", "Pipfile", "requirements.txt", "pyproject.toml",
    "go.sum", "go.mod", "Gemfile.lock", "Gemfile", "composer.lock", "composer.json", "flake.lock",
    "deno.lock", "bun.lockb", "bun.lock", "pnpm-workspace.yaml",
}
TOOLCHAIN_FILES = {"rust-toolchain", "rust-toolchain.toml"}
DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")
STATUS_LETTER = {"added": "A", "modified": "M", "removed": "D"}


# ---------------------------------------------------------------------------------------------
# git


def git(repo: Path, *args: str, binary: bool = False) -> str | bytes:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True)
    return out.stdout if binary else out.stdout.decode("utf-8", "replace")


def mirror_path(repo: str, mirrors: str = DEFAULT_MIRRORS) -> Path:
    owner, name = repo.split("/")
    return Path(mirrors) / f"{owner}+{name}" / "repo"


def file_at(mirror: Path, rev: str, path: str) -> bytes | None:
    r = subprocess.run(["git", "-C", str(mirror), "show", f"{rev}:{path}"], capture_output=True)
    return r.stdout if r.returncode == 0 else None


def changed_files(mirror: Path, base: str, head: str) -> list[tuple[str, str]]:
    """(path, status) with status added/modified/removed; renames are removed + added."""
    raw = git(mirror, "diff", "--no-renames", "--name-status", "-z", base, head, binary=True)
    parts = raw.split(b"\0")
    out = []
    i = 0
    while i + 1 < len(parts):
        st, path = parts[i].decode(), parts[i + 1].decode("utf-8", "replace")
        i += 2
        status = {"A": "added", "D": "removed"}.get(st[0], "modified")
        out.append((path, status))
    return out


# ---------------------------------------------------------------------------------------------
# classification of paths


def basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def is_lock(path: str) -> bool:
    return basename(path) == "Cargo.lock"


def is_manifest(path: str) -> bool:
    return basename(path) == "Cargo.toml"


def path_kind(path: str) -> str:
    b = basename(path)
    if b == "Cargo.lock":
        return "lock"
    if b == "Cargo.toml":
        return "manifest"
    if b in TOOLCHAIN_FILES:
        return "toolchain"
    if b in OTHER_DEP_FILES:
        return "other-deps"
    return "other"


def stored_paths(changed: list[tuple[str, str]]) -> list[str]:
    """Which paths of a change keep their content: every changed lock and manifest, the
    workspace root manifest beside each changed lock, and a changed rust-toolchain file."""
    paths = {p for p, _ in changed if path_kind(p) in ("lock", "manifest", "toolchain")}
    for p, _ in changed:
        if is_lock(p):
            d = p[: -len("Cargo.lock")]
            paths.add(f"{d}Cargo.toml")
    return sorted(paths)


# ---------------------------------------------------------------------------------------------
# lock files and manifests


@dataclass
class Lock:
    packages: list[dict]
    ok: bool = True

    @staticmethod
    def parse(data: bytes | None) -> "Lock | None":
        if data is None:
            return None
        try:
            doc = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            return Lock([], ok=False)
        return Lock(doc.get("package", []))

    def by_name(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for p in self.packages:
            out.setdefault(p["name"], []).append(p)
        return out


def src_of(p: dict) -> str:
    s = p.get("source")
    if s is None:
        return "path"
    if s.startswith("registry+https://github.com/rust-lang/crates.io-index") or s.startswith(
        "sparse+https://index.crates.io/"
    ):
        return "crates.io"
    if s.startswith("git+"):
        return s  # the commit after `#` is part of what was locked
    return s


@dataclass
class LockDiff:
    added: list[tuple[str, str, str]] = field(default_factory=list)  # name, version, source
    removed: list[tuple[str, str, str]] = field(default_factory=list)
    updated: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, old, new, source
    members: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # path packages
    deps_changed: list[str] = field(default_factory=list)  # same name+version, other dependency list
    source_changed: list[str] = field(default_factory=list)


def dep_key(d: str) -> str:
    """A lock file dependency entry without the exact version: `name` or `name <compat line>`
    (v1/v2 lock files name the version when several are locked, so a patch update of `syn`
    rewrites every entry that mentions it; that is not a change of the dependency edge)."""
    parts = d.split()
    if len(parts) >= 2:
        p = parse_version(parts[1])
        line = f"{p[0]}" if p[0] else f"0.{p[1]}" if p[1] else f"0.0.{p[2]}"
        return f"{parts[0]} {line}"
    return parts[0]


def lock_diff(base: Lock | None, head: Lock | None) -> LockDiff:
    b = base.by_name() if base else {}
    h = head.by_name() if head else {}
    diff = LockDiff()
    for name in sorted(set(b) | set(h)):
        old = {(p["version"], src_of(p)): p for p in b.get(name, [])}
        new = {(p["version"], src_of(p)): p for p in h.get(name, [])}
        for key in set(old) & set(new):
            if sorted(map(dep_key, old[key].get("dependencies", []))) != sorted(
                map(dep_key, new[key].get("dependencies", []))
            ):
                diff.deps_changed.append(f"{name} {key[0]}")
        gone = sorted(set(old) - set(new))
        came = sorted(set(new) - set(old))
        if not gone and not came:
            continue
        if any(s == "path" for _, s in gone + came):
            ov = gone[0][0] if gone else None
            nv = came[0][0] if came else None
            diff.members.append((name, ov, nv))
            continue
        # Pair old and new versions of one name: same semver-compatible line first.
        def compat(v: str) -> tuple:
            p = parse_version(v)
            return (p[0],) if p[0] else (0, p[1]) if p[1] else (0, 0, p[2])

        pairs = []
        for g in list(gone):
            match = next((c for c in came if compat(c[0]) == compat(g[0])), None)
            if match:
                pairs.append((g, match))
                gone.remove(g)
                came.remove(match)
        while gone and came:
            pairs.append((gone.pop(0), came.pop(0)))
        for (ov, os_), (nv, ns) in pairs:
            if os_ != ns:
                diff.source_changed.append(f"{name} {ov} ({os_}) -> {nv} ({ns})")
            diff.updated.append((name, ov, nv, ns))
        for v, s in gone:
            diff.removed.append((name, v, s))
        for v, s in came:
            diff.added.append((name, v, s))
    return diff


def load_toml(data: bytes | None) -> dict | None:
    if data is None:
        return None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {"__unparsable__": True}


def dep_tables(doc: dict) -> dict[str, dict]:
    """Every dependency table of a manifest, keyed by where it is."""
    out = {}
    for t in DEP_TABLES:
        if t in doc:
            out[t] = doc[t]
    for target, tdoc in (doc.get("target") or {}).items():
        for t in DEP_TABLES:
            if t in tdoc:
                out[f"target.{target}.{t}"] = tdoc[t]
    ws = doc.get("workspace") or {}
    if "dependencies" in ws:
        out["workspace.dependencies"] = ws["dependencies"]
    return out


def short(v) -> str:
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dict):
        keys = ("version", "path", "git", "rev", "branch", "tag", "workspace", "features",
                "default-features", "optional", "package")
        return "{" + ", ".join(f"{k}={json.dumps(v[k])}" for k in keys if k in v) + "}"
    return json.dumps(v)


def manifest_diff(base: dict | None, head: dict | None) -> list[str]:
    """One line per dependency-relevant difference between two manifests."""
    if base is None and head is None:
        return []
    if base is None:
        return ["manifest added"] + [
            f"+{t} {n} {short(v)}" for t, tab in dep_tables(head).items() for n, v in tab.items()
        ]
    if head is None:
        return ["manifest removed"]
    out = []
    for key in ("package", "workspace.package"):
        bp = base.get("package") if key == "package" else (base.get("workspace") or {}).get("package")
        hp = head.get("package") if key == "package" else (head.get("workspace") or {}).get("package")
        bp, hp = bp or {}, hp or {}
        for f in ("version", "rust-version", "edition", "name", "links", "build"):
            if bp.get(f) != hp.get(f):
                out.append(f"{key}.{f}: {bp.get(f)!r} -> {hp.get(f)!r}")
    bt, ht = dep_tables(base), dep_tables(head)
    for t in sorted(set(bt) | set(ht)):
        b, h = bt.get(t, {}), ht.get(t, {})
        for n in sorted(set(b) | set(h)):
            if n not in b:
                out.append(f"+{t} {n} {short(h[n])}")
            elif n not in h:
                out.append(f"-{t} {n} {short(b[n])}")
            elif b[n] != h[n]:
                out.append(f"~{t} {n} {short(b[n])} -> {short(h[n])}")
    if base.get("features") != head.get("features"):
        out.append("~[features] table")
    for k in ("patch", "replace"):
        if base.get(k) != head.get(k):
            out.append(f"~[{k}]")
    bw, hw = base.get("workspace") or {}, head.get("workspace") or {}
    for k in ("members", "exclude", "default-members", "resolver"):
        if bw.get(k) != hw.get(k):
            out.append(f"~workspace.{k}")
    if (base.get("lints"), base.get("profile"), bw.get("lints")) != (
        head.get("lints"), head.get("profile"), hw.get("lints")
    ):
        out.append("~lints/profile")
    return out



# ---------------------------------------------------------------------------------------------
# RustSec advisories (an independent reading, for labelling; not lockwatch's code)

ADVISORY_DB = Path(os.environ.get("CORPUS_ADVISORY_DB", "/work/shared/advisory-db"))
_ADVISORIES: dict[str, list[dict]] | None = None


def parse_version(v: str) -> tuple:
    v = v.split("+", 1)[0]
    core, _, pre = v.partition("-")
    nums = [int(x) for x in core.split(".")]
    while len(nums) < 3:
        nums.append(0)
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else None
    # A pre-release sorts before its release.
    return (nums[0], nums[1], nums[2], (0, pre_key) if pre_key else (1, ()))


def comparator_matches(comp: str, version: str) -> bool:
    comp = comp.strip()
    m = re.match(r"^(>=|<=|>|<|=|\^|~)?\s*(\*|[0-9][0-9A-Za-z.+-]*)$", comp)
    if not m:
        raise ValueError(f"comparator {comp!r}")
    op, ver = m.group(1) or "^", m.group(2)
    if ver == "*":
        return True
    parts = ver.split("-")[0].split("+")[0].split(".")
    given = len(parts)
    lo = parse_version(ver)
    v = parse_version(version)

    def bump(i: int) -> tuple:
        n = [lo[0], lo[1], lo[2]]
        n[i] += 1
        for j in range(i + 1, 3):
            n[j] = 0
        return (n[0], n[1], n[2], (0, ((0, 0, ""),)))  # the lowest pre-release of that version

    if op == ">=":
        return v >= lo
    if op == ">":
        if given < 3:
            return v >= bump(given - 1)
        return v > lo
    if op == "<":
        return v < lo
    if op == "<=":
        return v < bump(given - 1) if given < 3 else v <= lo
    if op == "=":
        return lo <= v < bump(given - 1) if given < 3 else v == lo
    if op == "~":
        return lo <= v < bump(min(given - 1, 1))
    # caret
    if lo[0] > 0 or given == 1:
        return lo <= v < bump(0)
    if lo[1] > 0 or given == 2:
        return lo <= v < bump(1)
    return lo <= v < bump(2)


def req_matches(req: str, version: str) -> bool:
    return all(comparator_matches(c, version) for c in req.split(","))


def advisories() -> dict[str, list[dict]]:
    global _ADVISORIES
    if _ADVISORIES is None:
        _ADVISORIES = {}
        for f in sorted((ADVISORY_DB / "crates").glob("*/RUSTSEC-*.md")):
            text = f.read_text()
            m = re.search(r"```toml\n(.*?)\n```", text, re.S)
            if not m:
                continue
            doc = tomllib.loads(m.group(1))
            a = doc["advisory"]
            if a.get("withdrawn"):
                continue
            cat = "malicious" if "malicious" in a.get("categories", []) else a.get("informational", "vulnerability")
            _ADVISORIES.setdefault(a["package"], []).append({
                "id": a["id"], "category": cat, "source": a.get("source"),
                "patched": doc.get("versions", {}).get("patched", []),
                "unaffected": doc.get("versions", {}).get("unaffected", []),
            })
    return _ADVISORIES


def advisories_hitting(name: str, version: str, source: str = "crates.io") -> list[dict]:
    out = []
    for a in advisories().get(name, []):
        if (a["source"] is None) != (source == "crates.io"):
            continue
        safe = any(req_matches(r, version) for r in a["patched"] + a["unaffected"])
        if not safe:
            out.append(a)
    return out


def advisory_lines(base: Lock | None, head: Lock | None) -> list[str]:
    """Advisories of the head's crates, by what the change did to each crate version:
    untouched (same version in both, crate not changed: only counted), present (same version in
    both, the crate changed otherwise), still-affected (an update from a version the same advisory
    hits), introduced (any other new version)."""
    b = {(p["name"], p["version"]) for p in (base.packages if base else []) if src_of(p) != "path"}
    d = lock_diff(base, head)
    changed_names = {n for n, *_ in d.added + d.updated + d.removed}
    old_of = {(n, new): old for n, old, new, _ in d.updated}
    out = []
    untouched = 0
    for p in head.packages if head else []:
        s = src_of(p)
        if s == "path":
            continue
        key = (p["name"], p["version"])
        for a in advisories_hitting(p["name"], p["version"], s):
            if key in b:
                if p["name"] not in changed_names:
                    untouched += 1
                    continue
                status = "present"
            elif key in old_of and a in advisories_hitting(p["name"], old_of[key]):
                status = "still-affected"
            else:
                status = "introduced"
            out.append(f"{a['category']} {a['id']} {p['name']} {p['version']} [{status}]")
    if untouched:
        out.append(f"({untouched} advisory hits on untouched crates)")
    return out


# ---------------------------------------------------------------------------------------------
# commit metadata


def commit_meta(mirror: Path, sha: str) -> dict:
    raw = git(mirror, "show", "-s", "--format=%H%n%P%n%an%n%aI%n%B", sha)
    lines = raw.split("\n")
    commit, parents, author, date = lines[0], lines[1].split(), lines[2], lines[3]
    body = lines[4:]
    subject = body[0] if body else ""
    rest = [l.strip() for l in body[1:] if l.strip()]
    pr, title = None, subject
    m = re.match(r"(?:Merge pull request|Auto merge of|Merge) #(\d+)", subject)
    if m:
        pr = int(m.group(1))
        title = rest[0] if rest else subject
        title = re.sub(r"^\d+: ", "", title)
        title = re.sub(r" r=\S+$", "", title)
    else:
        m = re.search(r"\(#(\d+)\)\s*$", subject)
        if m:
            pr = int(m.group(1))
            title = subject[: m.start()].rstrip()
    if len(parents) > 1:
        # The pull request's author, not whoever merged it.
        author = git(mirror, "show", "-s", "--format=%an", parents[1]).strip()
    return {
        "commit": commit,
        "parent": parents[0] if parents else None,
        "merge": len(parents) > 1,
        "author": author,
        "date": date,
        "subject": subject,
        "pr": pr,
        "title": title,
    }


# ---------------------------------------------------------------------------------------------
# summaries


def describe(files: list[tuple[str, str]], sides: dict[str, tuple[bytes | None, bytes | None]],
             verbose: bool = True) -> list[str]:
    out = []
    kinds: dict[str, list[str]] = {}
    for p, st in files:
        kinds.setdefault(path_kind(p), []).append(f"{STATUS_LETTER[st]} {p}")
    for k in ("lock", "manifest", "toolchain", "other-deps", "other"):
        if k in kinds:
            items = kinds[k]
            limit = 25 if verbose or k != "other" else 8
            shown = items if len(items) <= limit else items[:limit] + [f"... {len(items) - limit} more"]
            out.append(f"{k} ({len(items)}): " + ", ".join(shown))
    for p in sorted(sides):
        b, h = sides[p]
        if is_manifest(p):
            md = manifest_diff(load_toml(b), load_toml(h))
            if md or verbose:
                line = f"  {p}: " + ("; ".join(md) if md else "(no dependency-relevant change)")
                out.append(line if verbose or len(line) < 400 else line[:400] + " ...")
        elif basename(p) in TOOLCHAIN_FILES:
            def channel(x: bytes | None) -> str:
                text = (x or b"").decode()
                m = re.search(r'channel\s*=\s*"([^"]+)"', text)
                return m.group(1) if m else text.strip()[:60]
            out.append(f"  {p}: {channel(b)!r} -> {channel(h)!r}")
    for p in sorted(sides):
        if not is_lock(p):
            continue
        b, h = sides[p]
        d = lock_diff(Lock.parse(b), Lock.parse(h))
        out.append(
            f"  {p}: +{len(d.added)} -{len(d.removed)} ~{len(d.updated)} members:{len(d.members)}"
            f" deps-changed:{len(d.deps_changed)}"
        )
        if not verbose:
            def few(items, n=12):
                return ", ".join(items[:n]) + (f", ... {len(items) - n} more" if len(items) > n else "")
            if d.updated:
                out.append("    updated: " + few([f"{n} {o}->{v}" for n, o, v, _ in d.updated]))
            if d.added:
                out.append("    added: " + few([f"{n} {v}" for n, v, _ in d.added]))
            if d.removed:
                out.append("    removed: " + few([f"{n} {v}" for n, v, _ in d.removed]))
            if d.deps_changed:
                out.append("    deps-changed: " + few(d.deps_changed, 6))
            if d.source_changed:
                out.append("    source-changed: " + few(d.source_changed, 6))
            for a in advisory_lines(Lock.parse(b), Lock.parse(h)):
                out.append("    advisory: " + a)
        if verbose:
            if d.updated:
                out.append("    updated: " + ", ".join(f"{n} {o}->{v}" for n, o, v, _ in d.updated))
            if d.added:
                out.append("    added: " + ", ".join(f"{n} {v}" + ("" if s == "crates.io" else f" ({s})")
                                                      for n, v, s in d.added))
            if d.removed:
                out.append("    removed: " + ", ".join(f"{n} {v}" for n, v, _ in d.removed))
            if d.members:
                out.append("    members: " + ", ".join(f"{n} {o}->{v}" for n, o, v in d.members))
            if d.deps_changed:
                out.append("    deps-changed: " + ", ".join(d.deps_changed))
            if d.source_changed:
                out.append("    source-changed: " + ", ".join(d.source_changed))
            for a in advisory_lines(Lock.parse(b), Lock.parse(h)):
                out.append("    advisory: " + a)
    return out


def sides_from_mirror(mirror: Path, base: str, head: str, files) -> dict:
    return {p: (file_at(mirror, base, p), file_at(mirror, head, p)) for p in stored_paths(files)}


# ---------------------------------------------------------------------------------------------
# mining


def cmd_mine(args) -> None:
    mirror = mirror_path(args.repo, args.mirrors)
    shas = git(mirror, "log", "--first-parent", f"--since={args.since}", "--format=%H", "--",
               "Cargo.lock", "**/Cargo.lock").split()
    for sha in shas[: args.max]:
        meta = commit_meta(mirror, sha)
        if meta["parent"] is None:
            continue
        files = changed_files(mirror, meta["parent"], sha)
        counts: dict[str, int] = {}
        for p, _ in files:
            counts[path_kind(p)] = counts.get(path_kind(p), 0) + 1
        sides = sides_from_mirror(mirror, meta["parent"], sha, files)
        lk = []
        for p in sides:
            if is_lock(p):
                d = lock_diff(Lock.parse(sides[p][0]), Lock.parse(sides[p][1]))
                lk.append(f"+{len(d.added)}-{len(d.removed)}~{len(d.updated)}m{len(d.members)}"
                          f"d{len(d.deps_changed)}")
        mani = []
        for p in sides:
            if is_manifest(p):
                mani += manifest_diff(load_toml(sides[p][0]), load_toml(sides[p][1]))
        tags = []
        if any("rust-version" in m for m in mani):
            tags.append("RV")
        if any(m.startswith("+") for m in mani):
            tags.append("+DEP")
        if any("features" in m for m in mani):
            tags.append("FEAT")
        if any(".version:" in m for m in mani):
            tags.append("VER")
        print(f"{sha[:10]} {meta['date'][:10]} {meta['author'][:18]:18} "
              f"L{counts.get('lock', 0)} M{counts.get('manifest', 0)} T{counts.get('toolchain', 0)} "
              f"X{counts.get('other-deps', 0)} O{counts.get('other', 0):<4} {','.join(lk):22} "
              f"{','.join(tags):14} {meta['subject'][:90]}")


# ---------------------------------------------------------------------------------------------
# the stored corpus


def case_id(repo: str, commit: str) -> str:
    return f"{repo.split('/')[1]}-{commit[:10]}"


def read_selection() -> list[tuple[str, str]]:
    out = []
    for line in SELECTION.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            repo, sha = line.split()[:2]
            out.append((repo, sha))
    return out


def blob_archive(repo: str) -> Path:
    return BLOBS / (repo.replace("/", "+") + ".json.xz")


def write_archive(path: Path, blobs: dict[str, str]) -> None:
    data = json.dumps(blobs, sort_keys=True, indent=0).encode()
    path.write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


_ARCHIVES: dict[str, dict[str, str]] = {}


def read_archive(repo: str) -> dict[str, str]:
    if repo not in _ARCHIVES:
        _ARCHIVES[repo] = json.loads(lzma.decompress(blob_archive(repo).read_bytes()))
    return _ARCHIVES[repo]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cmd_build(args) -> None:
    cases = []
    archives: dict[str, dict[str, str]] = {}
    for repo, sha in read_selection():
        mirror = mirror_path(repo, args.mirrors)
        full = git(mirror, "rev-parse", sha + "^{commit}").strip()
        meta = commit_meta(mirror, full)
        files = changed_files(mirror, meta["parent"], full)
        stored = {}
        blobs = archives.setdefault(repo, {})
        for p in stored_paths([(p, s) for p, s in files]):
            side = {}
            for name, rev in (("base", meta["parent"]), ("head", full)):
                data = file_at(mirror, rev, p)
                if data is None:
                    side[name] = None
                    continue
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    sys.exit(f"{repo} {full}: {p} is not UTF-8")
                h = sha256(data)
                blobs[h] = text
                side[name] = h
            if side["base"] is None and side["head"] is None:
                continue
            stored[p] = side
        cases.append({
            "id": case_id(repo, full),
            "repo": repo,
            **{k: meta[k] for k in ("commit", "parent", "merge", "pr", "title", "author", "date")},
            "files": [{"path": p, "status": s} for p, s in files],
            "stored": stored,
        })
        print(f"{cases[-1]['id']}: {len(files)} files, {len(stored)} stored", file=sys.stderr)
    BLOBS.mkdir(exist_ok=True)
    for old in BLOBS.glob("*.json.xz"):
        if old.name not in {blob_archive(r).name for r in archives}:
            old.unlink()
    for repo, blobs in archives.items():
        write_archive(blob_archive(repo), blobs)
    write_index(cases)


def write_index(cases: list[dict]) -> None:
    """cases.json: the cases, and per repository its archive's SHA-256 and the blobs it holds (so
    a reader without xz can still check that every stored file is accounted for)."""
    archives = {}
    for repo in sorted({c["repo"] for c in cases}):
        path = blob_archive(repo)
        archives[repo] = {
            "file": f"blobs/{path.name}",
            "sha256": sha256(path.read_bytes()),
            "blobs": sorted(read_archive(repo)),
        }
    doc = {"schema": 1, "archives": archives, "cases": cases}
    CASES_JSON.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def cmd_index(args) -> None:
    write_index(load_cases())


def load_cases() -> list[dict]:
    return json.loads(CASES_JSON.read_text())["cases"]


def load_labels() -> dict[str, dict]:
    doc = tomllib.loads(LABELS_TOML.read_text())
    return {c["id"]: c for c in doc.get("case", [])}


KINDS = {"bot-bump", "lock-maintenance", "feature-adds-dep", "feature-with-unrelated-bumps",
         "feature-enables-feature", "release", "toolchain", "other"}


def cmd_verify(args) -> None:
    problems = []
    cases = load_cases()
    ids = {c["id"] for c in cases}
    index = json.loads(CASES_JSON.read_text()).get("archives", {})
    for repo, meta in index.items():
        path = HERE / meta["file"]
        if not path.exists() or sha256(path.read_bytes()) != meta["sha256"]:
            problems.append(f"{meta['file']}: missing or not the archive cases.json was built with")
        elif sorted(read_archive(repo)) != meta["blobs"]:
            problems.append(f"{meta['file']}: its blobs differ from the list in cases.json")
    for c in cases:
        arch = read_archive(c["repo"])
        for p, side in c["stored"].items():
            for name in ("base", "head"):
                h = side[name]
                if h is None:
                    continue
                if h not in arch:
                    problems.append(f"{c['id']}: {p} {name} blob {h[:12]} missing")
                elif sha256(arch[h].encode()) != h:
                    problems.append(f"{c['id']}: {p} {name} blob {h[:12]} does not hash to its name")
        for f in c["files"]:
            if not safe_path(f["path"]):
                problems.append(f"{c['id']}: unsafe path {f['path']!r}")
    if LABELS_TOML.exists():
        labels = load_labels()
        for i in sorted(ids - set(labels)):
            problems.append(f"{i}: no label")
        for i in sorted(set(labels) - ids):
            problems.append(f"{i}: label without a case")
        for i, l in labels.items():
            if l.get("kind") not in KINDS:
                problems.append(f"{i}: kind {l.get('kind')!r}")
            for k in ("dependency_only", "unrelated_bumps", "expected_fail"):
                if not isinstance(l.get(k), bool):
                    problems.append(f"{i}: {k} must be true or false")
            if not l.get("reason"):
                problems.append(f"{i}: no reason")
    for p in problems:
        print(p)
    print(f"{len(cases)} cases, {len(problems)} problems", file=sys.stderr)
    if problems:
        sys.exit(1)


def cmd_stats(args) -> None:
    """Markdown tables: cases per repository and kind, and the label totals."""
    cases = load_cases()
    labels = load_labels()
    repos = sorted({c["repo"] for c in cases})
    kinds = sorted(KINDS)
    print("| repository | " + " | ".join(kinds) + " | all |")
    print("|---|" + "---|" * (len(kinds) + 1))
    for r in repos + ["all"]:
        row = [labels[c["id"]]["kind"] for c in cases if r in ("all", c["repo"])]
        print(f"| {r} | " + " | ".join(str(row.count(k)) for k in kinds) + f" | {len(row)} |")
    print()
    for key in ("dependency_only", "unrelated_bumps", "expected_fail"):
        n = sum(1 for c in cases if labels[c["id"]][key])
        print(f"- `{key}`: {n} of {len(cases)}")
    still = sum(
        1 for c in cases if labels[c["id"]]["expected_fail"] and all(
            i.get("status") == "still-affected"
            for i in labels[c["id"]]["introduces"]
            if i["code"] in ("advisory-vulnerability", "advisory-malicious", "build-capability", "typosquat")
        )
    )
    print(f"- `expected_fail` resting only on still-affected advisories: {still}")


def case_by_id(cid: str) -> dict:
    for c in load_cases():
        if c["id"] == cid or c["commit"].startswith(cid):
            return c
    sys.exit(f"no case {cid}")


def stored_sides(c: dict) -> dict[str, tuple[bytes | None, bytes | None]]:
    arch = read_archive(c["repo"])
    return {
        p: tuple(arch[s[n]].encode() if s[n] else None for n in ("base", "head"))
        for p, s in c["stored"].items()
    }


def cmd_summary(args) -> None:
    if args.commit:
        mirror = mirror_path(args.what, args.mirrors)
        meta = commit_meta(mirror, args.commit)
        files = changed_files(mirror, meta["parent"], meta["commit"])
        sides = sides_from_mirror(mirror, meta["parent"], meta["commit"], files)
        head = f"{args.what} {meta['commit'][:10]} #{meta['pr']} {meta['author']}: {meta['title']}"
    else:
        c = case_by_id(args.what)
        files = [(f["path"], f["status"]) for f in c["files"]]
        sides = stored_sides(c)
        head = f"{c['id']} #{c['pr']} {c['author']}: {c['title']}"
    print(head)
    for line in describe(files, sides, verbose=not args.brief):
        print(line)
    if args.diff:
        for p, (b, h) in sorted(sides.items()):
            if is_manifest(p) and b != h:
                sys.stdout.writelines(difflib.unified_diff(
                    (b or b"").decode().splitlines(True), (h or b"").decode().splitlines(True),
                    f"a/{p}", f"b/{p}", n=1))



# ---------------------------------------------------------------------------------------------
# evidence: what the content of the changed files that are not stored says (data, not code)
#
# The split rule reads the two sides of a pull request's work files (app/src/split/content.rs):
# a `rust-version`-only edit, a generated-file marker, and the crates a Rust file's changed
# lines use. evidence.json keeps exactly those facts per file, computed here from the mirrors
# with a port of that module; `materialize` writes placeholder content that carries the same
# facts. Nothing of the files' code is kept.

EVIDENCE_MAX_FILES = 60        # more changed files than this: no evidence (the rule reads <= 20)
EVIDENCE_MAX_BYTES = 1 << 20
MARKER_LINES = 5
GENERATED_MARKERS = ("@generated", "do not edit", "auto-generated", "autogenerated",
                     "automatically generated")
NOT_CRATES = {"crate", "self", "super", "Self", "std", "core", "alloc"}


def rust_lines(s: str) -> list[str]:
    """str::lines of Rust: split at \n, no final empty line."""
    parts = s.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def line_diff(base: str, head: str) -> list[str]:
    count: dict[str, int] = {}
    for l in rust_lines(base):
        count[l.rstrip()] = count.get(l.rstrip(), 0) - 1
    for l in rust_lines(head):
        count[l.rstrip()] = count.get(l.rstrip(), 0) + 1
    out = []
    for l, n in count.items():
        out += [l] * abs(n)
    return [l for l in out if l.strip()]


RV = re.compile(r'^rust-version\s*=\s*"[0-9.]*"$')


def rust_version_only(lines: list[str]) -> bool:
    return bool(lines) and all(RV.match(l.strip()) for l in lines)


def marker_in(text: str) -> str | None:
    for l in rust_lines(text)[:MARKER_LINES]:
        low = l.lower()
        for m in GENERATED_MARKERS:
            if m in low:
                return m
    return None


def generated_marker(base: str | None, head: str | None) -> str | None:
    if head is None:
        return None
    m = marker_in(head)
    if m is None:
        return None
    if base is not None and marker_in(base) is None:
        return None
    return m


TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"?|[^\W\d]\w*|::|.', re.S)


def rs_tokens(s: str) -> list[str]:
    out = []
    for m in TOKEN.finditer(s):
        t = m.group(0)
        if t.startswith("//") or t.startswith("/*"):
            continue
        if t.startswith('"'):
            out.append("<lit>")
        elif t.isspace():
            continue
        else:
            out.append(t)
    return out


def is_ident(t: str) -> bool:
    return bool(t) and (t[0].isalpha() or t[0] == "_")


def rs_imports(src: str) -> dict[str, str]:
    toks = rs_tokens(src)
    out: dict[str, str] = {}

    def tree(i: int, root: str | None, parent: str | None, depth: int) -> tuple[bool, int]:
        if depth > 32:
            return False, len(toks)
        if i < len(toks) and toks[i] == "::":
            i += 1
        if i < len(toks) and toks[i] == "{":
            return True, lst(i + 1, root, parent, depth)
        if i >= len(toks) or not is_ident(toks[i]):
            return False, i
        first = toks[i]
        r = root or first
        last, prev = first, None
        i += 1
        while i < len(toks) and toks[i] == "::":
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt == "{":
                return True, lst(i + 2, r, last, depth)
            if nxt == "*":
                return True, i + 2
            if nxt is not None and is_ident(nxt):
                prev, last = last, nxt
                i += 2
            else:
                return True, i + 1
        if i < len(toks) and toks[i] == "as":
            if i + 1 < len(toks) and is_ident(toks[i + 1]):
                out[toks[i + 1]] = r
            return True, i + 2
        name = (prev or parent or r) if last == "self" else last
        out[name] = r
        return True, i

    def lst(i: int, root: str | None, parent: str | None, depth: int) -> int:
        while i < len(toks):
            if toks[i] == "}":
                return i + 1
            if toks[i] == ",":
                i += 1
                continue
            read, nxt = tree(i, root, parent, depth + 1)
            i = nxt if read else i + 1
        return i

    i = 0
    while i < len(toks):
        if toks[i] == "use":
            _, nxt = tree(i + 1, None, None, 0)
            i = max(nxt, i + 1)
        elif toks[i] == "extern" and i + 1 < len(toks) and toks[i + 1] == "crate":
            if i + 4 < len(toks) and toks[i + 3] == "as" and is_ident(toks[i + 2]) and is_ident(toks[i + 4]):
                out[toks[i + 4]] = toks[i + 2]
            i += 2
        else:
            i += 1
    return out


def rs_references(base: str | None, head: str | None) -> set[str]:
    names: dict[str, str] = {}
    for side in (base, head):
        if side is not None:
            names.update(rs_imports(side))
    out = set()
    for line in line_diff(base or "", head or ""):
        t = line.lstrip()
        if t.startswith(("use ", "pub use ", "//")):
            continue
        toks = rs_tokens(line)
        for k, tok in enumerate(toks):
            if not is_ident(tok) or (k > 0 and toks[k - 1] == "::"):
                continue
            if tok in names:
                root = names[tok]
            elif k + 1 < len(toks) and toks[k + 1] == "::":
                root = tok
            else:
                continue
            if root not in NOT_CRATES:
                out.add(root.replace("-", "_"))
    return out


def text_of(data: bytes | None) -> str | None | bool:
    """The text of one side; False when the side exists but is not readable text."""
    if data is None:
        return None
    if len(data) > EVIDENCE_MAX_BYTES:
        return False
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return False


def case_evidence(c: dict, mirrors: str) -> dict[str, dict]:
    stored = set(c["stored"])
    others = [f for f in c["files"] if f["path"] not in stored]
    if len(others) > EVIDENCE_MAX_FILES:
        return {}
    mirror = mirror_path(c["repo"], mirrors)
    crates: set[str] = set()
    for p, sides in stored_sides(c).items():
        if is_lock(p):
            for data in sides:
                lock = Lock.parse(data)
                if lock:
                    crates |= {pk["name"].replace("-", "_") for pk in lock.packages}
    out = {}
    for f in others:
        p = f["path"]
        b = None if f["status"] == "added" else text_of(file_at(mirror, c["parent"], p))
        h = None if f["status"] == "removed" else text_of(file_at(mirror, c["commit"], p))
        if b is False or h is False:
            out[p] = {"unreadable": True}
            continue
        ev = {}
        if b is not None and h is not None and rust_version_only(line_diff(b, h)):
            ev["rust_version_only"] = True
        m = generated_marker(b, h)
        if m:
            ev["generated"] = m
        if p.endswith(".rs"):
            refs = sorted(rs_references(b, h) & crates)
            if refs:
                ev["uses"] = refs
        if ev:
            out[p] = ev
    return out


def cmd_evidence(args) -> None:
    doc = {}
    for c in load_cases():
        ev = case_evidence(c, args.mirrors)
        if ev:
            doc[c["id"]] = ev
        print(f"{c['id']}: {len(ev)} files with evidence", file=sys.stderr)
    EVIDENCE_JSON.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def load_evidence() -> dict[str, dict]:
    return json.loads(EVIDENCE_JSON.read_text()) if EVIDENCE_JSON.exists() else {}


def evidence_content(path: str, side: str, ev: dict | None) -> bytes:
    """Placeholder content that carries the stored facts of a file, nothing else."""
    text = placeholder(path, side).decode()
    if not ev:
        return text.encode()
    if ev.get("unreadable"):
        return b"\xff\xfe placeholder: not UTF-8 on this side\n"
    if ev.get("generated"):
        text = f"// {ev['generated']}\n" + text
    if ev.get("rust_version_only"):
        return ("rust-version = \"1.0\"\n" if side == "base" else "rust-version = \"1.1\"\n").encode()
    if side == "head" and ev.get("uses"):
        text += "".join(f"{u}::placeholder();\n" for u in ev["uses"])
    return text.encode()


# ---------------------------------------------------------------------------------------------
# materializing a case as a git repository


def safe_path(p: str) -> bool:
    parts = p.split("/")
    return bool(p) and not p.startswith("/") and all(x not in ("", ".", "..", ".git") for x in parts)


def placeholder(path: str, side: str) -> bytes:
    return f"placeholder for {path} ({side} side; content not stored)\n".encode()


def materialize(c: dict, dest: Path) -> tuple[str, str]:
    """Build a git repository in `dest` (must not exist or be empty): commit 1 = base, commit 2 =
    head. Returns (base sha, head sha)."""
    sides = stored_sides(c)
    evidence = load_evidence().get(c["id"], {})
    dest.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "corpus", "GIT_AUTHOR_EMAIL": "corpus@invalid",
           "GIT_COMMITTER_NAME": "corpus", "GIT_COMMITTER_EMAIL": "corpus@invalid",
           "GIT_AUTHOR_DATE": c["date"], "GIT_COMMITTER_DATE": c["date"]}

    def run(*a: str) -> str:
        return subprocess.run(["git", "-C", str(dest), *a], capture_output=True, check=True,
                              env=env).stdout.decode().strip()

    def write(path: str, data: bytes | None) -> None:
        if not safe_path(path):
            raise ValueError(f"unsafe path {path!r}")
        f = dest / path
        if data is None:
            if f.exists():
                f.unlink()
            return
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)

    run("init", "-q", "-b", "main")
    run("config", "core.autocrlf", "false")
    for f in c["files"]:
        p = f["path"]
        if p in sides:
            continue
        if f["status"] != "added":
            write(p, evidence_content(p, "base", evidence.get(p)))
    for p, (b, _) in sides.items():
        write(p, b)
    run("add", "-A")
    run("commit", "-q", "--allow-empty", "-m", f"base of {c['id']}")
    base = run("rev-parse", "HEAD")
    for f in c["files"]:
        p = f["path"]
        if p in sides:
            continue
        write(p, None if f["status"] == "removed" else evidence_content(p, "head", evidence.get(p)))
    for p, (_, h) in sides.items():
        write(p, h)
    run("add", "-A")
    run("commit", "-q", "--allow-empty", "-m", f"{c['title']} (#{c['pr']})")
    head = run("rev-parse", "HEAD")
    return base, head


def cmd_materialize(args) -> None:
    c = case_by_id(args.case)
    base, head = materialize(c, Path(args.dir))
    print(base, head)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirrors", default=DEFAULT_MIRRORS)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mine")
    m.add_argument("repo")
    m.add_argument("--since", default="2024-01-01")
    m.add_argument("--max", type=int, default=400)
    s = sub.add_parser("summary")
    s.add_argument("what")
    s.add_argument("commit", nargs="?")
    s.add_argument("--brief", action="store_true")
    s.add_argument("--diff", action="store_true", help="unified diff of the manifests")
    sub.add_parser("build")
    sub.add_parser("evidence", help="mirrors -> evidence.json (facts of the changed code files)")
    sub.add_parser("verify")
    sub.add_parser("index", help="rewrite the archive list of cases.json from blobs/")
    sub.add_parser("stats", help="cases per repository and kind, label totals (Markdown)")
    z = sub.add_parser("materialize")
    z.add_argument("case")
    z.add_argument("dir")
    args = ap.parse_args()
    {"mine": cmd_mine, "summary": cmd_summary, "build": cmd_build, "verify": cmd_verify,
     "materialize": cmd_materialize, "index": cmd_index, "stats": cmd_stats,
     "evidence": cmd_evidence}[args.cmd](args)


if __name__ == "__main__":
    main()
