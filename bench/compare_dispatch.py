#!/usr/bin/env python3
"""Runs two dispatch_bench binaries alternately on this machine and compares them.

Each round runs BEFORE then AFTER (then the other way round on the next round, so neither
always goes first on a warm or cold disk) with the same arguments, reads each run's
"durable task completions" figure and its "completions / raw synced puts" (the same run's
completions over the disk's synced-write rate measured just before it, which takes the machine's
own noise out), and ends with one computed line:

    dispatch before_median=N after_median=N ratio=R per_disk_ratio=R rounds=K

    bench/compare_dispatch.py BEFORE AFTER [--rounds 3] [-- dispatch_bench args...]
"""
import argparse
import re
import statistics
import subprocess
import sys

FIGURE = re.compile(r"durable task completions \(verdict \+ wages\)\s+([0-9.]+) /s")
RAW_PUTS = re.compile(r"raw RocksDB synced batched puts \(1000 per write\)\s+([0-9.]+) entries/s")


def completions(binary, extra):
    out = subprocess.run([binary] + extra, check=True, capture_output=True, text=True).stdout
    m, d = FIGURE.search(out), RAW_PUTS.search(out)
    if not m or not d:
        sys.exit(f"{binary}: no 'durable task completions' or 'raw synced puts' line:\n{out}")
    return float(m.group(1)), float(m.group(1)) / float(d.group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("extra", nargs="*")
    a = parser.parse_args()
    runs = {"before": [], "after": []}
    per_disk = {"before": [], "after": []}
    for i in range(a.rounds):
        order = ["before", "after"] if i % 2 == 0 else ["after", "before"]
        for name in order:
            figure, disk = completions(getattr(a, name), a.extra)
            runs[name].append(figure)
            per_disk[name].append(disk)
            print(f"round {i + 1} {name}: {figure:.0f} completions/s, {disk * 1000:.2f} per 1000 "
                  "raw synced puts", flush=True)
    before, after = statistics.median(runs["before"]), statistics.median(runs["after"])
    disk_ratio = statistics.median(per_disk["after"]) / statistics.median(per_disk["before"])
    print(f"dispatch before_median={before:.0f} after_median={after:.0f} "
          f"ratio={after / before:.3f} per_disk_ratio={disk_ratio:.3f} rounds={a.rounds}")


if __name__ == "__main__":
    main()
