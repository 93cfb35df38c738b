#!/usr/bin/env bash
# Renders each receipt of receipts.csv as a scanned photo, with what is really printed on it
# (truth.csv's fix replaces the field the scanner misread), into FOLDER/<receipt_id>.jpg: the
# photos the workers of this example read. Uses libvips's command line (Debian: libvips-tools).
#
#   examples/receipts/make-media.sh [FOLDER]      (default: examples/receipts/scans)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/scans}"
mkdir -p "$out"
command -v vips >/dev/null || { echo "make-media: vips is missing (apt-get install libvips-tools)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
declare -A field fix
while IFS=, read -r id f value; do
  [ "$id" = receipt_id ] && continue
  field[$id]="$f"
  fix[$id]="$value"
done <"$here/truth.csv"
while IFS=, read -r id merchant date total photo; do
  [ "$id" = receipt_id ] && continue
  [ -f "$out/$photo" ] && continue
  case "${field[$id]-}" in
    merchant) merchant="${fix[$id]}" ;;
    date) date="${fix[$id]}" ;;
    total) total="${fix[$id]}" ;;
  esac
  # Upper case first, then the characters Pango's markup reserves.
  merchant="${merchant^^}"
  merchant="${merchant//&/&amp;}"
  merchant="${merchant//</&lt;}"
  merchant="${merchant//>/&gt;}"
  vips text "$tmp/text.png" "<b>${merchant}</b>
P.O. Box 4471, Nairobi
Receipt ${id}
Date: ${date}
- - - - - - - - - - - - - -
<b>TOTAL KES ${total}</b>
Thank you, karibu tena" --font "DejaVu Sans Mono 14" --dpi 150 --align centre
  vips invert "$tmp/text.png" "$tmp/ink.png"
  width=$(vipsheader -f width "$tmp/ink.png")
  height=$(vipsheader -f height "$tmp/ink.png")
  vips embed "$tmp/ink.png" "$tmp/paper.png" 60 80 $((width + 120)) $((height + 160)) --extend white
  vips copy "$tmp/paper.png" "$out/$photo[Q=85]"
done <"$here/receipts.csv"
