#!/usr/bin/env bash
# Runs each libFuzzer target on its corpus for a while (the corpus in the repository is read,
# never written; new inputs go to a scratch directory). Exits non-zero on any crash, leak,
# sanitizer report or timeout, leaving the reproducer in FUZZ_DIR/artifacts/.
#
#   scripts/fuzz.sh BUILD_FUZZ_DIR SECONDS_EACH
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build-fuzz}"
seconds="${2:-10}"
mkdir -p "$dir/artifacts"
status=0
for f in contract split engine media; do
  scratch="$(mktemp -d)"
  log="$dir/artifacts/$f.log"
  if "$dir/fuzz/${f}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="$dir/artifacts/$f-" "$scratch" "tests/fuzz/corpus/$f" >"$log" 2>&1; then
    echo "fuzz $f: $(grep -aE '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1 | sed 's/^#/runs /')"
  else
    echo "fuzz $f FAILED; see $log"; tail -30 "$log"; status=1
  fi
  rm -rf "$scratch"
done
exit $status
