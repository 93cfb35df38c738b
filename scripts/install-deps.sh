#!/usr/bin/env bash
# Installs the Debian packages microwork builds and tests with. Idempotent: when everything is
# present it prints nothing and exits 0. Uses sudo when not run as root.
set -euo pipefail

packages=(
  cmake ninja-build g++ make pkg-config clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libabsl-dev prometheus-cpp-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcpp-httplib-dev
  libargon2-dev libjemalloc-dev libvips-dev libvips-tools libsndfile1-dev espeak-ng libarchive-dev
  libcurl4-openssl-dev
  clang libclang-rt-14-dev
  prometheus python3-yaml openssl
  python3-grpcio python3-protobuf python3-pandas python3-tqdm python3-pytest python3-venv
  python3-setuptools python3-wheel
  chromium nodejs
  dpkg-dev fakeroot lintian
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi

# The browser test's driver (Playwright's core, which uses Debian's chromium; no browser download),
# at the versions package-lock.json pins.
browser_dir="$(dirname "$0")/../tests/browser"
if [[ ! -d "$browser_dir/node_modules/playwright-core" ]]; then
  command -v npm >/dev/null || { echo "install-deps: npm is missing (it comes with nodejs)" >&2; exit 1; }
  echo "install-deps: npm ci in tests/browser"
  (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi
