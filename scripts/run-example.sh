#!/usr/bin/env bash
# Runs one contract from examples/ end to end with simulated workers: a dispatcher, two centres
# (Nairobi: English and Kiswahili, paid in KES; Kampala: English, paid in UGX) of five simulated
# workers each, right 90% of the time against examples/NAME/truth.csv. It prints the plan,
# follows the job to the end, exports the results and checks the ledger.
#
#   scripts/run-example.sh NAME [BUILD_DIR]      e.g. receipts, translation, ticket-triage
#   (make examples runs every one of them)
set -euo pipefail
cd "$(dirname "$0")/.."
NAME="${1:?usage: scripts/run-example.sh NAME [BUILD_DIR]}"
BIN="${2:-build}/bin"
EXAMPLE="examples/$NAME"
OUT="${MW_EXAMPLE_OUT:-out/examples/$NAME}"
[ -f "$EXAMPLE/contract.yaml" ] || { echo "no contract at $EXAMPLE/contract.yaml" >&2; exit 2; }
source scripts/run-common.sh
start_dispatcher

"$BIN/mw" centre add --id nairobi --region KE --currency KES --floor-minor 15000 \
  --share-per-mille 200 --languages en,sw --capacity 100 --credential-out "$OUT/nairobi.cred" \
  >/dev/null
"$BIN/mw" centre add --id kampala --region UG --currency UGX --floor-minor 5000 \
  --share-per-mille 200 --languages en --capacity 100 --credential-out "$OUT/kampala.cred" \
  >/dev/null

# An example whose rows name media renders them first (once; they are not in the repository).
if [ -x "$EXAMPLE/make-media.sh" ]; then
  say "$NAME: making its media"
  "$EXAMPLE/make-media.sh"
fi
say "$NAME: the plan"
"$BIN/mw" contract check "$EXAMPLE/contract.yaml"
say "$NAME: submitting, and two centres of five simulated workers"
"$BIN/mw" contract submit "$EXAMPLE/contract.yaml"
for c in nairobi:en,sw kampala:en; do
  langs="${c#*:}" c="${c%%:*}"
  "$BIN/mw-agent" --dispatcher "$MW_SERVER" --credential-file "$OUT/$c.cred" \
    --data-dir "$OUT/agent-$c" --sim-workers 5 --sim-accuracy 0.9 --sim-languages "$langs" \
    --sim-truth "$EXAMPLE/truth.csv" --sim-time-scale 0.01 --sim-seed 7 \
    >"$OUT/agent-$c.log" 2>&1 &
  pids+=($!)
done
# A job no centre can serve would wait for ever: give up after ten minutes.
timeout 600 "$BIN/mw" job watch job-1 --every 3600

say "$NAME: results"
"$BIN/mw" results export job-1 --format csv --out "$OUT/results.csv"
"$BIN/mw" results export job-1 --format jsonl --out "$OUT/results.jsonl"
# Every worker's own answer, beside the verdicts made from them.
"$BIN/mw" results answers job-1 --format jsonl --out "$OUT/answers.jsonl"
head -n 4 "$OUT/results.csv"
# A contract with a spans stage: its entities as CoNLL-2003 and Label Studio JSON too.
if grep -q "spans:" "$EXAMPLE/contract.yaml"; then
  "$BIN/mw" results export job-1 --format conll --out "$OUT/results.conll"
  "$BIN/mw" results export job-1 --format label-studio --out "$OUT/results.label-studio.json"
  head -n 8 "$OUT/results.conll"
fi
# A contract with a shapes stage: its boxes as COCO, YOLO and Label Studio JSON, and the photos
# left for a person to decide.
if grep -q "shapes:" "$EXAMPLE/contract.yaml"; then
  "$BIN/mw" results export job-1 --format coco --out "$OUT/results.coco.json"
  # Each shapes stage's own COCO file when there are several; YOLO holds boxes only.
  for stage in $(sed -n 's/^  - name: \([a-z0-9_-]*\)$/\1/p' "$EXAMPLE/contract.yaml"); do
    if ! said=$("$BIN/mw" results export job-1 --format coco --stage "$stage" \
      --out "$OUT/results.$stage.coco.json" 2>&1); then
      case "$said" in *"is no shapes stage"*) ;; *) echo "$said" >&2; exit 1 ;; esac
    fi
  done
  rm -rf "$OUT/yolo"
  if grep -q "SHAPE_BOX" "$EXAMPLE/contract.yaml"; then
    "$BIN/mw" results export job-1 --format yolo --out "$OUT/yolo"
  fi
  "$BIN/mw" results export job-1 --format label-studio --out "$OUT/results.label-studio.json"
  "$BIN/mw" review list --job job-1 | tee "$OUT/review.txt"
fi
# What else the example shows, while the dispatcher is up (its after.sh, with BIN and OUT).
if [ -x "$EXAMPLE/after.sh" ]; then
  BIN="$BIN" OUT="$OUT" "$EXAMPLE/after.sh"
fi
say "$NAME: pay"
"$BIN/mw" invoice --job job-1
"$BIN/mw" ledger verify
