#!/usr/bin/env bash
# Proves deploy/check.py can fail: a copy of the repository's deploy files with one selector
# one dashboard query and one region's agent address broken must be rejected, naming each.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/dispatcher" "$tmp/worker-agent"
cp -r "$root/deploy" "$tmp/deploy"
cp "$root/dispatcher/metrics.cc" "$tmp/dispatcher/"
cp "$root/worker-agent/metrics.cc" "$tmp/worker-agent/"
mkdir -p "$tmp/cmake"
cp "$root/CMakeLists.txt" "$tmp/" && cp "$root/cmake/Packaging.cmake" "$tmp/cmake/"
sed -i 's|command: \["/usr/bin/mw-agent"\]|command: ["/usr/bin/mw-agnet"]|' "$tmp/deploy/k8s/shard/agent.yaml"
sed -i 's/matchLabels: {app.kubernetes.io\/name: mw-agent}/matchLabels: {app.kubernetes.io\/name: mw-agnet}/' \
  "$tmp/deploy/k8s/shard/agent.yaml"
sed -i 's/mw_review_queue_depth/mw_review_queue_size/' "$tmp/deploy/grafana/microwork-dashboard.json"
sed -i 's/mw-dispatcher-ke.microwork/mw-dispatcher-in.microwork/' \
  "$tmp/deploy/k8s/regions/ke/agent-config.yaml"
if out="$(/usr/bin/python3 "$root/deploy/check.py" "$tmp")"; then
  echo "deploy/check.py accepted broken manifests:"; echo "$out"; exit 1
fi
grep -q "StatefulSet/mw-agent: selector app.kubernetes.io/name=mw-agnet" <<<"$out"
grep -q "mw_review_queue_size is not exported" <<<"$out"
grep -q "command /usr/bin/mw-agnet is not a binary the package installs" <<<"$out"
if command -v kubectl >/dev/null; then  # the regions are checked on kubectl's rendering
  grep -q "mw-agent-config-ke: the agent does not talk to its shard's dispatcher" <<<"$out"
fi
echo "deploy/check.py rejected the broken copy, naming every problem"
