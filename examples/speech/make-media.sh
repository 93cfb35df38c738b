#!/usr/bin/env bash
# Speaks each sentence of truth.csv with espeak-ng (Debian: espeak-ng) into FOLDER/<clip_id>.wav:
# the short clips the workers of this example transcribe.
#
#   examples/speech/make-media.sh [FOLDER]      (default: examples/speech/clips)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/clips}"
mkdir -p "$out"
command -v espeak-ng >/dev/null || { echo "make-media: espeak-ng is missing (apt-get install espeak-ng)" >&2; exit 1; }
voices=(en en-us en-gb-x-rp)
n=0
while IFS=, read -r id sentence; do
  [ "$id" = clip_id ] && continue
  n=$((n + 1))
  [ -f "$out/$id.wav" ] && continue
  # A few voices and speeds, as a centre's clips come from many speakers.
  espeak-ng -v "${voices[$((n % 3))]}" -s $((130 + (n % 4) * 10)) -w "$out/$id.wav" -- "$sentence"
done <"$here/truth.csv"
