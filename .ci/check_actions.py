"""What actionlint does not check about this repository's workflows and Actions:

    python3 .ci/check_actions.py

- every `uses:` is a local action or pinned by a full commit SHA with the version in a
  comment (`owner/repo@<40 hex> # vX.Y.Z`), and every workflow sets `permissions`;
- the composite mode (action/binary) takes every input of the container mode (action/)
  and hands each to the binary as INPUT_<NAME>, with the same outputs;
- ci.yml's msrv job builds with the `rust-version` of Cargo.toml.
"""

import glob
import re
import sys

import yaml

PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(\.\d+)*\s*$")
ANY_USES = re.compile(r"^\s*(?:-\s+)?uses:\s+(\S+)")
COMPOSITE_ONLY = {"version", "sha256", "download-url", "bin-dir"}

problems = []

for path in sorted(glob.glob(".github/workflows/*.yml")):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for n, line in enumerate(text.splitlines(), 1):
        m = ANY_USES.match(line)
        if m and not m.group(1).startswith("./") and not PINNED.match(line):
            problems.append(f"{path}:{n}: not pinned by commit SHA with a version comment: {line.strip()}")
    workflow = yaml.safe_load(text)
    if "permissions" not in workflow:
        problems.append(f"{path}: no top-level permissions")

with open("action/action.yml", encoding="utf-8") as f:
    container = yaml.safe_load(f)
with open("action/binary/action.yml", encoding="utf-8") as f:
    composite = yaml.safe_load(f)
missing = set(container["inputs"]) - set(composite["inputs"])
extra = set(composite["inputs"]) - set(container["inputs"]) - COMPOSITE_ONLY
if missing or extra:
    problems.append(f"action/binary inputs differ from action/: missing {sorted(missing)}, extra {sorted(extra)}")
if set(container["outputs"]) != set(composite["outputs"]):
    problems.append("action/binary outputs differ from action/")
(review,) = [s for s in composite["runs"]["steps"] if s.get("id") == "review"]
for name in container["inputs"]:
    want = "${{ inputs.%s }}" % name
    got = review["env"].get(f"INPUT_{name.upper()}")
    if got != want:
        problems.append(f"action/binary does not pass input {name} as INPUT_{name.upper()} (has {got!r})")

with open("Cargo.toml", encoding="utf-8") as f:
    msrv = re.search(r'^rust-version = "([^"]+)"', f.read(), re.M).group(1)
with open(".github/workflows/ci.yml", encoding="utf-8") as f:
    ci = yaml.safe_load(f)
image = ci["jobs"]["msrv"]["container"]["image"]
if image != f"rust:{msrv}-bookworm":
    problems.append(f"ci.yml's msrv job uses {image}, Cargo.toml says rust-version = {msrv}")

if problems:
    sys.exit("\n".join(problems))
print("actions: every action pinned by SHA, permissions set, both Action modes take the same inputs, msrv job on Rust " + msrv)
