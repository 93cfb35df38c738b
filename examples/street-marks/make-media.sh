#!/usr/bin/env bash
# Renders the street photos this example's workers mark, the same as examples/vehicles' (from its
# truth.csv's boxes), into FOLDER (default: examples/street-marks/streets).
#
#   examples/street-marks/make-media.sh [FOLDER]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec python3 "$here/../vehicles/streets.py" "${1:-$here/streets}"
