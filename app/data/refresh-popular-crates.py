#!/usr/bin/env python3
"""Regenerates popular-crates.tsv from crates.io's official daily database dump.

    python3 app/data/refresh-popular-crates.py            # download and stream the dump
    python3 app/data/refresh-popular-crates.py --dump db-dump.tar.gz
    python3 app/data/refresh-popular-crates.py --top 10000 --out app/data/popular-crates.tsv

The dump (https://static.crates.io/db-dump.tar.gz, several hundred MB) is read as a stream:
only `data/crates.csv` (`id`, `name`) and `data/crate_downloads.csv` (`crate_id`,
`downloads`) are parsed; nothing is written but the TSV. Rows are sorted by all-time
downloads, descending (ties by name), and the first `--top` kept. The `source` column says
`crates-io-dump-DATE`, DATE being the dump's own directory name (its creation date).

crates.io asks bulk users to use this dump rather than the API. After regenerating, update
popular-crates.README.md (date, counts) and run `cargo test -p lockwatch --lib typosquat`.
"""

import argparse
import codecs
import csv
import sys
import tarfile
import urllib.error
import urllib.request

DUMP_URL = "https://static.crates.io/db-dump.tar.gz"
HEADER = "name\tdownloads\trank\tsource\n"


def read_dump(stream):
    """(names by id, downloads by id, dump date) from a streamed db-dump tarball."""
    csv.field_size_limit(sys.maxsize)
    names, downloads, date = {}, {}, None
    with tarfile.open(fileobj=stream, mode="r|gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if len(parts) < 3 or parts[-2] != "data":
                continue
            if parts[-1] not in ("crates.csv", "crate_downloads.csv"):
                continue
            date = date or parts[0][:10]
            # Line by line: the stream cannot seek, and quoted fields may span lines.
            rows = csv.DictReader(codecs.iterdecode(tar.extractfile(member), "utf-8"))
            if parts[-1] == "crates.csv":
                for r in rows:
                    names[r["id"]] = r["name"]
            else:
                for r in rows:
                    downloads[r["crate_id"]] = int(r["downloads"])
    if not names or not downloads:
        sys.exit("the dump had no data/crates.csv or data/crate_downloads.csv")
    return names, downloads, date


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", help="a local db-dump.tar.gz instead of downloading it")
    ap.add_argument("--top", type=int, default=10000)
    ap.add_argument("--out", default="app/data/popular-crates.tsv")
    args = ap.parse_args()
    if args.dump:
        with open(args.dump, "rb") as f:
            names, downloads, date = read_dump(f)
    else:
        req = urllib.request.Request(DUMP_URL, headers={"User-Agent": "lockwatch popular-crates refresh"})
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                names, downloads, date = read_dump(r)
        except (urllib.error.URLError, OSError) as e:
            sys.exit(f"cannot read {DUMP_URL}: {e}")
    ranked = sorted(
        ((downloads.get(i, 0), n) for i, n in names.items()),
        key=lambda t: (-t[0], t[1]),
    )[: args.top]
    tag = f"crates-io-dump-{date}"
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for rank, (dl, name) in enumerate(ranked, start=1):
            out.write(f"{name}\t{dl}\t{rank}\t{tag}\n")
    print(f"{len(ranked)} crates written to {args.out} ({tag}, of {len(names)} in the dump)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
