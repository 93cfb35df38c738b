#!/usr/bin/env bash
# What this example shows besides its results (scripts/run-example.sh runs it while the
# dispatcher is up, with BIN and OUT set): the summarisers ranked from every reader's
# comparison (Bradley-Terry with each reader's reliability), their names in the rows'
# writer_a and writer_b.
set -euo pipefail
"$BIN/mw" qa rank --job job-1 --stage better --a-name writer_a --b-name writer_b \
  --out "$OUT/ranking.csv"
cat "$OUT/ranking.csv"
