#!/usr/bin/env python3
"""Folders are layers and dependencies point one way (README, Layout): checks every #include.

Each rule names a folder and the project folders its non-test sources may include; a test file
(*_test.cc, *_test_fixture.h) may also include testing/. Third-party headers (absl, gtest,
protobuf, the generated microwork/v1) are not project folders and always pass. Prints every
violation as file:line: what, and exits 1 when there is one.

    tests/lint/layers.py SOURCE_DIR
"""
import os
import re
import sys

# Longest prefix wins. A value lists the project folders the folder may include.
RULES = {
    "qa/": ["qa/"],
    "proto/": ["proto/"],
    "engine/common/": ["engine/common/"],
    "engine/storage/": ["engine/common/", "engine/storage/"],
    "engine/ledger/": ["engine/common/", "engine/storage/", "engine/ledger/"],
    "engine/contract/": ["engine/common/", "engine/contract/", "qa/"],
    "engine/metrics/": ["engine/metrics/"],
    "engine/media/": ["engine/media/"],
    # Work records: keys and the signed text, and the rules of the workers' voice, shared by the
    # dispatcher, the agent and mw (the contract's UTF-8 check reused).
    "engine/record/": ["engine/common/", "engine/record/", "engine/contract/csv_reader.h"],
    "engine/dispatch/": ["engine/common/", "engine/storage/", "engine/ledger/",
                         "engine/contract/", "engine/media/", "engine/dispatch/", "engine/record/", "qa/"],
    # Exported rows as text, and the annotation tools' formats: rows in, text out.
    "formats/": ["engine/common/", "engine/dispatch/answers.h", "qa/", "proto/", "formats/"],
    "dispatcher/": ["engine/", "qa/", "proto/", "formats/", "dispatcher/"],
    # The agent never reaches into the dispatcher's engine: only the answer rules it shares.
    "worker-agent/": ["engine/common/", "engine/storage/", "engine/contract/", "engine/metrics/",
                      "engine/media/phone_image.h", "engine/media/inspect.h",
                      "engine/media/test_media.h",
                      "engine/record/", "engine/dispatch/answers.h", "qa/", "proto/", "worker-agent/"],
    # The operator's command line: pure rules only (no storage, no ledger, no engine).
    "cli/": ["engine/common/", "engine/contract/", "engine/record/", "engine/dispatch/plan.h",
             "engine/dispatch/flow.h", "engine/dispatch/routing.h", "engine/dispatch/payroll.h",
             "engine/dispatch/answers.h", "engine/ledger/auditor.h", "engine/storage/keys.h",
             "qa/", "proto/", "formats/", "cli/"],
    "testing/": ["testing/"],
}
PROJECT = ("qa/", "proto/", "engine/", "formats/", "dispatcher/", "worker-agent/", "cli/",
           "testing/", "tests/", "bench/")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def rule_for(path):
    best = None
    for prefix in RULES:
        if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


def main():
    src = sys.argv[1]
    violations, checked = [], 0
    for top in RULES:
        root = os.path.join(src, top)
        for dirpath, _, files in os.walk(root):
            if "node_modules" in dirpath:
                continue
            for name in sorted(files):
                if not name.endswith((".cc", ".h")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), src)
                prefix = rule_for(path)
                if prefix != top:
                    continue  # a deeper rule owns it
                is_test = name.endswith(("_test.cc", "_test_fixture.h"))
                allowed = RULES[prefix] + (["testing/"] if is_test else [])
                checked += 1
                with open(os.path.join(src, path), encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        if not inc.startswith(PROJECT):
                            continue
                        if not any(inc == a or (a.endswith("/") and inc.startswith(a))
                                   for a in allowed):
                            violations.append(
                                f"{path}:{lineno}: includes {inc}; {prefix} may include only "
                                + ", ".join(allowed))
    for v in violations:
        print(v)
    print(f"layers: {checked} files checked, {len(violations)} violations")
    return 1 if violations or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
