#!/usr/bin/env bash
# Renders the street photos this example's workers box vehicles on, from truth.csv's boxes,
# into FOLDER (default: examples/vehicles/streets). Debian's python3 only (streets.py).
#
#   examples/vehicles/make-media.sh [FOLDER]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec python3 "$here/streets.py" "${1:-$here/streets}"
