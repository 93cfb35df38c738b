#!/usr/bin/env bash
# Proves deploy/check.py can fail: a copy of the repository's deploy files with one selector
# and one dashboard query broken must be rejected, naming both.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/dispatcher" "$tmp/worker-agent"
cp -r "$root/deploy" "$tmp/deploy"
cp "$root/dispatcher/metrics.cc" "$tmp/dispatcher/"
cp "$root/worker-agent/metrics.cc" "$tmp/worker-agent/"
sed -i 's/matchLabels: {app.kubernetes.io\/name: mw-agent}/matchLabels: {app.kubernetes.io\/name: mw-agnet}/' \
  "$tmp/deploy/k8s/agent.yaml"
sed -i 's/mw_review_queue_depth/mw_review_queue_size/' "$tmp/deploy/grafana/microwork-dashboard.json"
if out="$(/usr/bin/python3 "$root/deploy/check.py" "$tmp")"; then
  echo "deploy/check.py accepted broken manifests:"; echo "$out"; exit 1
fi
grep -q "StatefulSet/mw-agent: selector app.kubernetes.io/name=mw-agnet" <<<"$out"
grep -q "mw_review_queue_size is not exported" <<<"$out"
echo "deploy/check.py rejected the broken copy, naming both problems"
