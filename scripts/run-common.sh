# Sourced by demo.sh and run-example.sh: a fresh $OUT, background processes stopped on exit,
# and a dispatcher started on ports the OS picks. Needs BIN and OUT set.
rm -rf "$OUT"
mkdir -p "$OUT"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }

# Waits for a process to write its ready file (the OS picks the ports).
wait_ready() {
  for _ in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "$0: $2 did not start; see its log in $OUT" >&2; exit 1
}

# Starts mw-dispatcher with its state in $OUT/dispatcher; exports MW_SERVER and MW_TOKEN_FILE
# and sets METRICS to its metrics address.
start_dispatcher() {
  "$BIN/mw-dispatcher" --data-dir "$OUT/dispatcher" --listen 127.0.0.1:0 \
    --metrics-listen 127.0.0.1:0 --ready-file "$OUT/dispatcher.ready" >"$OUT/dispatcher.log" 2>&1 &
  pids+=($!)
  wait_ready "$OUT/dispatcher.ready" mw-dispatcher
  local grpc
  read -r grpc METRICS < "$OUT/dispatcher.ready"
  METRICS="${METRICS#metrics=}"
  export MW_SERVER="${grpc#grpc=}" MW_TOKEN_FILE="$OUT/dispatcher/operator.token"
}
