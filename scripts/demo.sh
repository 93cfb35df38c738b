#!/usr/bin/env bash
# The demo: a client contract of 300 product reviews is split into tasks, handed to two delivery
# centres (Nairobi and Kampala) where five simulated workers each do them, verified by majority
# vote over three answers, merged into one file, and paid through the ledger. Real binaries,
# real gRPC on loopback, state in RocksDB under out/demo/.
#
#   scripts/demo.sh [BUILD_DIR]        (make demo runs it after building)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-build}/bin"
OUT="out/demo"
source scripts/run-common.sh

say "Starting the dispatcher (state in $OUT/dispatcher)"
start_dispatcher
echo "dispatcher on $MW_SERVER, metrics on http://$METRICS/metrics"

say "Registering two delivery centres: local currency, hourly wage floor, and the share of each wage they keep"
"$BIN/mw" centre add --id nairobi --region KE --currency KES --floor-minor 15000 \
  --share-per-mille 200 --languages en,sw --capacity 100 --credential-out "$OUT/nairobi.cred"
"$BIN/mw" centre add --id kampala --region UG --currency UGX --floor-minor 5000 \
  --share-per-mille 200 --languages en --capacity 100 --credential-out "$OUT/kampala.cred"

say "The plan (a dry run: nothing is submitted)"
"$BIN/mw" contract check examples/demo/contract.yaml

say "Submitting the contract"
"$BIN/mw" contract submit examples/demo/contract.yaml

say "Starting the centres' agents: 5 simulated workers each, right 85% of the time"
for c in nairobi kampala; do
  "$BIN/mw-agent" --dispatcher "$MW_SERVER" --credential-file "$OUT/$c.cred" \
    --data-dir "$OUT/agent-$c" --sim-workers 5 --sim-accuracy 0.85 \
    --sim-truth examples/demo/truth.csv --sim-time-scale 0.02 --sim-seed 7 \
    >"$OUT/agent-$c.log" 2>&1 &
  pids+=($!)
done

say "Progress (a 20-second task takes 0.4 s here)"
"$BIN/mw" job watch job-1 --every 4

say "Exporting the merged results"
"$BIN/mw" results export job-1 --format csv --out "$OUT/results.csv"
"$BIN/mw" results export job-1 --format jsonl --out "$OUT/results.jsonl"
right=$(awk -F, 'NR==FNR { if (FNR > 1) truth[$1] = $2; next }
                 FNR > 1 { n++; if (truth[$1] == $(NF-5)) ok++ }
                 END { printf "%d of %d", ok, n }' examples/demo/truth.csv "$OUT/results.csv")
echo "Majority vote over three answers (85% each) matches the hidden truth on $right reviews."

say "Pay statements"
"$BIN/mw" statement --centre nairobi
"$BIN/mw" statement --centre kampala

say "Paying Nairobi's workers: top-ups to the floor on measured time, then a bank file"
"$BIN/mw" payout create --centre nairobi --key demo-payout-1
"$BIN/mw" payout approve payout-nairobi-1
"$BIN/mw" payout export payout-nairobi-1 --out "$OUT/payout-nairobi.csv"

say "The client's invoice, recomputed from the ledger alone"
"$BIN/mw" invoice --job job-1

say "Impact (aggregated; groups under five workers suppressed)"
"$BIN/mw" report impact

say "Ledger check"
"$BIN/mw" ledger verify

say "Done"
echo "Results:      $OUT/results.csv and $OUT/results.jsonl"
echo "Bank file:    $OUT/payout-nairobi.csv (pseudonyms; the centre maps them to people)"
echo "State:        $OUT/dispatcher (RocksDB), $OUT/agent-*/ (each centre's RocksDB)"
echo "Logs:         $OUT/*.log"
